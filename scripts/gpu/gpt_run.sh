#!/usr/bin/env bash
# The GPT-2 benchmark in one sitting on the GPU machine (no Rust, no network):
# the DSL's model (mithril_zoo::gpt through Trainer) and the hand-written
# mlx-rs step (benches/gpt, built on the CPU machine and
# pointed at MLX's CUDA libmlx.so at run time) and PyTorch eager and
# torch.compile (scripts/gpu/gpt_torch.py), at GPT-2 small and at the small
# launch-bound size, then the diagnostic rows while time is left.
#
#   bash scripts/gpu/gpt_run.sh MLX_DIR GPT_BIN OUT_DIR
#
# MLX_DIR holds the pieces made by scripts/gpu/mlx-cuda-pack and its
#   mlx-cuda-unpack (reassembled there on first use); "-" runs on whatever
#   libmlx the binary finds (the CPU wheel: for a dry run on the CPU machine).
#   The pieces are more than one call to the GPU machine may carry: copy
#   libmlx.xz.part-aa and mlx-cuda-unpack into MLX_DIR in a first call, and
#   libmlx.xz.part-ab and rest.tar.xz in the call that runs this script,
#   while the machine is still held (docs/gpu.md).
# GPT_BIN is the bench binary (cargo bench --bench gpt --no-run prints it).
# MLX_WHEEL (environment), PyPI's mlx==0.32.2 wheel for CPython 3.12: unpacked
#   beside the CUDA libmlx.so, it runs the Python MLX rows
#   (scripts/gpu/gpt_mlx.py); on a dry run ("-") PYTHON's own mlx does.
# OUT_DIR gets gpt_table.md (the table, the formula, failures and skips),
#   gpt_log.txt (every command's full output, with the host-time table of
#   the mlx and dsl rows: `--host-time`) and gpu.txt.
#
# Every row runs in its own process under a time limit, so one variant
# failing or hanging never stops the others; the whole sitting keeps to
# GPT_BUDGET_S seconds (default 450), skipping the diagnostic rows it has no
# time for. The script exits 0 even when rows failed: the table says which.
#
# Environment, for dry runs: GPT_SIZES (default "gpt2-small small"),
# GPT_MLX_DEVICE (gpu), GPT_TORCH_DEVICE (cuda), PYTHON (python3).
set -uo pipefail
mlx_dir=${1:?usage: gpt_run.sh MLX_DIR GPT_BIN OUT_DIR} bin=${2:?GPT_BIN} out=${3:?OUT_DIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
table=$out/gpt_table.md log=$out/gpt_log.txt
: > "$table"
: > "$log"
budget=${GPT_BUDGET_S:-450}
sizes=${GPT_SIZES:-gpt2-small small}
mlx_device=${GPT_MLX_DEVICE:-gpu}
torch_device=${GPT_TORCH_DEVICE:-cuda}
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
# As scripts/gpu/run.sh: MLX's CUDA graph cache (400 by default) can thrash.
export MLX_CUDA_GRAPH_CACHE_SIZE=${MLX_CUDA_GRAPH_CACHE_SIZE:-4000}

note() { echo "$*" | tee -a "$log"; }

# MLX's CUDA build for the MLX binary only; PyTorch keeps its own environment.
mlx=("$bin" --device "$mlx_device")
if [[ "$mlx_dir" != "-" ]]; then
  if exports=$(bash "$mlx_dir/mlx-cuda-unpack" "$mlx_dir" 2>>"$log"); then
    ld=$(eval "$exports"; echo "$LD_LIBRARY_PATH")
    cuda_home=$(eval "$exports"; echo "$CUDA_HOME")
    mlx=(env LD_LIBRARY_PATH="$ld" CUDA_HOME="$cuda_home" "${mlx[@]}")
  else
    note "mlx-cuda-unpack failed: the MLX rows will fail (see $log)"
  fi
fi
torch=("$python" scripts/gpu/gpt_torch.py --device "$torch_device")
# Python MLX, the same engine as the DSL written plainly: the reference row.
pymlx=()
if [[ "$mlx_dir" == "-" ]]; then
  pymlx=("$python" scripts/gpu/gpt_mlx.py --device "$mlx_device")
elif [[ -n "${MLX_WHEEL:-}" && -n "${ld:-}" ]] && "$python" -m zipfile -e "$MLX_WHEEL" "$mlx_dir/site" 2>>"$log"; then
  pymlx=(env LD_LIBRARY_PATH="$ld" CUDA_HOME="$cuda_home" PYTHONPATH="$mlx_dir/site"
    "$python" scripts/gpu/gpt_mlx.py --device "$mlx_device")
else
  note "no Python MLX rows: MLX_WHEEL is not set or could not be unpacked"
fi

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>&1
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
  "${mlx[@]}" --formula --size tiny 2>&1 | head -1
} > "$out/gpu.txt"
cat "$out/gpu.txt" >> "$log"

failures=() skipped=()
start=$SECONDS
# row LIMIT_S LABEL COMMAND...: runs COMMAND under the smaller of LIMIT_S and
# the time left, appends its table rows to the table and all output to the log.
row() {
  local limit=$1 label=$2
  shift 2
  local left=$((budget - (SECONDS - start)))
  if ((left < 15)); then
    note "=== skipped (no time left): $label"
    skipped+=("$label")
    return
  fi
  ((limit > left)) && limit=$left
  note "=== $label (limit ${limit} s, ${left} s left)"
  local t0=$SECONDS tmp
  tmp=$(mktemp)
  timeout -k 10 "$limit" "$@" >"$tmp" 2>>"$log"
  local rc=$?
  cat "$tmp" >>"$log"
  grep '^| ' "$tmp" | grep -v -e '^| variant ' -e '^| ---' >>"$table"
  rm -f "$tmp"
  note "--- rc $rc after $((SECONDS - t0)) s"
  if ((rc == 124 || rc == 137)); then
    failures+=("$label: timed out after $limit s")
  elif ((rc != 0)); then
    failures+=("$label: exit $rc")
  fi
}

steps_for() { # the diagnostic rows' steps (fewer than the main rows')
  case $1 in gpt2-small) echo "--warmup 3 --steps 10" ;; *) echo "--warmup 5 --steps 20" ;; esac
}

# The main rows, each also pipelined: MLX and PyTorch eager at both sizes
# first, then torch.compile (its compilation is the slowest part of the
# sitting), so a slow compile cannot crowd out the other main rows.
for size in $sizes; do
  if [[ $size == gpt2-small ]]; then lim=(200 90); else lim=(120 60); fi
  row "${lim[0]}" "mlx and dsl $size" "${mlx[@]}" --size "$size" --variant mlx,dsl --pipelined --host-time --no-header
  if ((${#pymlx[@]})); then
    row "${lim[1]}" "mlx-python $size" "${pymlx[@]}" --size "$size" --pipelined --no-header
  fi
  row "${lim[1]}" "torch-eager $size" "${torch[@]}" --size "$size" --variant torch-eager --pipelined --no-header
done
for size in $sizes; do
  if [[ $size == gpt2-small ]]; then lim=150; else lim=120; fi
  row "$lim" "torch-compile $size" "${torch[@]}" --size "$size" --variant torch-compile --pipelined --no-header
done

# Where the time goes: forward only, forward + backward (no AdamW), attention
# written out (prices the fused SDPA kernels: cuDNN in MLX, flash in PyTorch),
# f32 compute (TF32 matmuls in both), and MLX uncompiled.
for size in $sizes; do
  # shellcheck disable=SC2046
  row 120 "mlx diagnostics $size" "${mlx[@]}" --size "$size" $(steps_for "$size") --no-header \
    --variant mlx-forward,mlx-fwd-bwd,mlx-unfused-attention,mlx-f32,mlx-eager
  # shellcheck disable=SC2046
  row 90 "torch diagnostics $size" "${torch[@]}" --size "$size" $(steps_for "$size") --no-header \
    --variant torch-forward,torch-fwd-bwd,torch-eager-unfused-attention,torch-eager-f32
done

# PyTorch's own account of one GPT-2-small step's kernels (top of the table in the log).
row 60 "torch-eager profile ${sizes%% *}" "${torch[@]}" --size "${sizes%% *}" --variant torch-eager \
  --warmup 3 --steps 3 --profile --no-header

{
  echo
  echo "## GPT-2 training step, $(head -1 "$out/gpu.txt")"
  echo
  for size in $sizes; do
    "${mlx[@]}" --formula --size "$size" 2>/dev/null | sed -n 2p ||
      "${torch[@]}" --size "$size" --formula | sed -n 2p
    echo
  done
  echo "| variant | size | pass | batch x seq | ms/step (median) | tokens/s | MFU | peak memory | loss (first -> last) |"
  echo "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
  cat "$table"
  echo
  echo "dsl rows: mithril_zoo::gpt (model!) through mithril::train::Trainer; mlx-python rows: scripts/gpu/gpt_mlx.py (Python MLX, the same engine);" \
    "other mlx* rows: benches/gpt (hand-written mlx-rs; $(grep '^MLX ' "$out/gpu.txt" | head -1));" \
    "torch* rows: scripts/gpu/gpt_torch.py ($(grep '^torch ' "$out/gpu.txt" | head -1))." \
    "Synchronised steps, median; (pipelined): steps back to back, mean."
  echo "Wall time of the sitting: $((SECONDS - start)) s."
  for f in "${failures[@]}"; do echo "FAILED: $f"; done
  for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
} > "$table.tmp"
mv "$table.tmp" "$table"
cat "$table"
