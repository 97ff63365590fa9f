#!/usr/bin/env bash
# Runs on the GPU machine (no Rust, no network): the binaries built on the
# CPU machine, pointed at MLX's CUDA libmlx.so at run time. See docs/gpu.md.
#
#   bash scripts/gpu/run.sh MLX_DIR BIN_DIR OUT_DIR
#
# MLX_DIR holds the pieces made by scripts/gpu/mlx-cuda-pack (reassembled
# here with mlx-cuda-unpack); BIN_DIR the test, bench and example binaries.
# With MLX_WHEEL set to PyPI's mlx==0.32.2 wheel (the Python bindings), the
# comparison benchmark also times Python MLX on the GPU: the wheel is
# unpacked beside the CUDA libmlx.so, as scripts/gpu/gpt_run.sh does.
set -uo pipefail
mlx_dir=$1 bin=$2 out=$3
repo=$(pwd)
eval "$(bash "$mlx_dir/mlx-cuda-unpack" "$mlx_dir")"
export MITHRIL_EXPECT_GPU=1 MITHRIL_TEST_DEVICE=gpu PYTHONUNBUFFERED=1
# MLX's CUDA graph cache (400 by default) thrashes on the CNN's many shapes
# when several models share the process (the benchmark), which MLX reports
# as an error.
export MLX_CUDA_GRAPH_CACHE_SIZE=${MLX_CUDA_GRAPH_CACHE_SIZE:-4000}
# Tests find their fixtures under the path they were built in.
mkdir -p /work && ln -sfn "$repo" /work/main
if [[ -n "${MLX_WHEEL:-}" ]] && python3 -m zipfile -e "$MLX_WHEEL" "$mlx_dir/site"; then
  export PYTHONPATH="$mlx_dir/site${PYTHONPATH:+:$PYTHONPATH}" MITHRIL_BENCH_PYTHON=python3
else
  echo "no Python MLX rows in compare: MLX_WHEEL is not set or could not be unpacked" >&2
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"

step() { echo "=== $*" | tee -a "$out/log.txt"; "$@" 2>&1 | tee -a "$out/log.txt"; }
for t in backend gradients numeric training train_mode; do
  step "$bin/$t" --test-threads=1
done
step "$bin/compare"
step "$bin/throughput"
step python3 scripts/gpu/torch_bench.py
step "$bin/train_mnist" --gpu --out "$out" --epochs "${MNIST_EPOCHS:-5}"
