#!/usr/bin/env python3
"""PyTorch rows for the GPU table (docs/gpu.md): the benchmark workloads on CUDA.

W1 the guide's MLP 784-128-64-10 (batch 128), W2 the guide's CNN (batch 64,
NCHW as PyTorch wants), W3 a deep MLP 784-8x1024-10 (batch 256), and W4 the
compute-bound deep MLP at batch 4096 (f32 with TF32 matmuls allowed, and
bf16). Each row is a full training step (forward, cross-entropy, backward,
Adam), eager and under torch.compile; median milliseconds of timed steps
after warm-up, synchronised with the GPU.

    python3 scripts/gpu/torch_bench.py            # on the GPU machine
"""

import statistics
import sys
import time

import torch
import torch.nn as nn


def mlp(widths):
    layers = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    return nn.Sequential(*layers)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def flops_mlp(widths, batch):
    # forward 2*m*n*k per layer; backward twice that
    return 6 * batch * sum(a * b for a, b in zip(widths[:-1], widths[1:]))


WORKLOADS = [
    ("W1", lambda: mlp([784, 128, 64, 10]), (128, 784), None),
    ("W2", cnn, (64, 1, 28, 28), None),
    ("W3", lambda: mlp([784] + [1024] * 8 + [10]), (256, 784), flops_mlp([784] + [1024] * 8 + [10], 256)),
    ("W4", lambda: mlp([784] + [1024] * 8 + [10]), (4096, 784), flops_mlp([784] + [1024] * 8 + [10], 4096)),
]


def time_step(step, iters):
    for _ in range(5):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    for wid, make, shape, flops in WORKLOADS:
        for dtype in ([torch.float32, torch.bfloat16] if wid == "W4" else [torch.float32]):
            for compiled in (False, True):
                torch.manual_seed(0)
                model = make().to(dev, dtype)
                opt = torch.optim.Adam(model.parameters(), lr=1e-3)
                x = torch.randn(*shape, device=dev, dtype=dtype)
                y = torch.randint(0, 10, (shape[0],), device=dev)
                loss_fn = nn.CrossEntropyLoss()

                def step_eager():
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(model(x).float(), y)
                    loss.backward()
                    opt.step()
                    return loss

                step = torch.compile(step_eager) if compiled else step_eager
                try:
                    ms = time_step(step, 50 if wid != "W4" else 20)
                except Exception as e:  # torch.compile may be unavailable
                    print(f"ROW\t{wid}\ttorch {'compile' if compiled else 'eager'}\t{dtype}\tfailed: {e}", file=sys.stderr)
                    continue
                tflops = f"{flops / ms / 1e9:.1f}" if flops else "-"
                name = "torch.compile" if compiled else "torch eager"
                print(f"ROW\t{wid}\t{name}\t{str(dtype).replace('torch.', '')}\t{ms:.3f} ms\t{tflops} TFLOP/s")


if __name__ == "__main__":
    main()
