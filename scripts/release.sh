#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# The release: what a platform team deploys without a Rust toolchain.
#
#   bash scripts/release.sh                       build both architectures, write dist/
#   bash scripts/release.sh --verify-reproducible then build again in a fresh target
#                                                 directory and compare the zips byte by byte
#   bash scripts/release.sh --version             the version it would release (Cargo.toml's)
#   bash scripts/release.sh --rustflags ARCH      the RUSTFLAGS of a release build of ARCH
#                                                 (.ci/sam.sh builds with them too)
#
# Writes to dist/ (or --out DIR):
#   s3-replication-provider-<version>-arm64.zip    `bootstrap` alone at the zip's root, mode
#   s3-replication-provider-<version>-x86_64.zip   0755, deflate -9, fixed time: the same
#                                                  commit gives byte-identical zips
#   SHA256SUMS                                     `sha256sum -c SHA256SUMS` checks them
#   source-account.packaged.yaml                   sam/source-account/template.yaml with the
#                                                  function's code taken from the zip in S3
#                                                  (parameters CodeBucket and CodeKey) and the
#                                                  zips' SHA-256 in its Metadata
#   destination-account.yaml                       sam/destination-account/template.yaml as is
#   LICENSE, README.md                             beside the template (its SAR metadata names them)
#
# Builds the deployable release profile (LTO, opt-level s, stripped) with cargo-lambda and zig
# from the tools venv .ci/sam.sh installs (aws-sam-cli, cargo-lambda, ziglang: pinned, PyPI),
# in the Lambda target directory .ci/sam.sh uses ($S3RP_LAMBDA_TARGET_DIR), with build paths
# remapped out of the binary. CI hands it the binaries .ci/sam.sh already built instead
# (--bootstrap ARCH=PATH, built the same way): the release then costs seconds.
# -----------------------------------------------------------------------------
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then export PATH="$HOME/.cargo/bin:$PATH"; fi

readonly NAME=s3-replication-provider
readonly ARCHS=(arm64 x86_64)
tools_dir=${S3RP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/s3-replication-provider-tools}
lambda_target_dir=${S3RP_LAMBDA_TARGET_DIR:-$tools_dir/target-lambda}
venv="$tools_dir/sam"
python_bin=${PYTHON:-python3}

log() { printf '[release] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The one version: Cargo.toml's package version.
version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n1)
[[ -n $version ]] || die "no version in Cargo.toml"

# The RUSTFLAGS of a release build of ARCH. Build paths never reach the binary: the crate's own
# files are named relative to the repository already (cargo passes them so), the standard
# library's as /rustc/<hash>/ (the toolchain's own remapping), and debug info is stripped; what is
# left is the dependencies' panic locations under $CARGO_HOME/registry: remapped. (Not the
# repository's path: the flags would then differ per clone, and the Lambda target directory kept
# across clones would rebuild everything.) RUSTFLAGS replaces the rustflags cargo-lambda sets
# itself (`-C target-cpu=neoverse-n1` for arm64: Graviton2 and later), so they are kept here.
remap_flags() {
  local arch=${1:-}
  [[ $arch == arm64 ]] && printf -- '-C target-cpu=neoverse-n1 '
  printf -- '--remap-path-prefix=%s=/cargo' "${CARGO_HOME:-$HOME/.cargo}"
}

out=dist
verify=""
declare -A given=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --version) printf '%s\n' "$version"; exit 0 ;;
    --rustflags) remap_flags "${2:-}"; printf '\n'; exit 0 ;;
    --verify-reproducible) verify=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --bootstrap)
      spec=${2:?--bootstrap needs ARCH=PATH}; shift
      [[ $spec == arm64=* || $spec == x86_64=* ]] || die "--bootstrap wants arm64=PATH or x86_64=PATH, not $spec"
      given[${spec%%=*}]=${spec#*=} ;;
    -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | cut -c3-; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

triple() { case $1 in arm64) echo aarch64-unknown-linux-gnu ;; x86_64) echo x86_64-unknown-linux-gnu ;; esac; }
# cargo-lambda's architecture flag, as `sam build` (rust-cargolambda) passes it for arm64: the
# same flags give the same build, which CI's release reuses.
arch_flag() { case $1 in arm64) echo --arm64 ;; x86_64) echo --x86-64 ;; esac; }

# build ARCH TARGET_DIR KEEP_DIR -> prints KEEP_DIR/ARCH/bootstrap: the release build of ARCH
# (cargo-lambda writes every target's binary to the same place, so each is copied out).
build() {
  local arch=$1 target_dir=$2 keep=$3/$1 t=$SECONDS
  [[ -x $venv/bin/cargo-lambda ]] ||
    die "cargo-lambda is not installed in $venv: run \`bash .ci/sam.sh\` once (it installs the pinned aws-sam-cli, cargo-lambda and ziglang), or pass --bootstrap ARCH=PATH"
  rustup target list --installed 2>/dev/null | grep -qx "$(triple "$arch")" || rustup target add "$(triple "$arch")" >&2
  log "cargo lambda build --release ($arch) into $target_dir"
  (export PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$target_dir" RUSTFLAGS="$(remap_flags "$arch")"
   cargo lambda build --release "$(arch_flag "$arch")" --bin bootstrap >&2)
  log "built $arch in $(( SECONDS - t )) s"
  mkdir -p "$keep"
  cp "$target_dir/lambda/bootstrap/bootstrap" "$keep/bootstrap"
  printf '%s\n' "$keep/bootstrap"
}

# package DIR ARCH=PATH...: the zips, SHA256SUMS and the templates, into DIR.
package() {
  local dir=$1
  shift
  rm -rf "$dir"
  mkdir -p "$dir"
  "$python_bin" scripts/release_package.py build --version "$version" --out "$dir" "$@"
  "$python_bin" scripts/release_package.py check --version "$version" "$dir" >&2
}

bootstraps=()
for arch in "${ARCHS[@]}"; do
  if [[ -n ${given[$arch]:-} ]]; then
    [[ -x ${given[$arch]} ]] || die "--bootstrap $arch=${given[$arch]}: no such executable"
    bootstraps+=("$arch=${given[$arch]}")
  else
    bootstraps+=("$arch=$(build "$arch" "$lambda_target_dir" "$lambda_target_dir/release")")
  fi
done
package "$out" "${bootstraps[@]}"
(cd "$out" && sha256sum -c --quiet SHA256SUMS) || die "SHA256SUMS does not check"
log "$out/:"
(cd "$out" && ls -l | tail -n +2 >&2)

if [[ -n $verify ]]; then
  fresh=$(mktemp -d)
  trap 'rm -rf "$fresh"' EXIT
  again=()
  for arch in "${ARCHS[@]}"; do
    again+=("$arch=$(build "$arch" "$fresh/target" "$fresh")")
  done
  package "$fresh/dist" "${again[@]}"
  for arch in "${ARCHS[@]}"; do
    zip="$NAME-$version-$arch.zip"
    cmp "$out/$zip" "$fresh/dist/$zip" || die "$zip differs between two builds of the same commit"
  done
  cmp "$out/SHA256SUMS" "$fresh/dist/SHA256SUMS" || die "SHA256SUMS differs"
  log "reproducible: a second build in a fresh target directory gave byte-identical zips"
fi
