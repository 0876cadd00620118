#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of src/barriers to test/fixtures/barriers-lenet5-*.

Run with the Debian PyTorch (CPU):  /usr/bin/python3 scripts/make-barrier-fixtures.py
Deterministic: torch.manual_seed per model and 2 threads. The tests never run python.

Two LeNet5 models (the architecture of src/models/lenet5.ts; PyTorch layout: conv OIHW, Linear
[out, in], flatten C·H·W) trained from seeds 1 and 2 for 3 epochs (SGD lr 0.05, momentum 0.9,
batch 64, each seed its own data order) on the first 4000 images of the full Fashion-MNIST
training set (/usr/share/datasets/fashion-mnist), inputs x/255. Then, on the first 500 test images
of the embedded subset data/fashion-mnist-small (t10k-*.gz, x/255):

  - the linear path θ(t) = θ_A + t·(θ_B − θ_A) at t = i/10, i = 0..10: mean cross-entropy
    (float64 sum of per-example losses / N) and accuracy;
  - single-layer interpolation at t = 0.5 for each layer (weight + bias), the others from A
    and, separately, from B.

Files:
  barriers-lenet5-a.safetensors, barriers-lenet5-b.safetensors   state dicts, written by hand
      (u64 LE header length | JSON header {name: {dtype, shape, data_offsets}} | raw LE float32)
  barriers-lenet5-expected.json   {images, ts, linear: [{t, loss, accuracy}], layers: [...]}
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'fixtures'))
from fixture_io import deterministic, fixture_dir, read_idx, write_json, write_safetensors  # noqa: E402

deterministic()
OUT = fixture_dir()
FMNIST = '/usr/share/datasets/fashion-mnist'
SMALL = os.path.join(HERE, '..', 'data', 'fashion-mnist-small')
TRAIN_IMAGES, TEST_IMAGES = 4000, 500
EPOCHS, BATCH, LR = 3, 64, 0.05


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def to_input(a):
    return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # N,1,28,28


def train(seed, xs, ys):
    torch.manual_seed(seed)
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    for epoch in range(EPOCHS):
        order = torch.randperm(xs.shape[0])
        for i in range(0, xs.shape[0], BATCH):
            idx = order[i:i + BATCH]
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f'seed {seed} epoch {epoch + 1}: last batch loss {loss.item():.4f}')
    return model.eval()


def evaluate(state, tx, ty):
    model = LeNet5().eval()
    model.load_state_dict(state)
    with torch.no_grad():
        logits = model(tx)
        loss = F.cross_entropy(logits.double(), ty, reduction='none').sum().item() / tx.shape[0]
        accuracy = (logits.argmax(1) == ty).double().mean().item()
    return {'loss': loss, 'accuracy': accuracy}


def main():
    xs = to_input(read_idx(f'{FMNIST}/train-images-idx3-ubyte.gz')[:TRAIN_IMAGES])
    ys = torch.from_numpy(read_idx(f'{FMNIST}/train-labels-idx1-ubyte.gz')[:TRAIN_IMAGES].astype(np.int64))
    tx = to_input(read_idx(f'{SMALL}/t10k-images-idx3-ubyte.gz')[:TEST_IMAGES])
    ty = torch.from_numpy(read_idx(f'{SMALL}/t10k-labels-idx1-ubyte.gz')[:TEST_IMAGES].astype(np.int64))
    a = train(1, xs, ys).state_dict()
    b = train(2, xs, ys).state_dict()
    write_safetensors(os.path.join(OUT, 'barriers-lenet5-a.safetensors'), a, {'format': 'pt'})
    write_safetensors(os.path.join(OUT, 'barriers-lenet5-b.safetensors'), b, {'format': 'pt'})

    ts = [i / 10 for i in range(11)]
    linear = []
    for t in ts:
        # θ_A + t·(θ_B − θ_A) in float32, as the toolkit computes it
        state = {k: a[k] + t * (b[k] - a[k]) if 0 < t < 1 else (a[k] if t == 0 else b[k]) for k in a}
        linear.append({'t': t, **evaluate(state, tx, ty)})
        print(f"t={t:.1f} loss {linear[-1]['loss']:.4f} accuracy {linear[-1]['accuracy']:.3f}")
    layers = []
    for layer in ['conv1', 'conv2', 'fc1', 'fc2', 'fc3']:
        for rest_name, rest in (('A', a), ('B', b)):
            state = {k: (a[k] + 0.5 * (b[k] - a[k]) if k.startswith(layer + '.') else rest[k]) for k in a}
            layers.append({'layer': layer, 'rest': rest_name, 't': 0.5, **evaluate(state, tx, ty)})
            print(f"{layer} rest {rest_name}: loss {layers[-1]['loss']:.4f} accuracy {layers[-1]['accuracy']:.3f}")
    expected = {
        'description': 'LeNet5 seeds 1 and 2, 3 epochs on 4000 Fashion-MNIST training images; '
                       'evaluated on the first 500 test images of data/fashion-mnist-small, x/255',
        'testImages': TEST_IMAGES,
        'linear': linear,
        'layers': layers,
    }
    write_json(os.path.join(OUT, 'barriers-lenet5-expected.json'), expected)


if __name__ == '__main__':
    main()
