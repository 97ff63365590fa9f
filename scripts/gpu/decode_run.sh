#!/usr/bin/env bash
# The generation benchmark in one sitting on the GPU machine (no Rust, no
# network): mithril's KV-cache decoder (benches/decode, built on the CPU
# machine, pointed at MLX's CUDA libmlx.so at run time), a Python MLX decode
# loop as mlx-lm writes it and transformers' `generate` (torch eager), all
# from scripts/bench/decode_peers.py's settings: GPT-2 small, random
# weights, f32, prompt 128, 256 new tokens, batch 1 and 8.
#
#   bash scripts/gpu/decode_run.sh MLX_DIR DECODE_BIN MLX_WHEEL OUT_DIR
#
# MLX_DIR holds the pieces made by scripts/gpu/mlx-cuda-pack and its
#   mlx-cuda-unpack, as for scripts/gpu/gpt_run.sh (two calls: docs/gpu.md).
# DECODE_BIN is the bench binary (cargo bench --bench decode --no-run prints it).
# MLX_WHEEL is PyPI's mlx==0.32.2 wheel for CPython 3.12 (the Python
#   bindings): unpacked beside the CUDA libmlx.so, it is Python MLX on CUDA.
# OUT_DIR gets decode_table.md and decode_log.txt.
set -uo pipefail
mlx_dir=${1:?usage: decode_run.sh MLX_DIR DECODE_BIN MLX_WHEEL OUT_DIR} bin=${2:?DECODE_BIN}
wheel=${3:?MLX_WHEEL} out=${4:?OUT_DIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
table=$out/decode_table.md log=$out/decode_log.txt
export PYTHONUNBUFFERED=1
exports=$(bash "$mlx_dir/mlx-cuda-unpack" "$mlx_dir" 2>>"$log") || { echo "mlx-cuda-unpack failed" | tee -a "$log"; exit 1; }
python3 -m zipfile -e "$wheel" "$mlx_dir/site"
ld=$(eval "$exports"; echo "$LD_LIBRARY_PATH")
cuda_home=$(eval "$exports"; echo "$CUDA_HOME")
mlx_env=(env LD_LIBRARY_PATH="$ld" CUDA_HOME="$cuda_home" PYTHONPATH="$mlx_dir/site")
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
  "${mlx_env[@]}" python3 -c 'import mlx.core as mx; print("Python MLX", mx.__version__, mx.default_device())'
} 2>&1 | tee -a "$log" > "$out/gpu.txt"
rows=$(mktemp)
run() { echo "=== $*" >>"$log"; "$@" 2>>"$log" | tee -a "$log" | grep '^| ' | grep -v -e '^| implementation' -e '^| ---' >>"$rows"; }
run "${mlx_env[@]}" "$bin" --runs 3
run "${mlx_env[@]}" python3 scripts/bench/decode_peers.py --impl mlx --device gpu --runs 3
run python3 scripts/bench/decode_peers.py --impl torch --device cuda --runs 3
{
  echo "## Generation, GPT-2 small, $(head -1 "$out/gpu.txt")"
  echo
  echo "| implementation | device | batch | prompt | new | prefill tokens/s | decode tokens/s |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  cat "$rows"
  echo
  sed -n '2,3p' "$out/gpu.txt"
} > "$table"
cat "$table"
