#!/usr/bin/env bash
# Everything CI checks (`.ci/run` runs exactly this):
#   bash scripts/test.sh
#
# Stages, in order (each timed; the table at the end gives the figures):
#   setup      scripts/setup.sh: rustfmt/clippy, the pinned moto in its own venv
#   fmt        cargo fmt --check
#   clippy     cargo clippy --all-targets -D warnings
#   build      the binary the tests run, in the `ci` profile: release settings (optimised,
#              panic = unwind, stripped) without LTO, so it builds in a fraction of the time;
#              the LTO build is for the shipped package only (.ci/sam.sh, arm64)
#   tests      cargo nextest run --all-targets, in the same profile (one build of every
#              dependency serves both); against moto on 127.0.0.1
#   templates  .ci/templates.sh: cfn-lint, sam validate --lint, checkov
#   lambda     .ci/sam.sh: sam build (arm64, the shipped package), the binary under AWS's
#              Runtime Interface Emulator, sam local invoke and the CloudFormation/StackSets
#              engines in Docker
#   bench      scripts/bench.sh --smoke on the same build (every answer checked)
#   demo       the demo as a smoke test
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# cargo may be installed by rustup without being on PATH (e.g. a non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

readonly PROFILE=ci
target_dir="${CARGO_TARGET_DIR:-target}"
stages=()
t_all=$SECONDS
elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $(( s / 60 )) $(( s % 60 )); }
summary() {
  local rc=$?
  printf '\n==> stages (%s)\n' "$([ "$rc" -eq 0 ] && echo "all passed" || echo "FAILED, exit $rc")"
  printf '%s\n' "${stages[@]}"
  printf '  %-10s %s\n' total "$(elapsed "$t_all")"
}
trap summary EXIT
# stage NAME COMMAND...: runs and times one stage (a failure ends the run, after the table).
stage() {
  local name=$1 t=$SECONDS
  shift
  printf '\n==> %s: %s\n' "$name" "$*"
  if "$@"; then
    stages+=("$(printf '  %-10s %s' "$name" "$(elapsed "$t")")")
  else
    local rc=$?
    stages+=("$(printf '  %-10s %s FAILED' "$name" "$(elapsed "$t")")")
    exit "$rc"
  fi
}

stage setup bash scripts/setup.sh
# The Rust tests start moto themselves (tests/support): the pinned moto of setup's venv,
# through scripts/moto_server.py (moto with fixes for some of its own bugs).
tools="$(cd "$target_dir/tools" && pwd)"
export MOTO_SERVER="$tools/moto_server"

# The S3 Batch Operations double against its own contract (boto3, a few seconds).
stage doubles "$tools/python" scripts/batch_double_check.py
stage fmt cargo fmt --all -- --check
stage clippy cargo clippy --all-targets -- -D warnings
stage build cargo build --profile "$PROFILE" --bin bootstrap
export PROVIDER_BOOTSTRAP
PROVIDER_BOOTSTRAP="$(cd "$target_dir/$PROFILE" && pwd)/bootstrap"
if cargo nextest --version >/dev/null 2>&1; then
  stage tests cargo nextest run --cargo-profile "$PROFILE" --all-targets
else
  stage tests cargo test --profile "$PROFILE" --all-targets
fi
stage templates bash .ci/templates.sh
stage lambda bash .ci/sam.sh
stage bench env BENCH_PROFILE="$PROFILE" bash scripts/bench.sh --smoke
stage demo "$tools/python" scripts/demo.py "$PROVIDER_BOOTSTRAP"
