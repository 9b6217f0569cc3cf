#!/usr/bin/env bash
# Idempotent machine setup for building, testing and demoing the provider.
#
#   bash scripts/setup.sh
#
# Needs (README "Prerequisites"): a Rust toolchain (rustup), Python 3.11+. Installs, only if
# missing: rustfmt/clippy (rustup), a C compiler (apt-get; aws-lc-sys builds C), Python's venv
# module (apt-get), and the pinned moto (PyPI) into its own virtual environment
#
#     $S3RP_TOOLS_DIR/moto     (default ~/.cache/s3-replication-provider-tools/moto)
#
# never into the machine's or the user's Python. Then writes, for the other scripts:
#
#     <target dir>/tools/python        that venv's interpreter (runs the Python scripts)
#     <target dir>/tools/moto_server   moto with the project's fixes (scripts/moto_server.py)
#
# and prints both. Safe to run repeatedly; fast when everything is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# cargo may be installed by rustup without being on PATH (e.g. a non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "need $* but apt-get is not available; install it by hand"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Rust -------------------------------------------------------------------
command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain first (README \"Prerequisites\": curl https://sh.rustup.rs -sSf | sh)"
for component in rustfmt clippy; do
  sub=$([ "$component" = rustfmt ] && echo fmt || echo clippy)
  if ! cargo "$sub" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 || die "cargo $sub missing and rustup not found"
    log "rustup component add $component"
    rustup component add "$component"
  fi
done
# aws-lc-sys (rustls' crypto provider) compiles C.
command -v cc >/dev/null 2>&1 || apt_install build-essential

# --- Python: the pinned moto in its own virtual environment -------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "Python 3.11 or newer is needed ($("$PYTHON" --version 2>&1)); set PYTHON to one"
tools_dir=${S3RP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/s3-replication-provider-tools}
venv="$tools_dir/moto"
if [ ! -x "$venv/bin/python" ]; then
  "$PYTHON" -m venv --help >/dev/null 2>&1 && "$PYTHON" -c 'import ensurepip' 2>/dev/null ||
    apt_install python3-venv
  log "creating $venv"
  mkdir -p "$tools_dir"
  "$PYTHON" -m venv "$venv"
fi
# scripts/emulator.py installs the pin (moto with its server extras) into the venv it runs in.
PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" scripts/emulator.py ensure-moto

target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir/tools"
tools="$(cd "$target_dir/tools" && pwd)"
# A script, not a link: Python finds its venv from the path it is started by, and a link
# elsewhere would start the base interpreter (with whatever moto the machine has, or none).
rm -f "$tools/python"
printf '#!/bin/sh\nexec %q "$@"\n' "$venv/bin/python" >"$tools/python"
chmod +x "$tools/python"
printf '#!/bin/sh\nexec %q %q "$@"\n' "$venv/bin/python" "$PWD/scripts/moto_server.py" >"$tools/moto_server"
chmod +x "$tools/moto_server"

log "ok: $(cargo --version), $("$venv/bin/python" --version 2>&1) in $venv, moto $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))')"
log "python for the scripts: $tools/python; moto: $tools/moto_server"
