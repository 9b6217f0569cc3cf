#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Offline checks of the Lambda package and runtime (no AWS account needed):
#
#   bash .ci/sam.sh
#
#   1. sam build          : `sam build --beta-features` of sam/source-account/template.yaml
#                           (BuildMethod: rust-cargolambda) for arm64 (the template's
#                           default, the release profile as deployed) into .aws-sam/build;
#                           checks the bootstrap's ELF machine and reports its `zip -9`
#                           size. The x86_64 package that steps 3 and 4 run is the host
#                           build scripts/test.sh made ($PROVIDER_BOOTSTRAP, the `ci`
#                           profile: release without LTO), laid out in
#                           .aws-sam/build-x86_64 as `sam build` lays it out (seconds,
#                           instead of a second cargo-lambda build of every dependency);
#                           S3RP_X86_64_SAM_BUILD=1 runs a real `sam build` of the
#                           deployable x86_64 release instead, for its size.
#   1b. release           : scripts/release.sh from the two builds of step 1 (the arm64
#                           release build; the x86_64 host build standing in for the
#                           x86_64 release build, which it equals but for LTO) into
#                           .aws-sam/release: zips, SHA256SUMS, the packaged template,
#                           read back and checked; `sam validate --lint` of that template.
#   2. runtime API        : tests/runtime_api.rs (ignored in the first test run, which has
#                           no emulator): the bootstrap under AWS's Lambda Runtime
#                           Interface Emulator (shipped in aws-sam-cli), Create -> Update
#                           -> Delete against moto.
#   3. sam local invoke   : the x86_64 build in Docker (--invoke-image
#                           s3-replication-provider/lambda-base:al2023-x86_64, a
#                           locally built stand-in for AWS's provided.al2023 image,
#                           nothing pulled), Create -> Update -> Delete against moto
#                           (scripts/lambda/sam_local_invoke.py).
#   4. engines            : moto's CloudFormation and StackSets drive the same x86_64
#                           build (tests/engines.py): the release's packaged template,
#                           its x86_64 zip uploaded to a moto bucket, through the SAM
#                           transform, the examples as consumer stacks, the
#                           destination role rolled out to an organization's OU.
#   Steps 3 and 4 need a Docker engine: without one they print `SKIP:`, which
#   this script reports as a failure when `docker info` answers (a machine of
#   this project's kind always has an engine; CI must never pass on a skip).
#   Every image steps 3 and 4 build (s3-replication-provider/*) is removed at
#   the end (scripts/lambda/remove-images.sh).
#
# Installs what it needs (idempotent): the pinned moto (scripts/setup.sh),
# aws-sam-cli + cargo-lambda + ziglang (pinned, PyPI) in the tools venv that
# .ci/templates.sh also uses, the aarch64-unknown-linux-gnu Rust target
# (rustup), zip and busybox-static (apt-get). Only PyPI, crates.io, the Rust
# distribution server (rustup) and Debian's archive are reached.
#
# The Lambda builds use their own cargo target directory, kept across clones
# beside the tools venv ($S3RP_LAMBDA_TARGET_DIR, default
# <tools dir>/target-lambda): nothing in it is shared with the host builds of
# scripts/test.sh (other target triples, zig as linker), a fresh CI clone then
# only recompiles this crate, and the long release builds do not hold the lock
# of target/ that `cargo test`/`clippy` wait on. Step 2 uses target/ as usual.
# Exit status: non-zero if any step fails. Prints a timing and size summary.
# -----------------------------------------------------------------------------
set -euo pipefail

readonly SAM_CLI_VERSION=1.170.0     # same pin as .ci/templates.sh
readonly CARGO_LAMBDA_VERSION=1.9.2
readonly ZIGLANG_VERSION=0.15.2

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# cargo may be installed by rustup without being on PATH (non-login CI shell).
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

tools_dir=${S3RP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/s3-replication-provider-tools}
python_bin=${PYTHON:-python3}
venv="$tools_dir/sam"
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
lambda_target_dir=${S3RP_LAMBDA_TARGET_DIR:-$tools_dir/target-lambda}
host_bootstrap=${PROVIDER_BOOTSTRAP:-$target_dir/ci/bootstrap}
# The release CI makes (step 1b; in CI its x86_64 zip holds the host `ci`-profile build).
release_dir=.aws-sam/release

log() { printf '[sam.sh] %s\n' "$*" >&2; }
step() { printf '\n==> %s\n' "$*"; }
die() { log "ERROR: $*"; exit 1; }

summary=()
status=0
t_script=$SECONDS
record() { summary+=("$(printf '%-34s %s' "$1" "$2")"); }
elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $(( s / 60 )) $(( s % 60 )); }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB (%d bytes)", b / 1048576, b }'; }

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
APT_UPDATED=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "need $* but apt-get is not available"
  if [[ -z $APT_UPDATED ]]; then
    $SUDO apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---------------------------------------------------------------------------
step "setup"
# ---------------------------------------------------------------------------
t=$SECONDS
bash scripts/setup.sh
command -v zip >/dev/null 2>&1 || apt_install zip

pip_quiet() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2; }
dist_version() { "$venv/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true; }
if ! { [[ -x "$venv/bin/sam" ]] && "$venv/bin/sam" --version 2>/dev/null | grep -qF "$SAM_CLI_VERSION"; }; then
  log "installing aws-sam-cli==$SAM_CLI_VERSION into $venv"
  mkdir -p "$tools_dir"
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  pip_quiet "aws-sam-cli==$SAM_CLI_VERSION"
fi
if [[ $(dist_version cargo-lambda) != "$CARGO_LAMBDA_VERSION" || $(dist_version ziglang) != "$ZIGLANG_VERSION" ]]; then
  log "installing cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION into $venv"
  pip_quiet "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
"$venv/bin/sam" --version | grep -qF "$SAM_CLI_VERSION" || die "sam in $venv is not $SAM_CLI_VERSION"
rie="$("$venv/bin/python" -c 'import os, samcli; print(os.path.dirname(samcli.__file__))')/local/rapid/aws-lambda-rie-x86_64"
if [[ $(uname -m) == aarch64 ]]; then rie="${rie%-x86_64}-arm64"; fi
[[ -x $rie ]] || die "the Lambda Runtime Interface Emulator is missing: $rie"
export AWS_LAMBDA_RIE="$rie"

if command -v rustup >/dev/null 2>&1; then
  for triple in aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu; do
    if ! rustup target list --installed | grep -qx "$triple"; then
      log "rustup target add $triple"
      rustup target add "$triple"
    fi
  done
else
  rustc --print target-libdir --target aarch64-unknown-linux-gnu >/dev/null 2>&1 &&
    [[ -d "$(rustc --print target-libdir --target aarch64-unknown-linux-gnu)" ]] ||
    die "the aarch64-unknown-linux-gnu standard library is missing and rustup is not available"
fi

# moto (and the Python of the scripts) from setup.sh's venv.
tools="$(cd "$target_dir/tools" && pwd)"
export MOTO_SERVER="$tools/moto_server"
scripts_python="$tools/python"

log "sam $("$venv/bin/sam" --version | awk '{print $NF}'), $("$venv/bin/cargo-lambda" lambda --version), zig $("$venv/bin/python" -m ziglang version), $(cargo --version)"
record "setup" "$(elapsed "$t")"

export SAM_CLI_TELEMETRY=0
sam_app_dir=$(mktemp -d)
trap 'rm -rf "$sam_app_dir"; bash scripts/lambda/remove-images.sh || true' EXIT
export __SAM_CLI_APP_DIR="$sam_app_dir"
# No telemetry, and no weekly "is there a newer SAM CLI" request to PyPI.
printf '{"telemetryEnabled": false, "lastVersionCheck": %s}\n' "$(date +%s)" >"$sam_app_dir/metadata.json"

# elf_machine FILE -> x86_64 | arm64 | other
elf_machine() {
  "$python_bin" - "$1" <<'PY'
import sys
h = open(sys.argv[1], "rb").read(20)
m = int.from_bytes(h[18:20], "little") if h[:4] == b"\x7fELF" else -1
print({0x3E: "x86_64", 0xB7: "arm64"}.get(m, f"other({m})"))
PY
}

# sam_build ARCH BUILD_DIR: the deployable release build of ARCH, as `sam build` makes it.
sam_build() {
  local arch=$1 build_dir=$2 profile=release t=$SECONDS
  step "sam build ($arch, $profile profile) -> $build_dir"
  rm -rf "$build_dir"
  mkdir -p "$lambda_target_dir"
  # cargo-lambda and `python3 -m ziglang` (its zig) come from the venv; cargo stays the
  # toolchain's. SAM's cargo-lambda workflow builds into $CARGO_TARGET_DIR when set.
  # The release's RUSTFLAGS (no build path in the binary): scripts/release.sh reuses this build.
  if ! (export PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$lambda_target_dir" \
          RUSTFLAGS="$(bash scripts/release.sh --rustflags "$arch")"
        "$venv/bin/sam" build \
          --template-file sam/source-account/template.yaml \
          --build-dir "$build_dir" \
          --parameter-overrides "Architecture=$arch" \
          --beta-features --region us-east-1); then
    record "sam build $arch ($profile)" "FAIL ($(elapsed "$t"))"
    status=1
    return 1
  fi
  local bin="$build_dir/ProviderFunction/bootstrap" machine
  machine=$(elf_machine "$bin")
  if [[ $machine != "$arch" ]]; then
    log "ERROR: $bin is $machine, expected $arch"
    record "sam build $arch ($profile)" "FAIL (binary is $machine)"
    status=1
    return 1
  fi
  # The release's RUSTFLAGS reached the build: no build path of this machine in the binary.
  if grep -qF "${CARGO_HOME:-$HOME/.cargo}/registry/" "$bin"; then
    log "ERROR: $bin names ${CARGO_HOME:-$HOME/.cargo}/registry/: built without scripts/release.sh's RUSTFLAGS"
    record "sam build $arch ($profile)" "FAIL (build paths in the binary)"
    status=1
    return 1
  fi
  # The deployment package as `sam deploy` would upload it: bootstrap alone, deflate -9.
  local zip_file
  zip_file="$(cd "$build_dir" && pwd)/bootstrap-$arch.zip"
  rm -f "$zip_file"
  if ! (cd "$build_dir/ProviderFunction" && zip -q -9 -X "$zip_file" bootstrap); then
    record "sam build $arch ($profile)" "FAIL (zip)"
    status=1
    return 1
  fi
  local raw zipped
  raw=$(stat -c %s "$bin")
  zipped=$(stat -c %s "$zip_file")
  record "sam build $arch ($profile)" "OK   $(elapsed "$t"); bootstrap $(mib "$raw"), zip -9 $(mib "$zipped")"
  log "$bin: $machine, $raw bytes; $zip_file: $zipped bytes"
}

# host_package BUILD_DIR: the host build laid out as `sam build` lays out its output (the
# template with CodeUri pointing at the function's directory, and the bootstrap in it).
host_package() {
  local build_dir=$1 t=$SECONDS machine
  step "x86_64 package from the host build ($host_bootstrap) -> $build_dir"
  [[ -x $host_bootstrap ]] || { record "x86_64 package (host build)" "FAIL (no $host_bootstrap)"; status=1; return 1; }
  machine=$(elf_machine "$host_bootstrap")
  rm -rf "$build_dir"
  mkdir -p "$build_dir/ProviderFunction"
  cp "$host_bootstrap" "$build_dir/ProviderFunction/bootstrap"
  "$venv/bin/python" - sam/source-account/template.yaml "$build_dir/template.yaml" <<'PY'
import sys
from samcli.yamlhelper import yaml_dump, yaml_parse
t = yaml_parse(open(sys.argv[1]).read())
for r in t["Resources"].values():
    if r.get("Type") == "AWS::Serverless::Function":
        r["Properties"]["CodeUri"] = "ProviderFunction"
open(sys.argv[2], "w").write(yaml_dump(t))
PY
  record "x86_64 package (host build)" "OK   $(elapsed "$t"); $machine, bootstrap $(mib "$(stat -c %s "$host_bootstrap")")"
}

# ---------------------------------------------------------------------------
# 1. sam build: arm64 (the shipped package); x86_64 from the host build (steps 3 and 4)
# ---------------------------------------------------------------------------
sam_build arm64 .aws-sam/build || true
if [[ ${S3RP_X86_64_SAM_BUILD:-} == 1 ]]; then
  sam_build x86_64 .aws-sam/build-x86_64 || true
else
  host_package .aws-sam/build-x86_64 || true
fi

# ---------------------------------------------------------------------------
# 1b. the release (scripts/release.sh) from these two builds: zips, checksums, the packaged
#     template (checked by the release itself, and by `sam validate --lint`); step 4 deploys it
# ---------------------------------------------------------------------------
step "release: scripts/release.sh from the builds above -> $release_dir"
t=$SECONDS
if [[ -x .aws-sam/build/ProviderFunction/bootstrap && -x .aws-sam/build-x86_64/ProviderFunction/bootstrap ]] &&
   bash scripts/release.sh --out "$release_dir" \
     --bootstrap arm64=.aws-sam/build/ProviderFunction/bootstrap \
     --bootstrap x86_64=.aws-sam/build-x86_64/ProviderFunction/bootstrap &&
   "$venv/bin/sam" validate --lint --template-file "$release_dir/source-account.packaged.yaml" --region us-east-1; then
  record "release (zips, SHA256SUMS, template)" "OK   $(elapsed "$t"); $(cd "$release_dir" && ls *.zip | tr '\n' ' ')"
else
  record "release (zips, SHA256SUMS, template)" "FAIL ($(elapsed "$t"))"
  status=1
fi

# ---------------------------------------------------------------------------
# 2. the bootstrap under the Lambda Runtime Interface Emulator
# ---------------------------------------------------------------------------
step "tests/runtime_api.rs (AWS_LAMBDA_RIE=$AWS_LAMBDA_RIE)"
t=$SECONDS
if SAM_CLI_PYTHON="$venv/bin/python" cargo nextest run --cargo-profile ci --test runtime_api --run-ignored only --no-capture; then
  record "runtime API (RIE) test" "OK   $(elapsed "$t")"
else
  record "runtime API (RIE) test" "FAIL ($(elapsed "$t"))"
  status=1
fi

# A check that needs Docker: `SKIP:` is a pass only where no engine answers.
# docker_step NAME LOGFILE COMMAND...
docker_step() {
  local name=$1 out=$2 t=$SECONDS
  shift 2
  if "$@" 2>&1 | tee "$out"; then
    if grep -q '^SKIP:' "$out"; then
      if docker info >/dev/null 2>&1; then
        log "ERROR: $name skipped although a Docker engine answers"
        record "$name" "FAIL (skipped with a Docker engine)"
        status=1
      else
        record "$name" "SKIP ($(grep -m1 '^SKIP:' "$out" | cut -c7-))"
      fi
      return 0
    fi
    record "$name" "OK   $(elapsed "$t")"
  else
    record "$name" "FAIL ($(elapsed "$t"))"
    status=1
  fi
}

# ---------------------------------------------------------------------------
# 3. sam local invoke in Docker, against moto
# ---------------------------------------------------------------------------
step "sam local invoke (x86_64, Docker, --docker-network host)"
step_log=$(mktemp)
if [[ ! -x .aws-sam/build-x86_64/ProviderFunction/bootstrap ]]; then
  record "sam local invoke" "FAIL (no x86_64 build)"
  status=1
else
  docker_step "sam local invoke" "$step_log" \
    "$scripts_python" scripts/lambda/sam_local_invoke.py --build-dir .aws-sam/build-x86_64 --sam-python "$venv/bin/python"
fi

# ---------------------------------------------------------------------------
# 4. CloudFormation and StackSets engines (moto) drive the built function
# ---------------------------------------------------------------------------
step "engines: moto's CloudFormation and StackSets deploy the templates and invoke the function in Docker"
if [[ ! -f $release_dir/SHA256SUMS || ! -x $host_bootstrap ]]; then
  record "engines" "FAIL (no release in $release_dir or no $host_bootstrap)"
  status=1
else
  docker_step "engines (CloudFormation, StackSets)" "$step_log" \
    "$scripts_python" tests/engines.py --release-dir "$release_dir" --sam-python "$venv/bin/python" --bootstrap "$host_bootstrap"
fi
rm -f "$step_log"
if docker info >/dev/null 2>&1; then
  images=$(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^s3-replication-provider/' | tr '\n' ' ' || true)
  record "images (removed at exit)" "${images:-none}"
fi

printf '\n'
printf '%s\n' "${summary[@]}"
printf '%-34s %s\n' "total" "$(elapsed "$t_script")"
if [[ $status -eq 0 ]]; then
  printf 'sam: all checks passed\n'
else
  printf 'sam: FAILED\n'
fi
exit "$status"
