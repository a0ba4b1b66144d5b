#!/usr/bin/env python3
"""PyTorch's side of scripts/bench-engine's training figure: samples/s of CPU eager training of
the cnn-small backbone with a fixed Hadamard head (x̂ = x/‖x‖, y = α·Ĥx̂ + b, α and b learned),
SGD with Nesterov momentum 0.9 and weight decay 5e-4, on Fashion-MNIST-shaped batches. Prints
`torch threads=T batch=B samples_per_second=S`."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def hadamard_rows(classes, features):
    """The first `classes` rows after the all-ones row of the Sylvester Hadamard matrix of order
    2^⌈log₂ N⌉, restricted to the first N columns (as FixServe's Hadamard head)."""
    order = 1
    while order < features:
        order *= 2
    h = torch.ones(1, 1)
    while h.shape[0] < order:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    return h[1:classes + 1, :features].contiguous()


class FixedHadamardNet(nn.Module):
    def __init__(self, classes=10, features=128):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64 * 7 * 7, features)
        self.register_buffer("h", hadamard_rows(classes, features))
        self.alpha = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(classes))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.fc(x.flatten(1)))
        x = x / (x.norm(dim=1, keepdim=True) + 1e-12)
        return self.alpha * x @ self.h.t() + self.bias


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = FixedHadamardNet()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    x = torch.randn(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        optimiser.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimiser.step()

    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(f"torch threads={args.threads} batch={args.batch} samples_per_second={args.steps * args.batch / seconds:.0f}",
          flush=True)


if __name__ == "__main__":
    main()
