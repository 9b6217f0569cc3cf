#!/usr/bin/env bash
# Everything CI checks: formatting, lints, the Rust tests (against moto),
# the template checks if present, and the demo as a smoke test.
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# cargo may be installed by rustup without being on PATH (e.g. a non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash scripts/setup.sh

# The Rust tests start moto themselves (tests/support); point them at the
# pinned moto of the python3 that setup.sh installed it into, through
# scripts/moto_server.py (moto with fixes for some of its own bugs).
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir/tools"
moto_wrapper="$(cd "$target_dir/tools" && pwd)/moto_server"
printf '#!/bin/sh\nexec %q %q "$@"\n' "$(python3 -c 'import sys; print(sys.executable)')" "$PWD/scripts/moto_server.py" > "$moto_wrapper"
chmod +x "$moto_wrapper"
export MOTO_SERVER="$moto_wrapper"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets -- -D warnings

step "cargo build --release (tests run the release binary: panic = unwind is checked there)"
cargo build --release --bin bootstrap
export PROVIDER_BOOTSTRAP="$(cd "$target_dir/release" && pwd)/bootstrap"

if cargo nextest --version >/dev/null 2>&1; then
  step "cargo nextest run"
  cargo nextest run --all-targets
else
  step "cargo test"
  cargo test --all-targets
fi

if [ -f .ci/templates.sh ]; then
  step "template checks (.ci/templates.sh)"
  bash .ci/templates.sh
fi

if [ -f .ci/sam.sh ]; then
  step "Lambda build, Runtime API, sam local invoke (.ci/sam.sh)"
  bash .ci/sam.sh
fi

step "performance harness, smoke run (scripts/bench.sh --smoke: every figure once, every answer checked; timings are not judged here)"
BENCH_PROFILE=dev bash scripts/bench.sh --smoke

step "demo (smoke test)"
python3 scripts/demo.py "$target_dir/release/bootstrap"
