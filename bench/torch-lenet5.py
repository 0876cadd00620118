"""PyTorch reference for bench/wasm-lenet5.ts: LeNet-5 forward and SGD train throughput, 2 threads.

Same model, batch (128) and input size as the tfjs benchmark (NCHW, PyTorch's native layout).
Run: python3 bench/torch-lenet5.py [steps]
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
BATCH = 128


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
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


model = LeNet5()
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x = torch.randn(BATCH, 1, 28, 28)
y = torch.randint(0, 10, (BATCH,))

with torch.no_grad():
    for _ in range(2):
        model(x)
    start = time.perf_counter()
    for _ in range(STEPS):
        model(x)
    forward = STEPS * BATCH / (time.perf_counter() - start)

for _ in range(2):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
start = time.perf_counter()
for _ in range(STEPS):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
train = STEPS * BATCH / (time.perf_counter() - start)
print(f"torch {torch.__version__} threads=2 forward {forward:.0f} img/s train {train:.0f} img/s")
