#!/usr/bin/env bash
# Build the provider and run the end-to-end demo against a local AWS emulator.
#   bash scripts/demo.sh [--verbose]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# cargo may be installed by rustup without being on PATH (e.g. a non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

bash scripts/setup.sh
# The `ci` profile (release settings without LTO, as scripts/test.sh builds): the test command
# after the demo reuses this build, and it links in a fraction of LTO's time.
cargo build --profile ci --bin bootstrap
target_dir="${CARGO_TARGET_DIR:-target}"
export MOTO_SERVER="$(cd "$target_dir/tools" && pwd)/moto_server"
exec "$target_dir/tools/python" scripts/demo.py "$target_dir/ci/bootstrap" "$@"
