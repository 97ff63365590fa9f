#!/usr/bin/env python3
"""The Python MLX row of the GPT-2 benchmark (benches/gpt, docs/benchmarks.md):
the same engine as mithril, written plainly in Python, as the reference for
what the DSL's training step should cost.

The model and step match the DSL's (`mithril_zoo::gpt` through `Trainer`):
GPT-2 with pre-norm blocks, GELU (tanh approximation), the LM head tied to
the token embedding; f32 master parameters cast to bf16 inside the loss;
`mx.fast.scaled_dot_product_attention(mask="causal")`; cross-entropy in f32;
AdamW with the benchmark's settings; the whole step under
`mx.compile(inputs=state, outputs=state)` with `state = [model.state,
optimizer.state]`. Each timed step is synchronised with `mx.eval(loss,
state)`; the median over the timed steps after warm-up, and (on stderr) the
median time of the compiled call before the `mx.eval`: the host's part. --pipelined adds a
row of steps queued back to back (`mx.async_eval`), one wait at the end (mean).

    python3 scripts/gpu/gpt_mlx.py --size gpt2-small             # on the GPU machine (docs/gpu.md)
    python3 scripts/gpu/gpt_mlx.py --size tiny --device cpu      # smoke test on the CPU

Prints rows in gpt_torch.py's table format (scripts/gpu/gpt_common.py).
"""

import argparse
import math
import statistics
import sys
import time

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from mlx.utils import tree_flatten, tree_map, tree_unflatten

from gpt_common import BETAS, EPS, HEADER, LN_EPS, SIZES, formula, row


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=LN_EPS)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=LN_EPS)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_proj = nn.Linear(4 * d, d)

    def __call__(self, x):
        b, t, d = x.shape
        q, k, v = mx.split(self.qkv(self.ln1(x)), 3, axis=-1)
        q, k, v = (a.reshape(b, t, self.heads, -1).transpose(0, 2, 1, 3) for a in (q, k, v))
        y = mx.fast.scaled_dot_product_attention(q, k, v, scale=(d // self.heads) ** -0.5, mask="causal")
        x = x + self.proj(y.transpose(0, 2, 1, 3).reshape(b, t, d))
        return x + self.fc_proj(nn.gelu_approx(self.fc(self.ln2(x))))


class Gpt(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c.vocab, c.d_model)
        self.wpe = nn.Embedding(c.context, c.d_model)
        self.blocks = [Block(c.d_model, c.heads) for _ in range(c.layers)]
        self.ln_f = nn.LayerNorm(c.d_model, eps=LN_EPS)

    def __call__(self, tokens):
        x = self.wte(tokens) + self.wpe(mx.arange(tokens.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.wte.as_linear(self.ln_f(x))


def init(model, layers):
    """GPT-2's: normal(0, 0.02), residual projections / sqrt(2 L), zero biases, unit norms."""
    def fresh(path, p):
        if path.endswith("bias"):
            return mx.zeros_like(p)
        if ".ln" in path or path.startswith("ln_f"):
            return mx.ones_like(p)
        std = 0.02 / math.sqrt(2 * layers) if path.endswith("proj.weight") else 0.02
        return mx.random.normal(p.shape) * std
    model.update(tree_unflatten([(k, fresh(k, v)) for k, v in tree_flatten(model.parameters())]))


def measure(args):
    c, batch, warmup, steps = SIZES[args.size]
    batch = args.batch or batch
    seq = args.seq or c.context
    warmup = args.warmup if args.warmup is not None else warmup
    steps = args.steps or steps
    mx.random.seed(args.seed)
    data = mx.random.randint(0, c.vocab, (batch, seq + 1), key=mx.random.key(args.seed ^ 0xDA7A))
    tokens, targets = data[:, :seq], data[:, 1:]
    mx.reset_peak_memory()
    model = Gpt(c)
    init(model, c.layers)
    optimizer = optim.AdamW(learning_rate=args.lr, betas=list(BETAS), eps=EPS, weight_decay=args.weight_decay)
    # The optimizer's state exists before the step is compiled, as Python MLX's examples do.
    optimizer.init(model.trainable_parameters())
    mx.eval(model.parameters(), optimizer.state)

    def loss_fn(model, tokens, targets):
        # f32 master parameters, bf16 compute: the cast inside the loss.
        master = model.parameters()
        model.update(tree_map(lambda p: p.astype(mx.bfloat16), master))
        logits = model(tokens)
        model.update(master)
        return nn.losses.cross_entropy(logits.astype(mx.float32), targets, reduction="mean")

    state = [model.state, optimizer.state]
    loss_and_grad = nn.value_and_grad(model, loss_fn)

    def raw_step(tokens, targets):
        loss, grads = loss_and_grad(model, tokens, targets)
        optimizer.update(model, grads)
        return loss

    step = mx.compile(raw_step, inputs=state, outputs=state)
    losses, times, host = [], [], []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        loss = step(tokens, targets)
        issued = time.perf_counter()
        mx.eval(loss, state)
        times.append((time.perf_counter() - start) * 1e3)
        host.append((issued - start) * 1e3)
        losses.append(loss.item())
    median = statistics.median(times[warmup:])
    # The compiled call returns lazy arrays: its time is the host's part of
    # the step (flattening the state trees, MLX replaying the compiled graph).
    print(f"mlx-python at {args.size}: issuing a step takes {statistics.median(host[warmup:]):.3f} ms (median) "
          f"of its {median:.3f} ms", file=sys.stderr)
    out = [row("mlx-python", "train", args.size, c, batch, seq, median, mx.get_peak_memory(), losses,
               args.peak_tflops)]
    if args.pipelined:
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(tokens, targets)
            mx.async_eval(loss, state)
        mx.eval(loss, state)
        mean = (time.perf_counter() - start) * 1e3 / steps
        out.append(row("mlx-python (pipelined)", "train", args.size, c, batch, seq, mean, None,
                       [losses[0], loss.item()], args.peak_tflops))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=SIZES, default="gpt2-small")
    p.add_argument("--batch", type=int)
    p.add_argument("--seq", type=int)
    p.add_argument("--steps", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--pipelined", action="store_true")
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["gpu", "cpu"], default="gpu")
    p.add_argument("--peak-tflops", type=float, default=989.0)
    p.add_argument("--no-header", action="store_true")
    args = p.parse_args()
    mx.set_default_device(mx.gpu if args.device == "gpu" else mx.cpu)
    c = SIZES[args.size][0]
    seq = args.seq or c.context
    if not args.no_header:
        print(f"Python MLX {mx.__version__} on {mx.default_device()}")
        print(formula(args.size, c, seq, args.peak_tflops) + "\n\n" + HEADER)
    for line in measure(args):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
