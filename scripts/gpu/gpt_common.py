"""What the GPT-2 benchmark's Python rows share (scripts/gpu/gpt_torch.py,
scripts/gpu/gpt_mlx.py): the sizes, the FLOP formula and the table row, the
same as benches/gpt/main.rs's."""

from dataclasses import dataclass

LN_EPS = 1e-5
BETAS = (0.9, 0.95)
EPS = 1e-8


@dataclass(frozen=True)
class Config:
    layers: int
    d_model: int
    heads: int
    vocab: int
    context: int

    @property
    def head_dim(self):
        return self.d_model // self.heads

    def parameters(self):
        d = self.d_model
        block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
        return self.vocab * d + self.context * d + self.layers * block + 2 * d

    def flop_parameters(self):
        # N: every parameter once (the tied embedding / LM head included), the
        # position embedding left out (a lookup), as nanoGPT's estimate_mfu.
        return self.parameters() - self.context * self.d_model

    def train_flops_per_token(self, seq):
        # PaLM (appendix B): 6 N + 12 L T d.
        return 6 * self.flop_parameters() + 12 * self.layers * seq * self.d_model


# name: (config, batch, warm-up steps, timed steps); the same as benches/gpt/main.rs.
SIZES = {
    "gpt2-small": (Config(12, 768, 12, 50304, 1024), 16, 5, 20),
    "small": (Config(4, 256, 4, 50304, 256), 8, 10, 50),
    "tiny": (Config(2, 64, 2, 512, 64), 4, 3, 20),
}


HEADER = (
    "| variant | size | pass | batch x seq | ms/step (median) | tokens/s | MFU | peak memory | loss (first -> last) |\n"
    "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
)


def formula(size, c: Config, seq, peak):
    return (
        f"{size}: FLOPs per token of a training step = 6 N + 12 L T d (PaLM, appendix B) = "
        f"6 x {c.flop_parameters()} + 12 x {c.layers} x {seq} x {c.d_model} = "
        f"{c.train_flops_per_token(seq):.4e} (N: every parameter once, the tied embedding / LM head "
        f"included, the position embedding left out; forward rows count a third of it); "
        f"MFU = tokens/s x FLOPs per token / {peak:g} TFLOP/s (H200 dense bf16)"
    )


def row(name, pazz, size, c, batch, seq, ms, peak_bytes, losses, peak):
    tokens_per_s = batch * seq / (ms / 1e3)
    flops = c.train_flops_per_token(seq) / (3 if pazz == "forward" else 1)
    mfu = tokens_per_s * flops / (peak * 1e12)
    if peak_bytes is None:
        mem = "-"
    elif peak_bytes >= 2**30:
        mem = f"{peak_bytes / 2**30:.2f} GiB"
    else:
        mem = f"{peak_bytes / 2**20:.0f} MiB"
    loss = f"{losses[0]:.3f} -> {losses[-1]:.3f}" if losses else "-"
    return (
        f"| {name} | {size} | {pazz} | {batch}x{seq} | {ms:.2f} | {tokens_per_s:.0f} | "
        f"{100 * mfu:.1f} % | {mem} | {loss} |"
    )
