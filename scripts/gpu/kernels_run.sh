#!/usr/bin/env bash
# The fused kernels' GPU check, on the GPU machine (no Rust, no network):
# each kernel of mithril::kernel (layer norm, residual add + layer norm,
# bias + GELU) against the MLX operations it replaces, outputs and
# gradients in f32 and bf16, and both timed at GPT-2 small's shapes; then
# the layer tests of the numeric suite, whose LayerNorm now lowers through
# the kernel on the GPU.
#
#   bash scripts/gpu/kernels_run.sh MLX_DIR BIN OUT_DIR
#
# MLX_DIR holds the pieces made by scripts/gpu/mlx-cuda-pack; BIN is the
# release example `kernel_check` (`cargo build --release --example
# kernel_check`: target/release/examples/kernel_check). With NUMERIC_BIN
# set to the numeric test binary (`cargo test --release --test numeric
# --no-run` prints it), that runs too. Writes OUT_DIR/kernel_check.md and
# OUT_DIR/kernels_log.txt.
set -uo pipefail
mlx_dir=${1:?usage: kernels_run.sh MLX_DIR BIN OUT_DIR} bin=${2:?BIN} out=${3:?OUT_DIR}
cd "$(dirname "$0")/../.."
repo=$(pwd)
mkdir -p "$out"
eval "$(bash "$mlx_dir/mlx-cuda-unpack" "$mlx_dir")"
export MLX_CUDA_GRAPH_CACHE_SIZE=${MLX_CUDA_GRAPH_CACHE_SIZE:-4000}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/gpu.txt"
status=0
timeout 300 "$bin" 2>&1 | tee "$out/kernel_check.md" || status=$?
if [[ -n "${NUMERIC_BIN:-}" ]]; then
  # Tests find their fixtures under the path they were built in.
  mkdir -p /work && ln -sfn "$repo" /work/main
  MITHRIL_EXPECT_GPU=1 MITHRIL_TEST_DEVICE=gpu timeout 300 "$NUMERIC_BIN" --test-threads=1 norm \
    2>&1 | tee "$out/kernels_log.txt" || status=$?
fi
exit "$status"
