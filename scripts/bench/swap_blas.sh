#!/usr/bin/env bash
# Points a Python environment's MLX (the PyPI wheel `mlx-cpu`) at Debian's
# OpenBLAS, as `cargo mithril setup` does for the Rust build's copy of the same wheel.
#
#   scripts/bench/swap_blas.sh [PYTHON]     # default: build/bench-venv/bin/python
#
# The wheel's libmlx.so finds netlib's reference BLAS and LAPACK,
# `mlx_cpu.libs/libblas-*.so*` and `liblapack-*.so*`, through its RPATH; this
# replaces those two files by symlinks to
# /usr/lib/x86_64-linux-gnu/openblas-pthread/{libblas,liblapack}.so.3
# (same ABI), keeping the originals as `*.reference`. Idempotent; `--undo`
# as a second argument puts the originals back.
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${1:-build/bench-venv/bin/python}"
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
[[ -f "$openblas/libblas.so.3" ]] || {
  echo "no $openblas/libblas.so.3: apt-get install libopenblas0-pthread" >&2
  exit 1
}
libs="$("$python" - <<'PY'
import importlib.util, os, sys
spec = importlib.util.find_spec("mlx")
if spec is None:
    sys.exit("mlx is not installed for this interpreter")
site = os.path.dirname(list(spec.submodule_search_locations)[0])
print(os.path.join(site, "mlx_cpu.libs"))
PY
)"
[[ -d "$libs" ]] || { echo "no $libs (is mlx-cpu installed?)" >&2; exit 1; }
for f in "$libs"/libblas-*.so* "$libs"/liblapack-*.so*; do
  [[ "$f" == *.reference ]] && continue
  case "$(basename "$f")" in
    libblas-*) target="$openblas/libblas.so.3" ;;
    liblapack-*) target="$openblas/liblapack.so.3" ;;
  esac
  if [[ "${2:-}" == --undo ]]; then
    if [[ -L "$f" && -f "$f.reference" ]]; then mv -f "$f.reference" "$f"; echo "restored $f"; fi
    continue
  fi
  if [[ -L "$f" ]]; then
    echo "already a symlink: $f -> $(readlink "$f")"
  else
    mv "$f" "$f.reference"
    ln -s "$target" "$f"
    echo "swapped: $f -> $target"
  fi
done
