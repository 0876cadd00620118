"""PyTorch side of `npm run bench`: the same models, batch sizes and steps as bench/bench.ts,
written the way a researcher would write the fastest plain PyTorch loop (data preloaded as
tensors, default torch.backends, no DataLoader workers), measured on 1 and on 2 threads.

Prints one JSON object per line:
  {"kind": "env", ...}                                     torch version, threads, BLAS, OPENBLAS variables
  {"model", "mode", "threads", "imagesPerSecond", "batch"} one per model, mode and thread count
  {"model", "mode": "epoch"|"curve-e2e", "threads", "seconds", ...}  end-to-end workloads
Every measurement line also carries "run" (0-based repeat), "otherCores" (CPU used by every other
process on the machine during the measurement, in cores: /proc/stat busy jiffies minus this
process's own CPU time, over the wall time) and "loadAverage" (1-minute, at the end).

Usage: /usr/bin/python3 bench/torch_bench.py SECONDS MODEL:BATCH[,MODEL:BATCH...] [--threads 1,2]
                                             [--workloads steps,curve-step,epoch,curve-e2e,resnet-epoch]
                                             [--repeat N] [--e2e-threads 1,2] [--configs JSON]
  steps       eval and train steps of every model (random inputs)
  curve-step  one LeNet5 Bezier-curve step written as Garipov et al.'s curves.py writes it
  epoch       one LeNet5 training epoch over the full Fashion-MNIST training set (60,000 images)
  curve-e2e   Garipov-style Bezier training, 4 epochs on the full set, then 61 points on the test set
  resnet-epoch  one ResNet18 k=1/4 epoch over the first 5,120 Fashion-MNIST training images padded
              to 32x32x3 (`modeconn train`'s recipe: batch 128, SGD momentum 0.9, wd 5e-4)
--scale F (smoke runs only) shrinks the end-to-end workloads: the first F of the training and test
images (and F of the 5,120 ResNet images), the same epochs and points.
--repeat N runs every measurement N times (one line each); --e2e-threads (default: --threads) the
thread counts of the end-to-end workloads.
The env line says which BLAS library is loaded at run time ("blasLoaded", "blasKind": openblas,
reference, mkl, blis, unknown), read from /proc/self/maps after a matrix product, and where the
libblas.so.3 alternative points ("blasAlternative"). Debian's python3-torch links libblas.so.3,
which is the slow reference BLAS unless libopenblas0-pthread is installed (bench/setup.sh).
The model definitions are the ones the PyTorch fixtures were made with: LeNet5, ResNet18 and CCT from
scripts/make-pytorch-fixtures.py; the issue 14 families (bench.ts's family rows) from
scripts/fixtures/make-<family>-fixtures.py, built from the same architecture and config as ours:
--configs '{"vgg16": {"architecture": "vgg", "config": {"depth": 16, "width": 0.25}}, ...}' names
them (FAMILY_BUILDERS maps each config to its module's constructor; an unknown field is an error).
Every step line carries "parameters" (the trainable element count), which bench.ts compares
with ours to prove both sides built the same network.
TORCH_DEVICE=cuda runs the step workloads on the GPU (scripts/gpu-check.sh), synchronizing after
every step so the timings are of finished work; each line then also carries "device".
"""
import argparse
import gzip
import importlib.util
import json
import os
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('fixtures', os.path.join(HERE, '..', 'scripts', 'make-pytorch-fixtures.py'))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)
FMNIST = '/usr/share/datasets/fashion-mnist'
DEVICE = torch.device(os.environ.get('TORCH_DEVICE', 'cpu'))


def sync():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()

# The same fields as the TypeScript preset cct_2_3x2_32 (src/models/cct.ts).
CCT_2 = {'inputSize': 32, 'inputChannels': 3, 'classes': 10, 'embeddingDim': 128, 'layers': 2, 'heads': 2,
         'mlpRatio': 1, 'convLayers': 2, 'kernelSize': 3, 'convChannels': 64}


FIXTURES = os.path.join(HERE, '..', 'scripts', 'fixtures')
FIXTURE_MODULES = {}


def fixture_module(family):
    """scripts/fixtures/make-<family>-fixtures.py as a module: its models, nothing written (main()
    only runs as a script). Importing one sets torch to 2 threads (fixture_io.deterministic()),
    so the caller's thread count is restored."""
    if family not in FIXTURE_MODULES:
        if FIXTURES not in sys.path:
            sys.path.insert(0, FIXTURES)
        threads = torch.get_num_threads()
        module_spec = importlib.util.spec_from_file_location(f'{family.replace("-", "_")}_fixtures', os.path.join(FIXTURES, f'make-{family}-fixtures.py'))
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        torch.set_num_threads(threads)
        FIXTURE_MODULES[family] = module
    return FIXTURE_MODULES[family]


def fields(architecture, config, allowed):
    """`config` with every field checked: a field the builder does not map would build another network."""
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise ValueError(f'{architecture} config: fields {unknown} have no PyTorch counterpart here; expected some of {sorted(allowed)}')
    if config.get('inputChannels', 3) != 3 or config.get('inputSize', 32) != 32 or config.get('classes', 10) != 10:
        raise ValueError(f'{architecture} config: the fixture modules take 3x32x32 inputs and 10 classes, found {config}')
    return config


INPUT = ('inputChannels', 'inputSize', 'classes')
# Our architecture name -> (config -> the fixture script's module at that config).
FAMILY_BUILDERS = {
    'vgg': lambda c: fixture_module('vgg').VGG(fields('vgg', c, ('depth', 'width') + INPUT).get('depth', 16), k=c.get('width', 1)),
    'mobilenetv2': lambda c: fixture_module('mobilenetv2').CifarMobileNetV2(k=fields('mobilenetv2', c, ('width',) + INPUT).get('width', 1)),
    'mobilenetv2-dfl': lambda c: fixture_module('mobilenetv2').DflMobileNetV2(k=fields('mobilenetv2-dfl', c, ('width',) + INPUT).get('width', 1)),
    'shufflenetv2': lambda c: fixture_module('shufflenetv2').ShuffleNetV2(fields('shufflenetv2', c, ('netSize', 'width') + INPUT).get('netSize', 1), k=c.get('width', 1)),
    'shufflenet': lambda c: fixture_module('shufflenet').ShuffleNet(10, scale_factor=fields('shufflenet', c, ('groups', 'scaleFactor') + INPUT).get('scaleFactor', 1), g=c.get('groups', 1)),
    'regnet': lambda c: fixture_module('regnet').RegNet(fields('regnet', c, ('variant', 'width') + INPUT).get('variant', 'x200mf'), k=c.get('width', 1)),
    'efficientnet-b0': lambda c: fixture_module('efficientnet').EfficientNetB0(k=fields('efficientnet-b0', c, ('width', 'dropoutRate') + INPUT).get('width', 1), dropout_rate=c.get('dropoutRate', 0.2)),
    'dla': lambda c: fixture_module('dla').DLA(k=fields('dla', c, ('variant', 'width') + INPUT).get('width', 1), simple=c.get('variant', 'dla') == 'simple'),
}


def build(name, configs=None):
    """The PyTorch module and input shape (C, H, W) of bench model `name`: a --configs entry, or a built-in name."""
    if configs and name in configs:
        architecture, config = configs[name]['architecture'], configs[name].get('config', {})
        if architecture not in FAMILY_BUILDERS:
            raise ValueError(f'--configs {name}: no PyTorch builder for architecture {architecture}; expected one of {sorted(FAMILY_BUILDERS)}')
        return FAMILY_BUILDERS[architecture](config), (3, 32, 32)
    if name == 'lenet5':
        return fixtures.LeNet5(1, 10), (1, 28, 28)
    if name.startswith('resnet18-k'):
        return fixtures.ResNet18(float(name[len('resnet18-k'):]), 10), (3, 32, 32)
    if name == 'cct_2_3x2_32':
        return fixtures.CCT(CCT_2), (3, 32, 32)
    raise SystemExit(f'torch_bench: unknown model {name}')


RUN = {'index': 0}
LAST_WINDOW = {}


def emit(row, window=None):
    """One JSON line; a measurement row carries the repeat index and its load window (LAST_WINDOW: the last measure())."""
    if 'model' in row:
        row = {**row, 'device': DEVICE.type, 'run': RUN['index'], **(window.fields() if window is not None else LAST_WINDOW)}
    print(json.dumps(row), flush=True)


CLOCK_TICKS = os.sysconf('SC_CLK_TCK')


def busy_jiffies():
    """Busy jiffies of all CPUs since boot (/proc/stat: user nice system irq softirq steal)."""
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return user + nice + system + irq + softirq + steal


def own_cpu_seconds():
    """CPU time of this process, every thread (user + system)."""
    t = os.times()
    return t.user + t.system


class LoadWindow:
    """The CPU every other process used while a measurement ran, in cores (see the module doc)."""

    def __init__(self):
        self.wall = time.perf_counter()
        self.busy = busy_jiffies()
        self.own = own_cpu_seconds()

    def fields(self):
        wall = max(time.perf_counter() - self.wall, 1e-9)
        others = (busy_jiffies() - self.busy) / CLOCK_TICKS - (own_cpu_seconds() - self.own)
        return {'otherCores': max(0.0, others / wall), 'loadAverage': os.getloadavg()[0]}


def blas_in_use():
    """The BLAS libraries mapped into this process after a matrix product, and their kind."""
    a = torch.rand(64, 64)
    (a @ a).sum().item()
    with open('/proc/self/maps') as f:
        paths = sorted({line.split()[-1] for line in f if re.search(r'blas|mkl|blis|atlas', line.split()[-1] if len(line.split()) > 5 else '', re.I)})
    joined = ' '.join(paths).lower()
    kind = ('openblas' if 'openblas' in joined else 'mkl' if 'mkl' in joined else 'blis' if 'blis' in joined
            else 'atlas' if 'atlas' in joined else 'reference' if 'libblas' in joined else 'unknown')
    alternative = '/etc/alternatives/libblas.so.3-x86_64-linux-gnu'
    return {'blasLoaded': paths, 'blasKind': kind,
            'blasAlternative': os.path.realpath(alternative) if os.path.exists(alternative) else None}


def measure(fn, seconds, batch):
    fn()
    fn()
    sync()
    window = LoadWindow()
    start = time.perf_counter()
    count = 0
    while True:
        fn()
        sync()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            LAST_WINDOW.clear()
            LAST_WINDOW.update(window.fields())
            return count * batch / elapsed


def load_fashion_mnist(split):
    """The Debian package's IDX files as float tensors in [0, 1], NCHW, and int64 labels."""
    prefix = 'train' if split == 'train' else 't10k'
    with gzip.open(os.path.join(FMNIST, f'{prefix}-images-idx3-ubyte.gz')) as f:
        images = torch.frombuffer(bytearray(f.read()[16:]), dtype=torch.uint8)
    with gzip.open(os.path.join(FMNIST, f'{prefix}-labels-idx1-ubyte.gz')) as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8)
    return images.view(-1, 1, 28, 28).float().div_(255), labels.long()


class CurveLinearModule(nn.Module):
    """Garipov et al.'s curves.py pattern: each layer holds one weight per bend and blends them with
    the curve coefficients inside its forward; endpoints are frozen (fix_start/fix_end)."""

    def __init__(self, layer, ends, bends=3):
        super().__init__()
        self.kind = 'conv' if isinstance(layer, nn.Conv2d) else 'linear'
        self.stride, self.padding = (layer.stride, layer.padding) if self.kind == 'conv' else (None, None)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i in range(bends):
            w, b = ends[0] if i == 0 else ends[1] if i == bends - 1 else ((ends[0][0] + ends[1][0]) / 2, (ends[0][1] + ends[1][1]) / 2)
            trainable = 0 < i < bends - 1
            self.weights.append(nn.Parameter(w.clone(), requires_grad=trainable))
            self.biases.append(nn.Parameter(b.clone(), requires_grad=trainable))

    def forward(self, x, coeffs):
        w = sum(c * p for c, p in zip(coeffs, self.weights))
        b = sum(c * p for c, p in zip(coeffs, self.biases))
        self.l2 = (w * w).sum() + (b * b).sum()
        if self.kind == 'conv':
            return F.conv2d(x, w, b, self.stride, self.padding)
        return F.linear(x, w, b)


class CurveLeNet5(nn.Module):
    """LeNet5 (scripts/make-pytorch-fixtures.py) as a 3-bend Bezier curve between two networks."""

    def __init__(self, a, b):
        super().__init__()
        names = ['conv1', 'conv2', 'fc1', 'fc2', 'fc3']
        self.layers = nn.ModuleList(
            CurveLinearModule(getattr(a, n), ((getattr(a, n).weight.detach(), getattr(a, n).bias.detach()), (getattr(b, n).weight.detach(), getattr(b, n).bias.detach())))
            for n in names)

    def forward(self, x, t):
        coeffs = [(1 - t) ** 2, 2 * t * (1 - t), t ** 2]
        c1, c2, f1, f2, f3 = self.layers
        x = F.max_pool2d(F.relu(c1(x, coeffs)), 2)
        x = F.max_pool2d(F.relu(c2(x, coeffs)), 2)
        x = x.flatten(1)
        return f3(F.relu(f2(F.relu(f1(x, coeffs), coeffs), coeffs)), coeffs)

    def l2(self):
        return sum(layer.l2 for layer in self.layers)


def curve_step(curve, opt, x, y, wd=5e-4):
    t = float(torch.rand(()))
    opt.zero_grad()
    out = curve(x, t)
    loss = F.cross_entropy(out, y) + 0.5 * wd * curve.l2()
    loss.backward()
    opt.step()


def garipov_lr(base, epoch, epochs):
    """curves' learning-rate schedule: constant to 50%, linear to 1% at 90%, then 1%."""
    alpha = epoch / epochs
    factor = 1.0 if alpha <= 0.5 else 1.0 - (alpha - 0.5) / 0.4 * 0.99 if alpha <= 0.9 else 0.01
    return base * factor


def lenet5_pair():
    torch.manual_seed(1)
    a = fixtures.LeNet5(1, 10)
    torch.manual_seed(2)
    b = fixtures.LeNet5(1, 10)
    return a, b


def run_steps(models, seconds, threads, configs=None):
    for name, batch in models:
        try:
            model, shape = build(name, configs)
        except Exception as error:  # one broken model must not hide the others' numbers
            emit({'model': name, 'threads': threads, 'error': repr(error)})
            continue
        model.to(DEVICE)
        parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
        x = torch.rand(batch, *shape, device=DEVICE)
        y = torch.randint(0, 10, (batch,), device=DEVICE)
        model.eval()

        def forward():
            with torch.no_grad():
                model(x)

        emit({'model': name, 'mode': 'eval', 'threads': threads, 'imagesPerSecond': measure(forward, seconds, batch), 'batch': batch, 'parameters': parameters})
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        emit({'model': name, 'mode': 'train', 'threads': threads, 'imagesPerSecond': measure(step, seconds, batch), 'batch': batch, 'parameters': parameters})


def run_curve_step(seconds, threads):
    a, b = lenet5_pair()
    curve = CurveLeNet5(a, b).to(DEVICE)
    opt = torch.optim.SGD([p for p in curve.parameters() if p.requires_grad], lr=0.015, momentum=0.9)
    x, y = torch.rand(128, 1, 28, 28, device=DEVICE), torch.randint(0, 10, (128,), device=DEVICE)
    emit({'model': 'lenet5', 'mode': 'curve', 'threads': threads, 'imagesPerSecond': measure(lambda: curve_step(curve, opt, x, y), seconds, 128), 'batch': 128})


def run_epoch(threads, train):
    """One epoch of the toolkit's LeNet5 recipe (SGD momentum 0.9, wd 5e-4, batch 64) over 60,000 images."""
    x, y = train
    torch.manual_seed(0)
    model = fixtures.LeNet5(1, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4)
    window = LoadWindow()
    start = time.perf_counter()
    order = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], 64):
        idx = order[i:i + 64]
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    seconds = time.perf_counter() - start
    emit({'model': 'lenet5', 'mode': 'epoch', 'threads': threads, 'seconds': seconds, 'imagesPerSecond': x.shape[0] / seconds, 'batch': 64}, window)


def run_curve_e2e(threads, train, test, epochs=4, points=61):
    """`modeconn path curve A B --epochs 4` then `barrier linear --path … --points 61 --split test`,
    written as curves.py does it: batch 128, lr 0.015, momentum 0.9, wd 5e-4, Garipov schedule."""
    x, y = train
    xt, yt = test
    a, b = lenet5_pair()
    curve = CurveLeNet5(a, b)
    opt = torch.optim.SGD([p for p in curve.parameters() if p.requires_grad], lr=0.015, momentum=0.9)
    torch.manual_seed(0)
    window = LoadWindow()
    start = time.perf_counter()
    for epoch in range(epochs):
        for group in opt.param_groups:
            group['lr'] = garipov_lr(0.015, epoch, epochs)
        order = torch.randperm(x.shape[0])
        for i in range(0, x.shape[0], 128):
            idx = order[i:i + 128]
            curve_step(curve, opt, x[idx], y[idx])
    trained = time.perf_counter() - start
    with torch.no_grad():
        for k in range(points):
            t = k / (points - 1)
            for i in range(0, xt.shape[0], 1000):
                F.cross_entropy(curve(xt[i:i + 1000], t), yt[i:i + 1000], reduction='sum')
    seconds = time.perf_counter() - start
    emit({'model': 'lenet5', 'mode': 'curve-e2e', 'threads': threads, 'seconds': seconds, 'trainSeconds': trained, 'epochs': epochs, 'points': points}, window)


def pad_to_32x3(x):
    """28x28x1 in [0, 1] -> 32x32x3: 2 black pixels on each side, the grey channel repeated (padTo 32, channels 3)."""
    return F.pad(x, (2, 2, 2, 2)).repeat(1, 3, 1, 1)


def run_resnet_epoch(threads, train, images=5120, batch=128):
    """One epoch of `modeconn train --architecture resnet18 --width 0.25` on `images` Fashion-MNIST
    images padded to 32x32x3: batch 128, SGD lr 0.05 momentum 0.9 wd 5e-4, a plain loop."""
    x, y = train
    x, y = pad_to_32x3(x[:images]), y[:images]
    torch.manual_seed(0)
    model = fixtures.ResNet18(0.25, 10)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    window = LoadWindow()
    start = time.perf_counter()
    order = torch.randperm(images)
    for i in range(0, images, batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    seconds = time.perf_counter() - start
    emit({'model': 'resnet18-k0.25', 'mode': 'resnet-epoch', 'threads': threads, 'seconds': seconds, 'imagesPerSecond': images / seconds, 'batch': batch, 'images': images}, window)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('seconds', type=float)
    parser.add_argument('models')
    parser.add_argument('--threads', default='1,2')
    parser.add_argument('--workloads', default='steps,curve-step')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--e2e-threads', default=None)
    parser.add_argument('--scale', type=float, default=1.0)
    parser.add_argument('--configs', default=None, help='JSON: model id -> {"architecture", "config"} (the family rows)')
    args = parser.parse_args()
    configs = json.loads(args.configs) if args.configs else None
    models = [(m.split(':')[0], int(m.split(':')[1])) for m in args.models.split(',') if m]
    workloads = set(args.workloads.split(','))
    config = torch.__config__.show()
    blas = re.search(r'BLAS_INFO=([^,]+)', config)
    dnn = re.search(r'(?:oneDNN|MKL-DNN) v[\d.]+', config)
    emit({'kind': 'env', 'torch': torch.__version__, 'mkldnn': torch.backends.mkldnn.is_available(),
          'mkldnnVersion': dnn and dnn[0], 'blas': blas and blas[1],
          'openblasCoretype': os.environ.get('OPENBLAS_CORETYPE'), 'openblasL2': os.environ.get('OPENBLAS_L2_SIZE'),
          'openblasNumThreads': os.environ.get('OPENBLAS_NUM_THREADS'), **blas_in_use()})
    needs_data = workloads & {'epoch', 'curve-e2e', 'resnet-epoch'}
    train = load_fashion_mnist('train') if needs_data else None
    test = load_fashion_mnist('test') if 'curve-e2e' in workloads else None
    if train is not None and args.scale < 1:
        keep = max(128, int(train[0].shape[0] * args.scale))
        train = (train[0][:keep], train[1][:keep])
    if test is not None and args.scale < 1:
        keep = max(100, int(test[0].shape[0] * args.scale))
        test = (test[0][:keep], test[1][:keep])
    resnet_images = max(128, round(5120 * min(args.scale, 1.0)))
    step_threads = [int(n) for n in args.threads.split(',')]
    e2e_threads = step_threads if args.e2e_threads is None else [int(n) for n in args.e2e_threads.split(',')]
    for run in range(args.repeat):
        RUN['index'] = run
        for threads in step_threads:
            torch.set_num_threads(threads)
            torch.manual_seed(0)
            if 'steps' in workloads:
                run_steps(models, args.seconds, threads, configs)
            if 'curve-step' in workloads:
                run_curve_step(args.seconds, threads)
        for threads in e2e_threads:
            torch.set_num_threads(threads)
            torch.manual_seed(0)
            if 'epoch' in workloads:
                run_epoch(threads, train)
            if 'curve-e2e' in workloads:
                run_curve_e2e(threads, train, test)
            if 'resnet-epoch' in workloads:
                run_resnet_epoch(threads, train, images=resnet_images)


main()
