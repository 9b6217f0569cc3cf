#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Build, locally and without pulling anything, a stand-in for AWS's Lambda base
# image of a provided.al2023 function (public.ecr.aws/lambda/provided:al2023-<arch>),
# under this project's own name:
#
#     s3-replication-provider/lambda-base:al2023-<arch>     (arch: x86_64 | arm64)
#
#   bash scripts/lambda/build-base-image.sh [x86_64]
#
# `sam local invoke --invoke-image <that name>` runs functions on it (SAM derives
# s3-replication-provider/lambda-base:rapid-<arch> from it), and
# scripts/lambda/build-engine-image.sh builds the image moto's Lambda runs on it.
#
# No container registry is reachable here, so the image is assembled FROM
# scratch from files of this (Debian) host:
#   * a static busybox as /bin/sh, mv, chmod, cp, rm, wget, ... : SAM derives its
#     `...:rapid-<arch>` image from this one with a generated Dockerfile
#     (samcli/local/docker/lambda_image.py, SAM CLI 1.170.0):
#         FROM s3-replication-provider/lambda-base:al2023-<arch>
#         ADD aws-lambda-rie-<arch> /var/rapid/
#         RUN mv /var/rapid/aws-lambda-rie-<arch> /var/rapid/aws-lambda-rie \
#             && chmod +x /var/rapid/aws-lambda-rie
#     so /bin/sh, mv and chmod must exist;
#   * the host's glibc loader and the shared libraries a Rust binary built for
#     *-unknown-linux-gnu links (libc, libm, libgcc_s, libpthread, libdl, librt,
#     libutil), as provided.al2023 has them in /lib64;
#   * the CA bundle at Amazon Linux's path (/etc/pki/tls/certs/ca-bundle.crt,
#     with the Debian path as a link), the Lambda directories (/var/task,
#     /var/runtime, /opt, /tmp) and the base image's environment (LAMBDA_TASK_ROOT,
#     LAMBDA_RUNTIME_DIR, PATH, LD_LIBRARY_PATH, TZ, LANG).
#
# The image is labelled with a digest of its content. When that changes, the
# derived `...:rapid-<arch>` image SAM built earlier is removed, because
# `sam local invoke --skip-pull-image` would otherwise keep using it.
# `bash scripts/lambda/remove-images.sh` removes every image of this project.
#
# Only the host's own architecture can be built (the libraries are the
# host's). Needs a Docker engine; installs busybox-static with apt-get if
# missing. Prints the image id and size.
# -----------------------------------------------------------------------------
set -euo pipefail

arch=${1:-x86_64}
host_arch=$(uname -m)
case "$host_arch" in
  x86_64) ;;
  aarch64) host_arch=arm64 ;;
esac
if [[ "$arch" != "$host_arch" ]]; then
  echo "build-base-image: only the host architecture ($host_arch) can be built, not $arch" >&2
  exit 2
fi
readonly image="s3-replication-provider/lambda-base:al2023-$arch"
readonly rapid_image="s3-replication-provider/lambda-base:rapid-$arch"
# shellcheck source=scripts/lambda/image.sh
source "$(dirname "${BASH_SOURCE[0]}")/image.sh"
readonly label=$IMAGE_DIGEST_LABEL

log() { printf '[base-image] %s\n' "$*" >&2; }

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
static_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [[ -x $b ]] && ! LC_ALL=C readelf -l "$b" 2>/dev/null | grep -q 'INTERP'; then
      echo "$b"
      return 0
    fi
  done
  return 1
}
if ! busybox=$(static_busybox); then
  log "installing busybox-static (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
  busybox=$(static_busybox) || { log "ERROR: no static busybox after installing busybox-static"; exit 1; }
fi

# The multiarch library directory of this host's glibc.
libdir=$(dirname "$(readlink -f "$(ldconfig -p | awk '/libc\.so\.6 .*x86-64|libc\.so\.6 .*AArch64/ {print $NF; exit}')")")
[[ -d "$libdir" ]] || { log "ERROR: cannot locate the host's libc"; exit 1; }
case "$arch" in
  x86_64) loader=ld-linux-x86-64.so.2 ;;
  arm64) loader=ld-linux-aarch64.so.1 ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/rootfs"
mkdir -p "$root"/{bin,usr/bin,usr/local/bin,lib64,etc/pki/tls/certs,etc/ssl/certs,var/task,var/runtime,var/rapid,opt,tmp,root}
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
for applet in sh ash mv cp rm chmod ln ls cat mkdir env echo sleep true false test id kill wget grep printf; do
  ln -s busybox "$root/bin/$applet"
done

# glibc: the loader at the path in the binaries' PT_INTERP, the libraries in /lib64
# (searched by default for this loader on Amazon Linux; also named in LD_LIBRARY_PATH).
for lib in "$loader" libc.so.6 libm.so.6 libgcc_s.so.1 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1; do
  src="$libdir/$lib"
  [[ -e "$src" ]] || { log "ERROR: $src not found"; exit 1; }
  cp -L "$src" "$root/lib64/$lib"
done
if [[ $arch == arm64 ]]; then
  mkdir -p "$root/lib"
  ln -s ../lib64/"$loader" "$root/lib/$loader"
fi

ca=/etc/ssl/certs/ca-certificates.crt
if [[ -r $ca ]]; then
  cp -L "$ca" "$root/etc/pki/tls/certs/ca-bundle.crt"
  ln -s ../../pki/tls/certs/ca-bundle.crt "$root/etc/ssl/certs/ca-certificates.crt"
else
  log "warning: $ca not found; the image has no CA bundle"
fi
printf 'root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

digest=$(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf - . | sha256sum | cut -c1-16)

cat >"$stage/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV LANG=en_US.UTF-8 \\
    TZ=:/etc/localtime \\
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \\
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \\
    LAMBDA_TASK_ROOT=/var/task \\
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
LABEL $label=$digest \\
      org.s3-replication-provider.note="local stand-in for $image, built by scripts/lambda/build-base-image.sh"
EOF

build_if_changed "$image" "$digest" "$stage" "from scratch" || exit 1
rapid_label=$(image_digest "$rapid_image")
if [[ -n "$rapid_label" && "$rapid_label" != "$digest" ]]; then
  log "removing stale $rapid_image (built from rootfs $rapid_label)"
  docker image rm --force "$rapid_image" >/dev/null
fi
size=$(docker image inspect --format '{{.Size}}' "$image")
log "$image: id $(docker image inspect --format '{{.Id}}' "$image" | cut -c8-19), $((size / 1024)) KiB"
echo "$image"
