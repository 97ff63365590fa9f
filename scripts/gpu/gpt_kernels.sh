#!/usr/bin/env bash
# Where the GPT-2 step's time goes, on the GPU machine: each operation of the
# step timed on its own at GPT-2 small's shapes, MLX (benches/gpt --kernels)
# and PyTorch (gpt_torch.py --kernels), then the DSL, the hand-written step
# and PyTorch at batch 32 (a more compute-bound point than 16).
#
#   bash scripts/gpu/gpt_kernels.sh MLX_DIR GPT_BIN OUT_DIR
#
# MLX_DIR and GPT_BIN as for scripts/gpu/gpt_run.sh. Writes OUT_DIR/kernels.md
# and OUT_DIR/batch32.md.
set -uo pipefail
mlx_dir=${1:?usage: gpt_kernels.sh MLX_DIR GPT_BIN OUT_DIR} bin=${2:?GPT_BIN} out=${3:?OUT_DIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
export PYTHONUNBUFFERED=1 MLX_CUDA_GRAPH_CACHE_SIZE=${MLX_CUDA_GRAPH_CACHE_SIZE:-4000}
exports=$(bash "$mlx_dir/mlx-cuda-unpack" "$mlx_dir")
ld=$(eval "$exports"; echo "$LD_LIBRARY_PATH")
cuda_home=$(eval "$exports"; echo "$CUDA_HOME")
# MLX's CUDA build for the MLX binary only; PyTorch keeps its own environment.
mlx=(env LD_LIBRARY_PATH="$ld" CUDA_HOME="$cuda_home" "$bin" --device gpu)
torch=(python3 scripts/gpu/gpt_torch.py --device cuda)
{
  timeout 150 "${mlx[@]}" --kernels
  timeout 120 "${torch[@]}" --kernels | tail -n +3
} 2>&1 | tee "$out/kernels.md"
{
  timeout 150 "${mlx[@]}" --size gpt2-small --batch 32 --warmup 3 --steps 10 --variant dsl,mlx
  timeout 200 "${torch[@]}" --size gpt2-small --batch 32 --warmup 3 --steps 10 \
    --variant torch-eager,torch-compile --no-header
} 2>&1 | tee "$out/batch32.md"
