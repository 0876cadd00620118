"""PyTorch side of `npm run bench`: the same models, batch sizes and steps as bench/bench.ts,
on 2 threads. Prints one JSON object per line: {"model", "mode", "imagesPerSecond", "batch"}.

Usage: /usr/bin/python3 bench/torch_bench.py SECONDS MODEL[,MODEL...]
The model definitions are the ones the PyTorch fixtures were made with (scripts/make-pytorch-fixtures.py).
TORCH_DEVICE=cuda runs them on the GPU (scripts/gpu-check.sh), synchronizing after every step so
the timings are of finished work; each line then also carries "device".
"""
import importlib.util
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('fixtures', os.path.join(HERE, '..', 'scripts', 'make-pytorch-fixtures.py'))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)

torch.set_num_threads(2)
torch.manual_seed(0)
DEVICE = torch.device(os.environ.get('TORCH_DEVICE', 'cpu'))


def sync():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()

# The same fields as the TypeScript preset cct_2_3x2_32 (src/models/cct.ts).
CCT_2 = {'inputSize': 32, 'inputChannels': 3, 'classes': 10, 'embeddingDim': 128, 'layers': 2, 'heads': 2,
         'mlpRatio': 1, 'convLayers': 2, 'kernelSize': 3, 'convChannels': 64}


def build(name):
    if name == 'lenet5':
        return fixtures.LeNet5(1, 10), (1, 28, 28)
    if name.startswith('resnet18-k'):
        return fixtures.ResNet18(float(name[len('resnet18-k'):]), 10), (3, 32, 32)
    if name == 'cct_2_3x2_32':
        return fixtures.CCT(CCT_2), (3, 32, 32)
    raise SystemExit(f'torch_bench: unknown model {name}')


def measure(fn, seconds, batch):
    fn()
    fn()
    sync()
    start = time.perf_counter()
    count = 0
    while True:
        fn()
        sync()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            return count * batch / elapsed


def bezier_curve_step(model, x, y):
    """One Bezier-curve training step with 3 bends, endpoints fixed (Garipov et al. 2018), as our
    trainCurve does it: t ~ U(0, 1), theta(t) = (1-t)^2 w0 + 2t(1-t) w1 + t^2 w2, loss = CE + wd/2 |theta(t)|^2,
    SGD with momentum on the bend w1 only."""
    from torch.nn.utils.stateless import functional_call
    names = [n for n, _ in model.named_parameters()]
    w0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    w2 = {n: p.detach() + 0.01 * torch.randn_like(p) for n, p in model.named_parameters()}
    w1 = {n: ((w0[n] + w2[n]) / 2).clone().requires_grad_(True) for n in names}
    opt = torch.optim.SGD(list(w1.values()), lr=0.015, momentum=0.9)

    def step():
        t = torch.rand(()).item()
        c0, c1, c2 = (1 - t) ** 2, 2 * t * (1 - t), t ** 2
        params = {n: c0 * w0[n] + c1 * w1[n] + c2 * w2[n] for n in names}
        opt.zero_grad()
        loss = F.cross_entropy(functional_call(model, params, (x,)), y) + 0.5 * 5e-4 * sum((p * p).sum() for p in params.values())
        loss.backward()
        opt.step()

    return step


def main():
    seconds = float(sys.argv[1])
    for entry in sys.argv[2].split(','):
        name, batch = entry.split(':')
        batch = int(batch)
        try:
            model, shape = build(name)
        except Exception as error:  # one broken model must not hide the others' numbers
            print(json.dumps({'model': name, 'error': repr(error)}), flush=True)
            continue
        model.to(DEVICE)
        x = torch.rand(batch, *shape, device=DEVICE)
        y = torch.randint(0, 10, (batch,), device=DEVICE)
        model.eval()

        def forward():
            with torch.no_grad():
                model(x)

        ips = measure(forward, seconds, batch)
        print(json.dumps({'model': name, 'mode': 'eval', 'imagesPerSecond': ips, 'batch': batch, 'device': DEVICE.type}), flush=True)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        ips = measure(step, seconds, batch)
        print(json.dumps({'model': name, 'mode': 'train', 'imagesPerSecond': ips, 'batch': batch, 'device': DEVICE.type}), flush=True)
        if name == 'lenet5':
            xc, yc = torch.rand(128, *shape, device=DEVICE), torch.randint(0, 10, (128,), device=DEVICE)
            ips = measure(bezier_curve_step(model, xc, yc), seconds, 128)
            print(json.dumps({'model': name, 'mode': 'curve', 'imagesPerSecond': ips, 'batch': 128, 'device': DEVICE.type}), flush=True)


main()
