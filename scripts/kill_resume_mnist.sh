#!/usr/bin/env bash
# Kill-and-resume check of the MNIST training application
# (examples/train_mnist), as a user would meet it: one run is left alone,
# another is killed with SIGKILL at random moments and continued with
# `--resume` each time; the final parameters must be
# byte-identical and the per-epoch losses and accuracies the same.
#
#   scripts/kill_resume_mnist.sh [--release] [KILLS] [-- EXAMPLE FLAGS...]
#
# Defaults: a debug build, 5 kills, flags `--quick --checkpoint-every 7`.
# Kill times are drawn uniformly from [0, 2T/KILLS), T the uninterrupted
# run's duration (seeded by $SEED, default 1), so the kills spread over the
# run; a run that finishes before its kill ends the killing. Run from the repository root after
# ./dev.sh setup. Exit status 0 when everything matches.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
build=()
if [[ "${1:-}" == --release ]]; then
  profile=release
  build=(--release)
  shift
fi
kills="${1:-5}"
[[ $# -gt 0 ]] && shift
[[ "${1:-}" == -- ]] && shift
flags=("$@")
((${#flags[@]})) || flags=(--quick --checkpoint-every 7)

cargo build --quiet --locked "${build[@]}" --example train_mnist
bin="target/$profile/examples/train_mnist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The epoch lines and the final table, without the timings.
results() { sed -nE 's/^(epoch [0-9]+\/[0-9]+: train loss [0-9.]+, test accuracy [0-9.]+%).*/\1/p; s/^\| +([0-9]+) \| +([0-9.]+) \| +([0-9.]+%) .*/row \1 \2 \3/p' "$1"; }

# Milliseconds since the epoch (macOS's date has no %N).
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

start=$(now_ms)
"$bin" "${flags[@]}" --out "$work/straight" >"$work/straight.log"
duration_ms=$(($(now_ms) - start))
echo "uninterrupted run: ${duration_ms} ms"

RANDOM="${SEED:-1}"
killed=0
for ((i = 1; i <= kills; i++)); do
  if [[ -f "$work/killed/mnist-checkpoint.safetensors" ]]; then
    args=(--resume "$work/killed")
  else
    args=("${flags[@]}" --out "$work/killed")
  fi
  delay_ms=$(((RANDOM * 32768 + RANDOM) % (2 * duration_ms / kills + 1)))
  "$bin" "${args[@]}" >"$work/run-$i.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    killed=$((killed + 1))
    step=$(grep -o 'at step [0-9]*' "$work/run-$i.log" || true)
    echo "run $i: killed after ${delay_ms} ms ${step:+(resumed $step)}"
  else
    wait "$pid" || true
    echo "run $i: finished before the kill at ${delay_ms} ms"
    break
  fi
done

if [[ -f "$work/killed/mnist-checkpoint.safetensors" ]]; then
  "$bin" --resume "$work/killed" >"$work/last.log"
else
  "$bin" "${flags[@]}" --out "$work/killed" >"$work/last.log"
fi

status=0
if cmp -s "$work/straight/mnist-params.safetensors" "$work/killed/mnist-params.safetensors"; then
  echo "final parameters: byte-identical"
else
  echo "final parameters: DIFFER"
  status=1
fi
# Every epoch line a killed run printed before dying, and the last run's
# lines and table, must be the uninterrupted run's.
cat "$work"/run-*.log "$work/last.log" | grep '^epoch' | sed -nE 's/^(epoch [0-9]+\/[0-9]+: train loss [0-9.]+, test accuracy [0-9.]+%).*/\1/p' | sort -u >"$work/seen"
results "$work/straight.log" | grep '^epoch' | sort -u >"$work/want"
if ! diff <(comm -23 "$work/seen" "$work/want") /dev/null >/dev/null; then
  echo "epoch lines not in the uninterrupted run:"
  comm -23 "$work/seen" "$work/want"
  status=1
fi
if diff <(results "$work/straight.log" | grep '^row') <(results "$work/last.log" | grep '^row'); then
  echo "final table (epoch, train loss, test accuracy): identical"
  results "$work/last.log" | grep '^row' | sed 's/^row /  epoch /'
else
  status=1
fi
echo "$killed kills; $([[ $status == 0 ]] && echo ok || echo FAILED)"
exit "$status"
