#!/usr/bin/env bash
# One entry point for building, running and testing mithril on a fresh machine.
#
#   ./dev.sh example [ARGS...]   set up, then train the main example (MNIST CNN)
#   ./dev.sh test                set up, then run the whole test suite
#   ./dev.sh setup               only the set-up: apt packages, the MLX wheel, OpenBLAS
#   ./dev.sh cuda                NVIDIA GPUs: fetch MLX's CUDA build, print its environment
#                                (eval "$(./dev.sh cuda)"); `./dev.sh example --gpu` does both
#
# The set-up is idempotent: a second run checks a stamp and returns at once.
# On Linux x86_64 MLX comes from the PyPI wheel mlx-cpu==0.32.2, unpacked into
# build/mlx/ (ignored by git) with Debian's OpenBLAS in place of the wheel's
# reference BLAS (about 30x faster matmul). On macOS mlx-sys builds MLX itself.
set -euo pipefail
cd "$(dirname "$0")"

readonly MLX_VERSION=0.32.2
readonly WHEEL_NAME="mlx_cpu-${MLX_VERSION}-py3-none-manylinux_2_35_x86_64.whl"
readonly WHEEL_SHA256=fc5d31b90fc4f457b2f9614ed45651a567d22a6a11a03d114a90a4e10bdd8878
readonly WHEEL_DIR="build/mlx/mlx-cpu-${MLX_VERSION}"
readonly STAMP="$WHEEL_DIR/.mithril-ready"
readonly OPENBLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
# Debian packages: the C/C++ toolchain and CMake for mlx-c, libclang for
# bindgen, OpenBLAS, and pip plus Python for fetching the wheel.
readonly APT_PACKAGES=(build-essential cmake clang libclang-dev libopenblas0-pthread python3 python3-pip)

log() { printf '\033[1m[dev.sh]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[dev.sh]\033[0m %s\n' "$*" >&2; exit 1; }

ensure_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      # python3/pip may come from elsewhere (pyenv); only ask apt when absent.
      case "$pkg" in
        python3) command -v python3 >/dev/null && continue ;;
        python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
      esac
      missing+=("$pkg")
    fi
  done
  ((${#missing[@]} == 0)) && return
  if [[ "$(id -u)" != 0 ]]; then
    die "missing Debian packages; run this, then ./dev.sh again:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_mlx_wheel() {
  [[ -f "$STAMP" ]] && return
  local wheel="build/downloads/$WHEEL_NAME"
  if [[ ! -f "$wheel" ]]; then
    log "downloading mlx-cpu==$MLX_VERSION from PyPI"
    mkdir -p build/downloads
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux_2_35_x86_64 --python-version 3.11 \
      -d build/downloads "mlx-cpu==$MLX_VERSION"
  fi
  echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet \
    || die "$wheel does not have the expected sha256; delete it and run again"

  log "unpacking the wheel into $WHEEL_DIR"
  local staging="$WHEEL_DIR.partial"
  rm -rf "$staging"
  python3 -m zipfile -e "$wheel" "$staging"

  # The wheel's libmlx.so finds netlib reference BLAS/LAPACK through its RPATH
  # ($ORIGIN/../../mlx_cpu.libs); point those names at OpenBLAS instead.
  local lib found=0
  for lib in "$staging"/mlx_cpu.libs/libblas-*.so* "$staging"/mlx_cpu.libs/liblapack-*.so*; do
    [[ -e "$lib" ]] || continue
    case "$(basename "$lib")" in
      libblas-*) ln -sf "$OPENBLAS_DIR/libblas.so.3" "$lib" ;;
      liblapack-*) ln -sf "$OPENBLAS_DIR/liblapack.so.3" "$lib" ;;
    esac
    found=$((found + 1))
  done
  ((found == 2)) || die "expected the wheel to bundle libblas and liblapack, found $found of them"
  [[ -e "$OPENBLAS_DIR/libblas.so.3" ]] || die "OpenBLAS not found at $OPENBLAS_DIR"

  rm -rf "$WHEEL_DIR"
  mv "$staging" "$WHEEL_DIR"
  touch "$STAMP"
}

# NVIDIA GPUs: MLX's CUDA build from PyPI (mlx-cuda-13) with its CUDA
# libraries, unpacked side by side so libmlx.so's RPATH finds them. Binaries
# built against the CPU wheel pick this libmlx.so at run time through
# LD_LIBRARY_PATH (see docs/gpu.md).
readonly CUDA_DIR="build/mlx/mlx-cuda-13-${MLX_VERSION}"

ensure_mlx_cuda() {
  [[ -f "$CUDA_DIR/.mithril-ready" ]] && return
  log "downloading mlx-cuda-13==$MLX_VERSION and its CUDA libraries from PyPI (about 1.5 GB)"
  mkdir -p build/downloads/cuda
  local platforms=() n
  for n in 35 34 31 28 27 24 17; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
  python3 -m pip download --quiet --only-binary=:all: "${platforms[@]}" \
    --platform manylinux2014_x86_64 --python-version 3.12 --implementation cp \
    -d build/downloads/cuda "mlx-cuda-13==$MLX_VERSION"
  local staging="$CUDA_DIR.partial" wheel
  rm -rf "$staging"
  for wheel in build/downloads/cuda/*.whl; do
    python3 -m zipfile -e "$wheel" "$staging/site"
  done
  rm -rf "$CUDA_DIR"
  mv "$staging" "$CUDA_DIR"
  touch "$CUDA_DIR/.mithril-ready"
}

# Prints the environment that makes binaries use the CUDA libmlx.so.
cuda_env() {
  local site="$PWD/$CUDA_DIR/site" cuda_home=/usr/local/cuda
  [[ -d "$site/nvidia/cu13/include" ]] && cuda_home="$site/nvidia/cu13"
  echo "export LD_LIBRARY_PATH=$site/mlx/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  echo "export CUDA_HOME=\${CUDA_HOME:-$cuda_home}"
}

setup() {
  command -v cargo >/dev/null || die "cargo not found: install Rust 1.95.0 (rust-toolchain.toml pins it)"
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64)
      ensure_apt_packages
      ensure_mlx_wheel
      ;;
    Darwin-*) ;; # mlx-sys builds MLX with Metal; Xcode's command-line tools and CMake are enough.
    *) die "unsupported platform $(uname -s)-$(uname -m): mithril runs on Linux x86_64 (CPU, CUDA) and macOS" ;;
  esac
}

# rustdoc compiles and links doctests itself, without the rustc wrapper: on
# Linux give it the wheel's lib dir and an rpath, as the wrapper does for tests.
export_doctest_flags() {
  [[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || return 0
  local lib="$PWD/$WHEEL_DIR/mlx/lib"
  export RUSTDOCFLAGS="${RUSTDOCFLAGS:+$RUSTDOCFLAGS }-L native=$lib -C link-arg=-Wl,-rpath,$lib"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  setup) setup ;;
  example)
    setup
    if [[ " $* " == *" --gpu "* && "$(uname -s)" == Linux ]]; then
      ensure_mlx_cuda
      eval "$(cuda_env)"
    fi
    exec cargo run --release --locked --example mnist -- "$@"
    ;;
  cuda)
    # Set up MLX's CUDA build and print the environment that selects it:
    #   eval "$(./dev.sh cuda)"
    setup >&2
    ensure_mlx_cuda >&2
    cuda_env
    ;;
  test)
    setup
    # Every target but the benchmarks, which `cargo test` would run in full
    # (they are long-running mains); those are only built, so they cannot rot.
    cargo test --workspace --locked --lib --bins --tests --examples --all-features "$@"
    cargo build --workspace --locked --benches --all-features
    export_doctest_flags
    cargo test --workspace --locked --all-features --doc
    # The examples' short modes assert their results, so they cannot rot.
    cargo run --locked --example mnist -- --quick --out target/ci-out
    cargo run --locked --example classifier -- --quick
    cargo run --locked --example convnet -- --quick
    cargo run --locked --example custom_op -- --quick
    cargo run --locked --example adam -- --quick
    cargo run --locked --example save_load -- --quick --out target/ci-out
    cargo run --locked --example half_precision -- --quick
    cargo run --locked --example residual -- --quick
    cargo run --locked --example char_lm -- --quick
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
