#!/usr/bin/env bash
# Idempotent machine setup for building, testing and demoing the provider.
#
# Needs: a Rust toolchain (cargo), Python 3.11+ with pip. Installs, only if
# missing: the pinned moto server (PyPI), rustfmt/clippy (rustup), and, via
# apt-get, a C compiler (for aws-lc-sys) or pip. Safe to run repeatedly.
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
command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain (rustup) first"
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

# --- Python + moto -------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3 python3-pip
"$PYTHON" -m pip --version >/dev/null 2>&1 || apt_install python3-pip
"$PYTHON" scripts/emulator.py ensure-moto

log "ok: $(cargo --version), $("$PYTHON" --version 2>&1), moto $("$PYTHON" -c 'import importlib.metadata as m; print(m.version("moto"))')"
