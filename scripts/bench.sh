#!/usr/bin/env bash
# The performance figures of issue 5, measured and printed as one table (definitions, and how
# each figure is taken, are at the top of benches/perf/main.rs).
#
#   bash scripts/bench.sh            # full: 30 cold starts, repeated Creates (a few minutes)
#   bash scripts/bench.sh --smoke    # every measurement once, quickly (for CI)
#   bash scripts/bench.sh --strict   # also exit 1 when a target is missed
#   BENCH_PROFILE=ci bash scripts/bench.sh --smoke    # CI: product and harness on the test build
#
# Steps: setup (pinned moto, zip, GNU time) → `cargo build --release --bin bootstrap` (the
# product; snapshotted to target/bench/bootstrap) → `cargo bench --bench perf`. The harness is
# built in its own profile `perf` (release settings without LTO, so it links in seconds and
# target/release keeps the product build); process-level figures use the release snapshot.
# Exit status 1 when an answer was wrong (not delivered exactly once, wrong status) or a run
# broke; missed targets are FAIL rows (and exit 1 only with --strict). Details of the last run:
# target/tmp/bench/perf.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# cargo may be installed by rustup without being on PATH (e.g. a non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

log() { printf '[bench] %s\n' "$*" >&2; }

for arg in "$@"; do
  case "$arg" in
    --smoke | --strict) ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) log "unknown argument $arg (use --smoke and/or --strict)"; exit 2 ;;
  esac
done

log "setup"
bash scripts/setup.sh
missing=()
command -v zip >/dev/null 2>&1 || missing+=(zip)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  command -v apt-get >/dev/null 2>&1 || { log "need ${missing[*]}; install by hand"; exit 1; }
  log "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The harness starts moto itself (tests/support): the pinned moto of setup's venv, through
# scripts/moto_server.py (as scripts/test.sh does).
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir/bench"
export MOTO_SERVER
MOTO_SERVER="$(cd "$target_dir/tools" && pwd)/moto_server"

# BENCH_PROFILE=ci (CI's smoke run) builds the product and the harness with the tests' profile,
# reusing its compiled dependencies: figures then are not the shipped build's, but every answer
# is still checked. Otherwise the product is the release build, the harness profile `perf`.
profile="${BENCH_PROFILE:-perf}"
product_profile="${BENCH_PROFILE:-release}"
log "cargo build --profile $product_profile --bin bootstrap"
cargo build --profile "$product_profile" --bin bootstrap
# A copy, not the hard link cargo maintains: later builds cannot change what is measured.
cp "$target_dir/$product_profile/bootstrap" "$target_dir/bench/bootstrap"
BENCH_BOOTSTRAP="$(cd "$target_dir/bench" && pwd)/bootstrap"
export BENCH_BOOTSTRAP

log "cargo bench --bench perf --profile $profile $*"
exec cargo bench --bench perf --profile "$profile" \
  --config 'profile.perf.inherits="release"' \
  --config 'profile.perf.lto=false' \
  --config 'profile.perf.codegen-units=16' \
  -- "$@"
