#!/usr/bin/env bash
# One entry point for building, running and testing mithril on a fresh machine.
#
#   ./dev.sh example [ARGS...]   set up, then train the main example (MNIST CNN);
#                                with --gpu, on MLX's CUDA build (NVIDIA GPUs)
#   ./dev.sh train [ARGS...]     the same for the MNIST training application
#                                (checkpoints, --resume, metrics, chart)
#   ./dev.sh test                set up, then run everything CI checks
#   ./dev.sh setup               only the set-up
#
# The set-up is the one a user's own crate gets (README, docs/building.md):
# it installs `cargo mithril` from this checkout, runs `cargo mithril setup`
# (Debian packages, MLX for this user on Linux) and `cargo mithril init`
# (this workspace's .cargo/config.toml, which git ignores). Each step returns
# at once when there is nothing to do. On macOS, mlx-sys builds MLX itself.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\033[1m[dev.sh]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[dev.sh]\033[0m %s\n' "$*" >&2; exit 1; }

platform() { echo "$(uname -s)-$(uname -m)"; }

# `cargo install` from this checkout, as the README tells users; its build
# directory is kept under target/ so a second run only copies the binary.
install_cargo_mithril() {
  cargo install --locked --quiet --path cargo-mithril --target-dir target/cargo-mithril
}

setup() {
  command -v cargo >/dev/null || die "cargo not found: install Rust 1.95.0 (rust-toolchain.toml pins it)"
  case "$(platform)" in
    Linux-x86_64)
      install_cargo_mithril
      cargo mithril setup
      cargo mithril init .
      ;;
    Darwin-*) ;; # mlx-sys builds MLX with Metal; Xcode's command-line tools and CMake are enough.
    *) die "unsupported platform $(platform): mithril runs on Linux x86_64 (CPU, CUDA) and macOS" ;;
  esac
}

# What a user does with `cargo mithril` (README, docs/getting-started.md), in
# temporary directories outside this checkout: a generated crate runs and
# passes its test; an existing crate given the configuration by `init`
# reports a shape mistake as the usual compile error, and runs once fixed.
# They share this workspace's target directory (same lockfile, profile and
# flags), so little is rebuilt.
check_user_crates() {
  local dir checkout="$PWD"
  dir="$(mktemp -d)"
  export CARGO_TARGET_DIR="$checkout/target"

  log "user crate from cargo mithril new: cargo run, cargo test"
  cargo mithril new "$dir/myapp" --mithril-path "$checkout"
  (cd "$dir/myapp" && cargo run --quiet && cargo test --quiet)

  log "existing crate with cargo mithril init: a shape mistake, then the fix"
  cargo new --quiet --bin "$dir/existing"
  cp Cargo.lock "$dir/existing/"
  (cd "$dir/existing" && cargo mithril init --mithril-path "$checkout")
  cat > "$dir/existing/src/main.rs" <<'EOF'
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Linear(16) -> Relu => h;
        Add(x, h) => y;
        output y;
    }
}

fn main() {
    let backend = mithril::MlxBackend::new().unwrap();
    let params = Net::init(&backend).unwrap();
    let x = mithril::mlx_rs::Array::ones::<f32>(&[2, 8]).unwrap();
    let out = Net::forward(&params, &NetInputs { x }).unwrap();
    println!("output shape {:?}", out.y.shape());
}
EOF
  local log_file="$dir/build.log"
  if (cd "$dir/existing" && cargo build --quiet 2>"$log_file"); then
    die "the shape mistake in $dir/existing compiled"
  fi
  grep -q 'needs equal (or broadcastable) shapes' "$log_file" \
    || { cat "$log_file"; die "the shape mistake did not give the expected error"; }
  grep -q 'src/main.rs:5' "$log_file" \
    || { cat "$log_file"; die "the shape error does not point at the layer"; }
  sed -i 's/Linear(16)/Linear(8)/' "$dir/existing/src/main.rs"
  (cd "$dir/existing" && cargo run --quiet) | grep -q 'output shape \[2, 8\]' \
    || die "the fixed crate did not run"
  unset CARGO_TARGET_DIR
  rm -rf "$dir"
}

# Runs example $1 in release with the remaining arguments; with --gpu among
# them, on MLX's CUDA build.
run_example() {
  local name="$1"
  shift
  setup
  if [[ " $* " == *" --gpu "* && "$(platform)" == Linux-x86_64 ]]; then
    cargo mithril setup --cuda
    exec cargo mithril run --gpu --release --locked --example "$name" -- "$@"
  fi
  exec cargo run --release --locked --example "$name" -- "$@"
}

cmd="${1:-}"
shift || true
case "$cmd" in
  setup) setup ;;
  example) run_example mnist "$@" ;;
  train) run_example train_mnist "$@" ;;
  test)
    setup
    # Every target but the benchmarks, which `cargo test` would run in full
    # (they are long-running mains); those are only built, so they cannot rot.
    cargo test --workspace --locked --lib --bins --tests --examples --all-features "$@"
    cargo build --workspace --locked --benches --all-features
    # The GPT benchmark's CPU check: its model against PyTorch, the loss falling.
    cargo test --locked --all-features --bench gpt
    cargo test --workspace --locked --all-features --doc
    # The examples' short modes assert their results, so they cannot rot.
    cargo run --locked --example mnist -- --quick --out target/ci-out
    cargo run --locked --example train_mnist -- --quick --out target/ci-out
    # The training application killed with SIGKILL and resumed with
    # --resume: the same final parameters and losses as an uninterrupted run.
    scripts/kill_resume_mnist.sh 2
    cargo run --locked --example classifier -- --quick
    cargo run --locked --example convnet -- --quick
    cargo run --locked --example custom_op -- --quick
    cargo run --locked --example adam -- --quick
    cargo run --locked --example save_load -- --quick --out target/ci-out
    cargo run --locked --example half_precision -- --quick
    cargo run --locked --example residual -- --quick
    cargo run --locked --example char_lm -- --quick
    cargo run --locked --example generate -- --quick
    cargo run --locked --example families -- --quick
    # Data-parallel: two ranks of the training application on loopback (ring backend).
    [[ "$(platform)" == Linux-x86_64 ]] && cargo mithril launch -n 2 -- \
      cargo run --locked --example train_mnist -- --quick --out target/ci-out-dp
    # A crate whose model uses blocks of another crate and module (zoo/).
    cargo run --locked -p zoo-app
    [[ "$(platform)" == Linux-x86_64 ]] && check_user_crates
    cargo clippy --workspace --locked --all-targets --all-features -- -D warnings
    cargo fmt --all --check
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
