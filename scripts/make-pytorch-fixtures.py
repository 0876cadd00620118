#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of src/checkpoint to test/fixtures/.

Run with the Debian PyTorch (CPU):  /usr/bin/python3 scripts/make-pytorch-fixtures.py [lenet5] [resnet18] [cct]
(no argument: all three). Deterministic: torch.manual_seed and 2 threads.

The fixtures are PyTorch state dicts in PyTorch names and layouts (conv OIHW, Linear [out, in]),
written as safetensors by hand (the Debian image has no `safetensors` package):
    u64 little-endian header length | JSON header {name: {dtype, shape, data_offsets}} | raw LE data
Input batches are stored NHWC (the layout our models take) in *-input.safetensors files; logits
and statistics in *-expected.json. The tests never run python: they read these files only.

  lenet5-pytorch.safetensors       LeNet5 trained 2 epochs on the full Fashion-MNIST training set
  lenet5-pytorch-expected.json     8 test images (uint8 pixels, x/255), their logits, and the
                                   loss/accuracy on the full 10k test set
  resnet18-torchvision.safetensors ResNet18 k=1/8, torchvision names (with num_batches_tracked)
  resnet18-expected.json           its eval-mode and train-mode logits, batch statistics of two BNs
  resnet18-cifar.safetensors       ResNet18 k=1/16, pytorch-cifar names (shortcut.*, linear) and a
                                   DataParallel `module.` prefix
  resnet18-cifar-expected.json     its logits and batch statistics
  resnet18-input.safetensors       input batch [4, 32, 32, 3] NHWC, shared by both
  cct-pytorch.safetensors          tiny CCT (SHI-Labs/Compact-Transformers names), random init
  cct-input.safetensors            input batch NHWC
  cct-expected.json                eval-mode logits
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures'))
import fixture_io  # noqa: E402
from fixture_io import deterministic, fixture_dir, read_idx, rows, write_json, write_nhwc_input, write_safetensors  # noqa: E402

deterministic()
OUT = fixture_dir()
FMNIST = '/usr/share/datasets/fashion-mnist'


# ---------------------------------------------------------------------------------------------
# LeNet5 on Fashion-MNIST
# ---------------------------------------------------------------------------------------------

class LeNet5(nn.Module):
    """conv1 5x5 pad 2 → ReLU → maxpool 2 → conv2 5x5 valid → ReLU → maxpool 2 → flatten (C·H·W)
    → fc1 400→120 → ReLU → fc2 120→84 → ReLU → fc3 84→10."""

    def __init__(self, channels=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def make_lenet5():
    torch.manual_seed(0)
    train_x = read_idx(f'{FMNIST}/train-images-idx3-ubyte.gz')
    train_y = read_idx(f'{FMNIST}/train-labels-idx1-ubyte.gz')
    test_x = read_idx(f'{FMNIST}/t10k-images-idx3-ubyte.gz')
    test_y = read_idx(f'{FMNIST}/t10k-labels-idx1-ubyte.gz')
    to_input = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)  # N,1,28,28
    xs, ys = to_input(train_x), torch.from_numpy(train_y.astype(np.int64))
    model = LeNet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    epochs, batch = 2, 128
    for epoch in range(epochs):
        order = torch.randperm(xs.shape[0])
        for i in range(0, xs.shape[0], batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f'lenet5 epoch {epoch + 1}: last batch loss {loss.item():.4f}')
    model.eval()
    tx, ty = to_input(test_x), torch.from_numpy(test_y.astype(np.int64))
    with torch.no_grad():
        logits = torch.cat([model(tx[i:i + 1000]) for i in range(0, tx.shape[0], 1000)])
        # float64 sum of per-example losses, so the mean is not the order-dependent float32 one
        per_example = F.cross_entropy(logits.double(), ty, reduction='none')
        test_loss = per_example.sum().item() / tx.shape[0]
        test_acc = (logits.argmax(1) == ty).double().mean().item()
    print(f'lenet5 test loss {test_loss:.6f} accuracy {test_acc:.4f}')
    indices = [0, 1, 2, 3, 42, 1234, 5000, 9999]
    with torch.no_grad():
        sample_logits = model(tx[indices])
    write_safetensors(os.path.join(OUT, 'lenet5-pytorch.safetensors'), model.state_dict(), {'format': 'pt'})
    write_json(os.path.join(OUT, 'lenet5-pytorch-expected.json'), {
        'description': 'LeNet5 (PyTorch, conv1 pad 2) trained 2 epochs (SGD lr 0.05 momentum 0.9, batch 128, '
                       'seed 0) on the Fashion-MNIST training set; inputs are pixels/255.',
        'torch': torch.__version__,
        'test': {'count': int(tx.shape[0]), 'loss': test_loss, 'accuracy': test_acc},
        'samples': {
            'indices': indices,
            'labels': [int(test_y[i]) for i in indices],
            'shape': [len(indices), 28, 28, 1],
            'pixels': [[int(v) for v in test_x[i].reshape(-1)] for i in indices],
            'logits': rows(sample_logits),
        },
    })


# ---------------------------------------------------------------------------------------------
# ResNet18, CIFAR style, width multiplier k
# ---------------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision names; CIFAR stem (3x3 stride 1, no maxpool); widths round(64k), …, round(512k)."""

    def __init__(self, k=0.125, classes=10):
        super().__init__()
        w = [round(64 * k * m) for m in (1, 2, 4, 8)]
        self.conv1 = nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w[0])
        cin = w[0]
        for i, (c, s) in enumerate(zip(w, (1, 2, 2, 2))):
            setattr(self, f'layer{i + 1}', nn.Sequential(BasicBlock(cin, c, s), BasicBlock(c, c, 1)))
            cin = c
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def train_resnet18(k, seed, x):
    """Random init with random BN affine parameters, 20 SGD steps on random data; returns the
    state dict (before any evaluation), eval-mode and train-mode logits on x, and the batch
    statistics of two BatchNorms in the train-mode pass."""
    torch.manual_seed(seed)
    model = ResNet18(k, 10)
    fixture_io.random_bn_affine(model)
    loss = fixture_io.sgd_on_random_batches(model, steps=20)
    print(f'resnet18 k={k}: last training loss {loss.item():.4f}')
    state, eval_logits, train_logits, captured = fixture_io.logits_and_double_stats(model, x, ['bn1', 'layer4.1.bn2'])
    return state, {
        'torch': torch.__version__,
        'config': {'width': k, 'classes': 10},
        'evalLogits': rows(eval_logits),
        'trainLogits': rows(train_logits),
        'batchStats': captured,
    }


def make_resnet18():
    torch.manual_seed(1)
    x = torch.randn(4, 3, 32, 32) * 1.5 + 0.3
    write_nhwc_input(os.path.join(OUT, 'resnet18-input.safetensors'), x)

    state, expected = train_resnet18(0.125, 1, x)
    write_safetensors(os.path.join(OUT, 'resnet18-torchvision.safetensors'), state, {'format': 'pt'})
    write_json(os.path.join(OUT, 'resnet18-expected.json'), {
        'description': 'ResNet18 k=1/8 (widths 8,16,32,64), 10 classes, torchvision names; random init with random BN '
                       'affine parameters, 20 SGD steps on random data (seed 1). Input: resnet18-input.safetensors.',
        **expected,
    })

    # A second, narrower network in kuangliu/pytorch-cifar names, saved from DataParallel.
    state, expected = train_resnet18(0.0625, 3, x)
    cifar = {}
    for name, t in state.items():
        cifar_name = name.replace('downsample.', 'shortcut.')
        if cifar_name.startswith('fc.'):
            cifar_name = 'linear.' + cifar_name[3:]
        cifar['module.' + cifar_name] = t
    write_safetensors(os.path.join(OUT, 'resnet18-cifar.safetensors'), cifar, {'format': 'pt'})
    write_json(os.path.join(OUT, 'resnet18-cifar-expected.json'), {
        'description': 'ResNet18 k=1/16 (widths 4,8,16,32), 10 classes, pytorch-cifar names (shortcut.*, linear) with a '
                       'DataParallel module. prefix; random init with random BN affine parameters, 20 SGD steps on '
                       'random data (seed 3). Input: resnet18-input.safetensors.',
        **expected,
    })


# ---------------------------------------------------------------------------------------------
# CCT (SHI-Labs/Compact-Transformers), tiny
# ---------------------------------------------------------------------------------------------

class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class TransformerEncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward):
        super().__init__()
        self.pre_norm = nn.LayerNorm(d_model)
        self.self_attn = Attention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.norm1 = nn.LayerNorm(d_model)
        self.linear2 = nn.Linear(dim_feedforward, d_model)

    def forward(self, src):
        src = src + self.self_attn(self.pre_norm(src))
        src = self.norm1(src)
        src2 = self.linear2(F.gelu(self.linear1(src)))
        return src + src2


class Tokenizer(nn.Module):
    def __init__(self, cin, dim, n_conv, kernel, stride, padding, in_planes):
        super().__init__()
        filters = [cin] + [in_planes] * (n_conv - 1) + [dim]
        self.conv_layers = nn.Sequential(*[nn.Sequential(
            nn.Conv2d(filters[i], filters[i + 1], kernel, stride, padding, bias=False),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        ) for i in range(n_conv)])

    def forward(self, x):
        return self.conv_layers(x).flatten(2, 3).transpose(-2, -1)


class Classifier(nn.Module):
    def __init__(self, dim, layers, heads, mlp_ratio, classes, seq_len):
        super().__init__()
        self.attention_pool = nn.Linear(dim, 1)
        self.positional_emb = nn.Parameter(torch.zeros(1, seq_len, dim))
        nn.init.trunc_normal_(self.positional_emb, std=0.2)
        self.blocks = nn.ModuleList([TransformerEncoderLayer(dim, heads, int(dim * mlp_ratio)) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        x = x + self.positional_emb
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = torch.matmul(F.softmax(self.attention_pool(x), dim=1).transpose(-1, -2), x).squeeze(-2)
        return self.fc(x)


class CCT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        # stride and padding as the reference's _cct derives them from the kernel size
        stride = max(1, cfg['kernelSize'] // 2 - 1)
        padding = max(1, cfg['kernelSize'] // 2)
        self.tokenizer = Tokenizer(cfg['inputChannels'], cfg['embeddingDim'], cfg['convLayers'], cfg['kernelSize'],
                                   stride, padding, cfg['convChannels'])
        size = cfg['inputSize']
        for _ in range(cfg['convLayers']):
            size = (size + 2 * padding - cfg['kernelSize']) // stride + 1  # conv
            size = (size + 2 - 3) // 2 + 1  # maxpool 3, stride 2, pad 1
        self.classifier = Classifier(cfg['embeddingDim'], cfg['layers'], cfg['heads'], cfg['mlpRatio'],
                                     cfg['classes'], size * size)

    def forward(self, x):
        return self.classifier(self.tokenizer(x))


# Field names as in src/models/cct.ts (CctConfig).
CCT_CONFIG = {'inputSize': 32, 'inputChannels': 3, 'classes': 10, 'embeddingDim': 32, 'layers': 2, 'heads': 2,
              'mlpRatio': 2, 'convLayers': 2, 'kernelSize': 3, 'convChannels': 16}


def make_cct():
    torch.manual_seed(2)
    model = CCT(CCT_CONFIG)
    with torch.no_grad():
        # Non-trivial LayerNorm affine parameters and biases, so that their placement is tested.
        for name, p in model.named_parameters():
            if 'norm' in name or name.endswith('.bias'):
                p.add_(torch.randn_like(p) * 0.2)
    model.eval()
    x = torch.randn(3, CCT_CONFIG['inputChannels'], CCT_CONFIG['inputSize'], CCT_CONFIG['inputSize'])
    with torch.no_grad():
        logits = model(x)
    write_safetensors(os.path.join(OUT, 'cct-pytorch.safetensors'), model.state_dict(), {'format': 'pt'})
    write_nhwc_input(os.path.join(OUT, 'cct-input.safetensors'), x)
    write_json(os.path.join(OUT, 'cct-expected.json'), {
        'description': 'Tiny CCT (Compact-Transformers structure: conv tokenizer without bias, ReLU, maxpool 3/2/1; '
                       'pre-norm attention, post-attention norm1, exact GELU MLP; sequence pooling), random init '
                       '(seed 2) with perturbed norms and biases. Input: cct-input.safetensors.',
        'torch': torch.__version__,
        'config': CCT_CONFIG,
        'evalLogits': rows(logits),
    })


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    parts = sys.argv[1:] or ['lenet5', 'resnet18', 'cct']
    for part in parts:
        {'lenet5': make_lenet5, 'resnet18': make_resnet18, 'cct': make_cct}[part]()
