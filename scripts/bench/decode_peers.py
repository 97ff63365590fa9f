#!/usr/bin/env python3
"""Generation speed of GPT-2 small's peers, for the table beside mithril's
`cargo bench --bench decode` (docs/benchmarks.md): random weights, f32,
prompt 128 tokens, 256 new ones, greedy, batch 1 and 8, the median of
several runs after a warm-up; the same prompts as the Rust bench.

    python3 scripts/bench/decode_peers.py --impl mlx   [--device gpu]
    python3 scripts/bench/decode_peers.py --impl torch [--device cuda]

`mlx`: GPT-2 in mlx.nn with a decode loop as mlx-lm writes it
(mlx_lm.generate.generate_step and mlx_lm.models.cache.KVCache): the cache
preallocated in chunks of 256 positions and written by slice assignment,
the model called uncompiled, the next step queued with `mx.async_eval`
before the previous token is read.

`--variant masked` (a diagnostic) gives the Python loop mithril's attention
design: the cache grows in chunks of 64 positions and attention reads the
whole chunk through a boolean mask, also for one new token; `--variant
split` multiplies by the query, key and value projections one by one.

`torch`: transformers' `GPT2LMHeadModel.generate(do_sample=False)`, eager,
with its dynamic cache; prefill is timed as `generate(max_new_tokens=1)`,
decode as the rest of `generate(max_new_tokens=256)`.
"""

import argparse
import statistics
import time

VOCAB, CONTEXT, D, HEADS, LAYERS = 50257, 1024, 768, 12, 12


def prompts(batch, length):
    return [[(r * 7919 + i * 104729) % VOCAB for i in range(length)] for r in range(batch)]


def row(impl, device, batch, args, prefill, decode):
    print(
        f"| {impl} | {device} | {batch} | {args.prompt} | {args.new} "
        f"| {statistics.median(prefill):.0f} | {statistics.median(decode):.1f} |",
        flush=True,
    )


def run_mlx(args):
    import mlx.core as mx
    import mlx.nn as nn

    mx.set_default_device(mx.gpu if args.device == "gpu" else mx.cpu)

    masked = args.variant == "masked"

    class KVCache:
        step = 64 if masked else 256

        def __init__(self):
            self.keys = self.values = None
            self.offset = 0

        def update_and_fetch(self, keys, values):
            prev = self.offset
            if self.keys is None or prev + keys.shape[2] > self.keys.shape[2]:
                b, h, _, d = keys.shape
                n = (self.step + keys.shape[2] - 1) // self.step
                new_k = mx.zeros((b, h, n * self.step, d), keys.dtype)
                new_v = mx.zeros((b, h, n * self.step, d), values.dtype)
                if self.keys is not None:
                    if prev % self.step != 0:
                        self.keys = self.keys[..., :prev, :]
                        self.values = self.values[..., :prev, :]
                    self.keys = mx.concatenate([self.keys, new_k], axis=2)
                    self.values = mx.concatenate([self.values, new_v], axis=2)
                else:
                    self.keys, self.values = new_k, new_v
            self.offset += keys.shape[2]
            self.keys[..., prev : self.offset, :] = keys
            self.values[..., prev : self.offset, :] = values
            if masked:
                slots = mx.arange(self.keys.shape[2])
                queries = mx.arange(prev, self.offset)[:, None]
                return self.keys, self.values, slots[None] <= queries
            return self.keys[..., : self.offset, :], self.values[..., : self.offset, :], None

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(D, 3 * D)
            self.c_proj = nn.Linear(D, D)
            if args.variant == "split":
                self.q, self.k, self.v = nn.Linear(D, D), nn.Linear(D, D), nn.Linear(D, D)

        def __call__(self, x, cache):
            b, t, _ = x.shape
            if args.variant == "split":
                q, k, v = self.q(x), self.k(x), self.v(x)
            else:
                q, k, v = mx.split(self.c_attn(x), 3, axis=-1)
            q, k, v = (a.reshape(b, t, HEADS, -1).transpose(0, 2, 1, 3) for a in (q, k, v))
            k, v, mask = cache.update_and_fetch(k, v)
            if mask is None:
                mask = "causal" if t > 1 else None
            o = mx.fast.scaled_dot_product_attention(q, k, v, scale=(D // HEADS) ** -0.5, mask=mask)
            return self.c_proj(o.transpose(0, 2, 1, 3).reshape(b, t, D))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
            self.attn = Attention()
            self.c_fc, self.mlp_proj = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

        def __call__(self, x, cache):
            x = x + self.attn(self.ln_1(x), cache)
            return x + self.mlp_proj(nn.gelu_approx(self.c_fc(self.ln_2(x))))

    class Gpt2(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, D), nn.Embedding(CONTEXT, D)
            self.h = [Block() for _ in range(LAYERS)]
            self.ln_f = nn.LayerNorm(D)

        def __call__(self, tokens, cache):
            offset = cache[0].offset
            x = self.wte(tokens) + self.wpe(mx.arange(offset, offset + tokens.shape[1]))
            for block, c in zip(self.h, cache):
                x = block(x, c)
            return self.wte.as_linear(self.ln_f(x))

    model = Gpt2()
    mx.eval(model.parameters())

    def generate(batch_prompts, new):
        cache = [KVCache() for _ in range(LAYERS)]
        started = time.perf_counter()
        y = mx.argmax(model(mx.array(batch_prompts), cache)[:, -1, :], axis=-1)
        mx.eval(y)
        prefill = time.perf_counter() - started
        tokens = []
        for n in range(new):
            if n + 1 < new:
                next_y = mx.argmax(model(y[:, None], cache)[:, -1, :], axis=-1)
                mx.async_eval(next_y)
            tokens.append(y.tolist())
            if n + 1 < new:
                y = next_y
        decode = time.perf_counter() - started - prefill
        b = len(batch_prompts)
        return b * len(batch_prompts[0]) / prefill, b * (new - 1) / decode

    for batch in args.batch:
        p = prompts(batch, args.prompt)
        generate(p, args.new)
        runs = [generate(p, args.new) for _ in range(args.runs)]
        label = "Python MLX (mlx-lm loop)" if args.variant == "mlx-lm" else f"Python MLX ({args.variant})"
        row(label, args.device, batch, args, [r[0] for r in runs], [r[1] for r in runs])


def run_torch(args):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    device = torch.device(args.device)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config()).eval().to(device)

    def timed(tokens, new):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        with torch.no_grad():
            out = model.generate(
                tokens,
                attention_mask=torch.ones_like(tokens),
                max_new_tokens=new,
                min_new_tokens=new,
                do_sample=False,
                pad_token_id=0,
            )
        if device.type == "cuda":
            torch.cuda.synchronize()
        assert out.shape[1] == tokens.shape[1] + new
        return time.perf_counter() - started

    for batch in args.batch:
        tokens = torch.tensor(prompts(batch, args.prompt), device=device)
        timed(tokens, args.new)
        prefill, decode = [], []
        for _ in range(args.runs):
            first = timed(tokens, 1)
            whole = timed(tokens, args.new)
            prefill.append(batch * args.prompt / first)
            decode.append(batch * (args.new - 1) / (whole - first))
        row("transformers generate (torch eager)", args.device, batch, args, prefill, decode)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["mlx", "torch"], required=True)
    parser.add_argument("--device", default="cpu", help="cpu, gpu (MLX) or cuda (torch)")
    parser.add_argument("--batch", type=lambda s: [int(b) for b in s.split(",")], default=[1, 8])
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variant", choices=["mlx-lm", "masked", "split"], default="mlx-lm")
    args = parser.parse_args()
    if args.impl == "mlx":
        run_mlx(args)
    else:
        run_torch(args)


if __name__ == "__main__":
    main()
