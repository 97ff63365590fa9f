#!/usr/bin/env python3
"""The comparison workloads in Python MLX (and PyTorch on CPU, when importable).

The same three f32 workloads as `cargo bench --bench compare`
(benches/compare.rs), timed the same way: warm-up, then the variants of a
workload interleaved in rounds; every iteration is a full training step
(forward, softmax cross-entropy, backward, Adam) or an inference forward,
followed by an evaluation of everything it produced (MLX: `mx.eval` on the
loss and the parameters, or the logits). The table shows the median and the
25th-75th percentiles of single iterations.

    python3 scripts/bench/python_bench.py                   # markdown rows
    python3 scripts/bench/python_bench.py --workloads W1,W2 --secs 4
    python3 scripts/bench/python_bench.py --serve           # timing rounds on request (compare.rs)

Python MLX runs the standard pattern: `nn.value_and_grad`, `optim.Adam`,
the step under `mx.compile(inputs=state, outputs=state)` with
`state = [model.state, optimizer.state]` (the optimizer initialised first).
The pip wheel `mlx-cpu` bundles netlib's reference BLAS; run
`scripts/bench/setup_python.sh` for a virtual environment whose copy points
at OpenBLAS, as the Rust build's does (this script warns when it does not).
"""

import argparse
import os
import statistics
import sys
import time
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim

ROUNDS = 8
WARMUP = 3

# ---------------------------------------------------------------------------
# Workloads: id, description (as in compare.rs), batch, input shape, layers
# for the FLOP count.


def dense(i, o):
    return ("dense", i, o)


def conv(h, w, cin, cout, k):
    return ("conv", h, w, cin, cout, k)


WORKLOADS = {
    "W1": dict(
        description="MLP 784-128-64-10, batch 128",
        batch=128,
        input=(784,),
        layers=[dense(784, 128), dense(128, 64), dense(64, 10)],
    ),
    "W2": dict(
        description="CNN (guide's), batch 64",
        batch=64,
        input=(28, 28, 1),
        layers=[
            conv(28, 28, 1, 16, 3),
            conv(14, 14, 16, 32, 3),
            dense(7 * 7 * 32, 64),
            dense(64, 10),
        ],
    ),
    "W3": dict(
        description="deep MLP 784-8x1024-10, batch 256",
        batch=256,
        input=(784,),
        layers=[dense(784, 1024)] + [dense(1024, 1024)] * 7 + [dense(1024, 10)],
    ),
}


def flops(layers, batch):
    """(forward, train step) FLOPs: matmuls and convolutions only; a train
    step is 3 x forward minus the first layer's (unneeded) input gradient."""

    def per_sample(layer):
        if layer[0] == "dense":
            return 2 * layer[1] * layer[2]
        _, h, w, cin, cout, k = layer
        return 2 * h * w * cout * k * k * cin

    per = [per_sample(l) for l in layers]
    forward = sum(per) * batch
    return forward, 3 * forward - per[0] * batch


# ---------------------------------------------------------------------------
# MLX models.


class MlxMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def __call__(self, x):
        return self.fc3(nn.relu(self.fc2(nn.relu(self.fc1(x)))))


class MlxCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(7 * 7 * 32, 64)
        self.fc2 = nn.Linear(64, 10)

    def __call__(self, x):
        x = self.pool(nn.relu(self.conv1(x)))
        x = self.pool(nn.relu(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.fc2(nn.relu(self.fc1(x)))


class MlxDeep(nn.Module):
    def __init__(self):
        super().__init__()
        self.h = [nn.Linear(784, 1024)] + [nn.Linear(1024, 1024) for _ in range(7)]
        self.out = nn.Linear(1024, 10)

    def __call__(self, x):
        for layer in self.h:
            x = nn.relu(layer(x))
        return self.out(x)


MLX_MODELS = {"W1": MlxMlp, "W2": MlxCnn, "W3": MlxDeep}


def mlx_data(w):
    key = mx.random.key(7)
    kx, ky = mx.random.split(key)
    x = mx.random.normal((w["batch"],) + w["input"], key=kx)
    y = mx.random.randint(0, 10, (w["batch"],), key=ky)
    mx.eval(x, y)
    return x, y


def mlx_variants(wid, w):
    """(pass, name, callable) for Python MLX, compiled and eager."""
    x, y = mlx_data(w)
    out = []
    for compiled in (True, False):
        mx.random.seed(42)
        model = MLX_MODELS[wid]()
        mx.eval(model.parameters())
        optimizer = optim.Adam(learning_rate=1e-3)
        optimizer.init(model.trainable_parameters())

        def loss_fn(model, x, y):
            return nn.losses.cross_entropy(model(x), y, reduction="mean")

        loss_and_grad = nn.value_and_grad(model, loss_fn)

        def step(x, y, model=model, optimizer=optimizer, loss_and_grad=loss_and_grad):
            loss, grads = loss_and_grad(model, x, y)
            optimizer.update(model, grads)
            return loss

        if compiled:
            state = [model.state, optimizer.state]
            step = partial(mx.compile, inputs=state, outputs=state)(step)

        def train(step=step, model=model):
            loss = step(x, y)
            mx.eval(loss, model.parameters())

        mx.random.seed(42)
        fmodel = MLX_MODELS[wid]()
        mx.eval(fmodel.parameters())

        def fwd(x, fmodel=fmodel):
            return fmodel(x)

        if compiled:
            fwd = partial(mx.compile, inputs=fmodel.state)(fwd)

        def forward(fwd=fwd):
            mx.eval(fwd(x))

        name = "python mlx compiled" if compiled else "python mlx eager"
        out.append(("train", name, train))
        out.append(("forward", name, forward))
    return out


# ---------------------------------------------------------------------------
# PyTorch (CPU), if importable.


def torch_variants(wid, w, torch_compile):
    import torch
    import torch.nn as tnn
    import torch.nn.functional as F

    torch.manual_seed(42)
    torch.set_num_threads(os.cpu_count() or 1)
    if wid == "W1":
        model = tnn.Sequential(
            tnn.Linear(784, 128), tnn.ReLU(), tnn.Linear(128, 64), tnn.ReLU(), tnn.Linear(64, 10)
        )
        x = torch.randn(w["batch"], 784)
    elif wid == "W2":
        # PyTorch's native layout, NCHW.
        model = tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(7 * 7 * 32, 64), tnn.ReLU(), tnn.Linear(64, 10),
        )
        x = torch.randn(w["batch"], 1, 28, 28)
    else:
        layers = [tnn.Linear(784, 1024), tnn.ReLU()]
        for _ in range(7):
            layers += [tnn.Linear(1024, 1024), tnn.ReLU()]
        layers.append(tnn.Linear(1024, 10))
        model = tnn.Sequential(*layers)
        x = torch.randn(w["batch"], 784)
    y = torch.randint(0, 10, (w["batch"],))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def eager_step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def train():
        eager_step().item()

    def forward():
        with torch.inference_mode():
            model(x)

    out = [("train", "pytorch eager", train), ("forward", "pytorch eager", forward)]
    if torch_compile:
        cmodel = torch.compile(model)

        def ctrain():
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(cmodel(x), y)
            loss.backward()
            optimizer.step()
            loss.item()

        def cforward():
            with torch.inference_mode():
                cmodel(x)

        out += [("train", "pytorch compile", ctrain), ("forward", "pytorch compile", cforward)]
    return out


# ---------------------------------------------------------------------------
# Timing. The same scheme as compare.rs: warm-up (WARMUP runs, the last one
# gives an estimate), then ROUNDS rounds; a variant's total iterations are
# about `secs` of work, clamped to 16..2000, spread evenly over the rounds,
# each round's share preceded by one untimed iteration.


def warm_up(variants):
    estimate = []
    for _, _, run in variants:
        t = 0.0
        for _ in range(WARMUP):
            start = time.perf_counter()
            run()
            t = time.perf_counter() - start
        estimate.append(t)
    return estimate


def one_round(variants, estimate, secs, rounds, r):
    """Round r of `rounds`: {(pass, name): [seconds]}."""
    times = {}
    for (p, n, run), t in zip(variants, estimate):
        total = min(2000, max(16, int(secs / max(t, 1e-6))))
        count = total // rounds + (1 if r < total % rounds else 0)
        ts = times.setdefault((p, n), [])
        # One untimed iteration first: coming from another model (or from
        # the Rust process), caches and worker threads are cold.
        run()
        for _ in range(count):
            start = time.perf_counter()
            run()
            ts.append(time.perf_counter() - start)
    return times


class Workload:
    """A workload's variants, warmed up. MLX and PyTorch variants are kept in
    separate groups and timed one group after the other within a round."""

    def __init__(self, wid, use_mlx, have_torch, torch_compile):
        w = WORKLOADS[wid]
        self.groups = []
        if use_mlx:
            self.groups.append(mlx_variants(wid, w))
        if have_torch:
            self.groups.append(torch_variants(wid, w, torch_compile))
        self.estimates = [warm_up(g) for g in self.groups]

    def round(self, secs, rounds, r):
        times = {}
        for g, est in zip(self.groups, self.estimates):
            times.update(one_round(g, est, secs, rounds, r))
        return times


def percentile(sorted_values, q):
    return sorted_values[round((len(sorted_values) - 1) * q)]


def matmul_gflops(n, iters):
    a = mx.random.normal((n, n), key=mx.random.key(1))
    b = mx.random.normal((n, n), key=mx.random.key(2))
    mx.eval(a, b)
    for _ in range(2):
        mx.eval(a @ b)
    ts = []
    for _ in range(iters):
        start = time.perf_counter()
        mx.eval(a @ b)
        ts.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(ts) / 1e9


def blas_libraries():
    """The BLAS libraries mapped into this process (after a matmul)."""
    mx.eval(mx.ones((64, 64)) @ mx.ones((64, 64)))
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and "blas" in parts[5]:
                    libs.add(os.path.realpath(parts[5]))
    except OSError:
        pass
    return sorted(libs)


def torch_available():
    try:
        import torch  # noqa: F401

        return True
    except Exception as e:  # ImportError, or OSError for missing CUDA libraries
        print("PyTorch not available (%s: %s); its rows are skipped" % (type(e).__name__, e),
              file=sys.stderr)
        return False


def serve(use_mlx, have_torch, torch_compile):
    """Timing rounds on request, so that compare.rs can interleave them with
    its own. Commands, one per line on stdin:
        round <workload> <secs> <rounds> <r>  -> TIMES lines, then DONE
        drop <workload>                       -> DONE (frees its models)
    Each TIMES line: TIMES, workload, pass, variant, comma-separated seconds
    (tab-separated)."""
    workloads = {}
    print("READY", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "round":
            wid, secs, rounds, r = parts[1], float(parts[2]), int(parts[3]), int(parts[4])
            if wid not in workloads:
                workloads[wid] = Workload(wid, use_mlx, have_torch, torch_compile)
            for (p, name), ts in workloads[wid].round(secs, rounds, r).items():
                print("TIMES\t%s\t%s\t%s\t%s" % (wid, p, name, ",".join("%.9f" % t for t in ts)))
        elif parts[0] == "drop":
            workloads.pop(parts[1], None)
        print("DONE", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="W1,W2,W3")
    parser.add_argument("--secs", type=float, default=2.0, help="sampling time per variant")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--serve", action="store_true", help="timing rounds on request (used by compare.rs)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--no-mlx", action="store_true", help="skip Python MLX")
    parser.add_argument("--torch-compile", action="store_true", help="also time torch.compile")
    args = parser.parse_args()

    libs = blas_libraries() if not args.no_mlx else []
    if not args.no_mlx and not any("openblas" in l for l in libs):
        print(
            "WARNING: MLX is not using OpenBLAS (mapped: %s); run scripts/bench/setup_python.sh"
            % (", ".join(libs) or "none"),
            file=sys.stderr,
        )
    have_torch = not args.no_torch and torch_available()
    if args.serve:
        serve(not args.no_mlx, have_torch, args.torch_compile)
        return

    import platform

    roof_1024 = matmul_gflops(1024, 20)
    roof_2048 = matmul_gflops(2048, 6)
    roofline = max(roof_1024, roof_2048)
    print("Python %s, MLX %s, BLAS: %s" % (platform.python_version(), mx.__version__, ", ".join(libs)))
    if have_torch:
        import torch

        print("PyTorch %s, %d threads" % (torch.__version__, torch.get_num_threads()))
    print("roofline (MLX f32 matmul, median): 1024^3 %.1f GFLOP/s, 2048^3 %.1f GFLOP/s"
          % (roof_1024, roof_2048))
    print()
    print("| workload | pass | variant | median ms | p25-p75 ms | n | vs mlx-rs | vs py-mlx | GFLOP/s | % roofline |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    for wid in [w.strip().upper() for w in args.workloads.split(",") if w.strip()]:
        w = WORKLOADS[wid]
        print("measuring %s (%s) ..." % (wid, w["description"]), file=sys.stderr)
        workload = Workload(wid, not args.no_mlx, have_torch, args.torch_compile)
        times = {}
        for r in range(args.rounds):
            for key, ts in workload.round(args.secs, args.rounds, r).items():
                times.setdefault(key, []).extend(ts)
        del workload
        fwd_flops, train_flops = flops(w["layers"], w["batch"])
        for p in ("train", "forward"):
            key = (p, "python mlx compiled")
            base = statistics.median(times[key]) if key in times else None
            for (pp, name), ts in times.items():
                if pp != p:
                    continue
                ts = sorted(ts)
                med, p25, p75 = percentile(ts, 0.5), percentile(ts, 0.25), percentile(ts, 0.75)
                flop = train_flops if p == "train" else fwd_flops
                gflops = flop / med / 1e9
                print("| %s %s | %s | %s | %.3f | %.3f-%.3f | %d | - | %s | %.1f | %.0f%% |" % (
                    wid, w["description"], "train step" if p == "train" else "forward", name,
                    med * 1e3, p25 * 1e3, p75 * 1e3, len(ts),
                    "%.2f" % (med / base) if base else "-", gflops, 100 * gflops / roofline))


if __name__ == "__main__":
    main()
