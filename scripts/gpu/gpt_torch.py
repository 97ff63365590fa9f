#!/usr/bin/env python3
"""PyTorch rows of the GPT-2 benchmark (benches/gpt, docs/benchmarks.md).

The same model as the hand-written mlx-rs one in benches/gpt/model.rs
(GPT-2: pre-norm blocks, GELU with the tanh approximation, final LayerNorm,
token embedding tied to the LM head, f32 parameters), the same AdamW
settings, synthetic tokens, and the same table row:

    | variant | size | pass | batch x seq | ms/step (median) | tokens/s | MFU | peak memory | loss (first -> last) |

Variants (--variant, comma-separated):
  torch-eager                    bf16 autocast, F.scaled_dot_product_attention(is_causal=True),
                                 AdamW(fused=True): the reference PyTorch row
  torch-compile                  the same model under torch.compile (forward and,
                                 through AOTAutograd, backward; the fused AdamW step eager)
  torch-eager-f32                no autocast (f32 with TF32 matmuls, as MLX's CUDA backend runs f32)
  torch-eager-unfused-attention  attention written out (softmax(q k^T + mask) v)
  torch-fwd-bwd                  forward and backward, no optimizer step
  torch-forward                  forward and loss only, under no_grad

Each timed step is synchronised (torch.cuda.synchronize); the median over the
timed steps after warm-up. --pipelined adds a row per variant timing the
steps issued back to back with one synchronisation at the end (mean).
--profile prints torch.profiler's table of the kernels instead of rows.
Peak memory: torch.cuda.max_memory_allocated from before the model is built.

    python3 scripts/gpu/gpt_torch.py --size gpt2-small --variant torch-eager,torch-compile
    python3 scripts/gpu/gpt_torch.py --size tiny --device cpu      # smoke test on the CPU

Runs on Python 3.12 + torch 2.11 (the GPU machine) and on the CPU.
"""

import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from gpt_common import BETAS, EPS, HEADER, LN_EPS, SIZES, Config, formula, row  # noqa: E402


class Block(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        d = c.d_model
        self.heads = c.heads
        self.ln1 = nn.LayerNorm(d, eps=LN_EPS)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=LN_EPS)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_proj = nn.Linear(4 * d, d)

    def attention(self, x, fused):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).split(d, dim=-1)
        q, k, v = (a.view(b, t, h, d // h).transpose(1, 2) for a in (q, k, v))
        if fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h))
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            y = scores.masked_fill(mask, float("-inf")).softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x, fused):
        x = x + self.attention(self.ln1(x), fused)
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    """Parameter names match the mlx-rs model's flattened keys (wte, wpe,
    blocks.<i>.{ln1,qkv,proj,ln2,fc,fc_proj}.{weight,bias}, ln_f.{weight,bias})."""

    def __init__(self, c: Config, fused_attention=True):
        super().__init__()
        self.config = c
        self.fused_attention = fused_attention
        self.wte = nn.Parameter(torch.empty(c.vocab, c.d_model))
        self.wpe = nn.Parameter(torch.empty(c.context, c.d_model))
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln_f = nn.LayerNorm(c.d_model, eps=LN_EPS)
        self.reset_parameters()

    def reset_parameters(self):
        # GPT-2's: normal(0, 0.02), residual projections / sqrt(2 L), zero biases.
        std = 0.02
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            elif name.endswith("proj.weight"):
                nn.init.normal_(p, 0.0, std / math.sqrt(2 * self.config.layers))
            else:
                nn.init.normal_(p, 0.0, std)

    def forward(self, tokens, targets):
        t = tokens.shape[1]
        x = F.embedding(tokens, self.wte) + self.wpe[:t]
        for block in self.blocks:
            x = block(x, self.fused_attention)
        logits = F.linear(self.ln_f(x), self.wte)
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.reshape(-1))


VARIANTS = {
    # name: (pass, compiled, autocast bf16, fused attention)
    "torch-eager": ("train", False, True, True),
    "torch-compile": ("train", True, True, True),
    "torch-eager-f32": ("train", False, False, True),
    "torch-eager-unfused-attention": ("train", False, True, False),
    "torch-fwd-bwd": ("fwd+bwd", False, True, True),
    "torch-forward": ("forward", False, True, True),
}

def make_optimizer(model, lr, weight_decay, device):
    # fused=True: one kernel for every parameter's update (CUDA; CPU since torch 2.4).
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, betas=BETAS, eps=EPS,
                                 weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError) as e:
        print(f"# fused AdamW unavailable on {device.type} ({e}); using the default", file=sys.stderr)
        return torch.optim.AdamW(model.parameters(), lr=lr, betas=BETAS, eps=EPS,
                                 weight_decay=weight_decay)


def measure(name, args, device):
    pazz, compiled, bf16, fused = VARIANTS[name]
    c, batch, warmup, steps = SIZES[args.size]
    batch = args.batch or batch
    seq = args.seq or c.context
    warmup = args.warmup if args.warmup is not None else warmup
    steps = args.steps or steps
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    gen = torch.Generator(device="cpu").manual_seed(args.seed ^ 0xDA7A)
    data = torch.randint(0, c.vocab, (batch, seq + 1), generator=gen).to(device)
    tokens, targets = data[:, :seq].contiguous(), data[:, 1:].contiguous()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    torch.manual_seed(args.seed)
    model = GPT(c, fused_attention=fused).to(device)
    forward = torch.compile(model) if compiled else model
    opt = make_optimizer(model, args.lr, args.weight_decay, device) if pazz == "train" else None
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)

    def step():
        if pazz == "forward":
            with torch.no_grad(), autocast:
                return forward(tokens, targets)
        with autocast:
            loss = forward(tokens, targets)
        loss.backward()
        if opt is not None:
            opt.step()
        opt_or_model = opt if opt is not None else model
        opt_or_model.zero_grad(set_to_none=True)
        return loss

    if args.profile:
        return profile(step, warmup, steps, sync, cuda)
    losses, times, host = [], [], []
    for i in range(warmup + steps):
        start = time.perf_counter()
        loss = step()
        issued = time.perf_counter()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
        host.append((issued - start) * 1e3)
        losses.append(loss.item())
    median = statistics.median(times[warmup:])
    print(f"{name} at {args.size}: issuing a step takes {statistics.median(host[warmup:]):.3f} ms (median) "
          f"of its {median:.3f} ms", file=sys.stderr)
    peak_bytes = torch.cuda.max_memory_allocated() if cuda else None
    pipelined = None
    if args.pipelined:
        start = time.perf_counter()
        for _ in range(steps):
            loss = step()
        sync()
        pipelined = (time.perf_counter() - start) * 1e3 / steps
    out = [row(name, pazz, args.size, c, batch, seq, median, peak_bytes, losses, args.peak_tflops)]
    if pipelined is not None:
        out.append(row(f"{name} (pipelined)", pazz, args.size, c, batch, seq, pipelined, None,
                       [losses[0], loss.item()], args.peak_tflops))
    return out


def profile(step, warmup, steps, sync, cuda):
    """PyTorch's profiler over `steps` steps after `warmup`: its table of the
    operators and kernels taking the most device time (CPU time on the CPU)."""
    for _ in range(warmup):
        step()
    sync()
    activities = [torch.profiler.ProfilerActivity.CPU]
    if cuda:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        sync()
    averages = prof.key_averages()
    for key in (["self_device_time_total", "self_cuda_time_total"] if cuda else ["self_cpu_time_total"]):
        try:
            return [f"# profile of {steps} steps", averages.table(sort_by=key, row_limit=30)]
        except (AttributeError, KeyError, ValueError):
            continue
    return [f"# profile of {steps} steps", averages.table(row_limit=30)]


def kernels(device, tiny):
    """The step's operations one by one at GPT-2 small's shapes, in bf16 (as
    autocast runs them), as `benches/gpt --kernels` times MLX's."""
    import torch.nn.functional as F
    batch, seq, vocab, n_params = (2, 64, 512, 100_000) if tiny else (16, 1024, 50_304, 124_475_904)
    tokens, d = batch * seq, 768
    g = torch.Generator(device=device).manual_seed(0)
    randn = lambda *shape, dtype=torch.bfloat16, grad=False: (
        torch.randn(*shape, generator=g, device=device) * 0.02).to(dtype).requires_grad_(grad)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def median_ms(f):
        times = []
        for i in range(13):
            sync()
            t0 = time.perf_counter()
            f()
            sync()
            if i >= 3:
                times.append((time.perf_counter() - t0) * 1e3)
        return sorted(times)[len(times) // 2]

    def row(name, ms, flops=0.0, bytes_=0.0):
        rate = f"{flops / ms / 1e9:.0f} TFLOP/s" if flops else f"{bytes_ / ms / 1e6:.0f} GB/s"
        print(f"| torch | {name} | {ms:.3f} | {rate} |", flush=True)

    print(f"| side | operation (bf16, d 768, 12 heads of 64, batch {batch} x {seq}, vocabulary {vocab}) | ms (median) | rate |")
    print("| --- | --- | ---: | ---: |")
    for name, k, n in [("qkv", d, 3 * d), ("attention out", d, d), ("mlp in", d, 4 * d),
                       ("mlp out", 4 * d, d), ("lm head", d, vocab)]:
        x, w, dy = randn(tokens, k), randn(n, k), randn(tokens, n)
        flops = 2.0 * tokens * k * n
        row(f"matmul {name} [{tokens}x{k}]·[{k}x{n}]", median_ms(lambda: x @ w.t()), flops)
        row(f"matmul {name} backward (dx, dW)", median_ms(lambda: (dy @ w, dy.t() @ x)), 2 * flops)
    shape = (batch, 12, seq, 64)
    q, k, v = (randn(*shape, grad=True) for _ in range(3))
    att = 2.0 * batch * 12 * seq * seq * 64
    with torch.no_grad():
        row("attention forward (fused, causal)",
            median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True)), att)
    dout = randn(*shape)
    row("attention forward + backward",
        median_ms(lambda: torch.autograd.grad(F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v), dout)),
        3.5 * att)
    x = randn(tokens, d, grad=True)
    norm = torch.nn.LayerNorm(d, device=device, dtype=torch.bfloat16)
    bytes_ = 2.0 * 2.0 * tokens * d
    with torch.no_grad():
        row("layer norm forward", median_ms(lambda: norm(x)), 0.0, bytes_)
    dy = randn(tokens, d)
    row("layer norm forward + backward",
        median_ms(lambda: torch.autograd.grad(norm(x), [x, norm.weight, norm.bias], dy)), 0.0, 3 * bytes_)
    logits = randn(tokens, vocab, grad=True)
    targets = torch.randint(0, vocab, (tokens,), generator=g, device=device)
    row("cross-entropy forward + backward (f32)",
        median_ms(lambda: torch.autograd.grad(F.cross_entropy(logits.float(), targets), logits)),
        0.0, 4.0 * 2.0 * tokens * vocab)
    p_ = torch.zeros(n_params, device=device, requires_grad=True)
    p_.grad = randn(n_params, dtype=torch.float32)
    opt = torch.optim.AdamW([p_], lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1,
                            fused=device.type == "cuda")
    row(f"AdamW update, {n_params} f32 parameters (fused)", median_ms(opt.step), 0.0, 7.0 * 4.0 * n_params)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=SIZES, default=None, help="default: gpt2-small on CUDA, tiny on the CPU")
    p.add_argument("--batch", type=int)
    p.add_argument("--seq", type=int)
    p.add_argument("--steps", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--variant", default="torch-eager,torch-compile")
    p.add_argument("--pipelined", action="store_true")
    p.add_argument("--lr", type=float, default=6e-4)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--peak-tflops", type=float, default=989.0)
    p.add_argument("--no-header", action="store_true")
    p.add_argument("--formula", action="store_true", help="print the formula and the header, run nothing")
    p.add_argument("--kernels", action="store_true",
                   help="time the step's operations one by one at GPT-2 small's shapes (tiny: CPU-sized)")
    p.add_argument("--profile", action="store_true",
                   help="instead of rows, print PyTorch's profiler table of the timed steps")
    args = p.parse_args()

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if args.size is None:
        args.size = "gpt2-small" if device.type == "cuda" else "tiny"
    if args.kernels:
        kernels(device, args.size == "tiny")
        return 0
    names = [n for n in args.variant.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        p.error(f"--variant: unknown {', '.join(unknown)}; expected some of {', '.join(VARIANTS)}")
    c = SIZES[args.size][0]
    seq = args.seq or c.context
    if not 1 <= seq <= c.context:
        p.error(f"--seq: expected 1 to {c.context} (the {args.size} context), found {seq}")
    if device.type == "cuda":
        # f32 matmuls on TF32 tensor cores, as MLX's CUDA backend runs them.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if args.formula or not args.no_header:
        where = torch.cuda.get_device_name(0) if device.type == "cuda" else "CPU"
        print(f"torch {torch.__version__} on {where}")
        print(formula(args.size, c, seq, args.peak_tflops) + "\n\n" + HEADER)
        if args.formula:
            return 0
    failed = []
    for name in names:
        try:
            for line in measure(name, args, device):
                print(line, flush=True)
        except Exception as e:  # one variant failing must not stop the others
            print(f"{name} at {args.size}: {type(e).__name__}: {e}", file=sys.stderr)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
