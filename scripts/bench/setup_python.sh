#!/usr/bin/env bash
# The Python side of the comparison benchmarks: a virtual environment in
# build/bench-venv (ignored by git) with Python MLX 0.32.2 on OpenBLAS and,
# with --torch, PyTorch for CPU.
#
#   scripts/bench/setup_python.sh            # MLX only
#   scripts/bench/setup_python.sh --torch    # MLX and PyTorch (about 5.4 GB, see below)
#
# MLX: `mlx==0.32.2` plus the same `mlx-cpu==0.32.2` wheel the Rust build
# uses (from `cargo mithril setup`'s downloads, else from PyPI), with its
# reference BLAS swapped for OpenBLAS (scripts/bench/swap_blas.sh).
#
# PyTorch: PyPI's Linux x86_64 wheel (torch 2.15.0, 539 MB) is the CUDA 13
# build. `pip install --no-deps torch` is not enough even for the CPU:
# libtorch.so links libtorch_cuda.so, which needs libcudart.so.13,
# libcublasLt.so.13, libcudnn.so.9, libnccl.so.2, ..., so `import torch`
# fails ("libcublasLt.so.*[0-9] not found"). With its dependencies (the
# nvidia-* wheels, about 4.8 GB more) it imports and runs on the CPU
# (torch.cuda.is_available() is False). The CPU-only wheels live on
# download.pytorch.org, which this machine cannot reach.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=build/bench-venv
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
mithril_home=${MITHRIL_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/mithril}
wheel=$mithril_home/downloads/mlx-cpu==0.32.2/mlx_cpu-0.32.2-py3-none-manylinux_2_35_x86_64.whl
if [[ -f "$wheel" ]]; then
  "${pip[@]}" install "mlx==0.32.2" "$wheel" numpy
else
  "${pip[@]}" install "mlx==0.32.2" "mlx-cpu==0.32.2" numpy
fi
scripts/bench/swap_blas.sh "$venv/bin/python"
if [[ "${1:-}" == --torch ]]; then
  "${pip[@]}" install "torch==2.15.0"
fi
"$venv/bin/python" - <<'PY'
import mlx.core as mx
print("mlx", mx.__version__)
try:
    import torch
    print("torch", torch.__version__, "threads", torch.get_num_threads())
except Exception as e:
    print("torch not available:", type(e).__name__)
PY
