#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Build the image moto's Lambda runs the provider function in (tests/engines.py):
#
#     s3-replication-provider/moto-lambda:al2023-<arch>
#
#   bash scripts/lambda/build-engine-image.sh <path to aws-lambda-rie> [x86_64]
#
# FROM the project's base image (scripts/lambda/build-base-image.sh, built here
# if missing), plus AWS's Lambda Runtime Interface Emulator (shipped in the
# aws-sam-cli package: samcli/local/rapid/aws-lambda-rie-<arch>) and an
# entrypoint for moto's calling convention. moto 5.2.5 runs a function as
#
#     docker run <image> <handler> '<event JSON>'
#
# with the function's code in /var/task and its configuration in the
# environment (AWS_LAMBDA_FUNCTION_TIMEOUT, AWS_ENDPOINT_URL, ...), and takes the
# last line of the container's output as the function's result (the
# lambci/docker-lambda convention). The entrypoint runs the function the way
# Lambda does: the emulator serves the Runtime API to /var/task/<handler>
# (bootstrap), and the event is POSTed to its invoke endpoint once. On the host
# network (MOTO_DOCKER_NETWORK_MODE=host) both of the emulator's ports are on
# the host's loopback, so they are picked at random and picked again when taken.
# Prints the image name.
# -----------------------------------------------------------------------------
set -euo pipefail

rie=${1:?usage: build-engine-image.sh <aws-lambda-rie> [x86_64|arm64]}
arch=${2:-x86_64}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly image="s3-replication-provider/moto-lambda:al2023-$arch"
# shellcheck source=scripts/lambda/image.sh
source "$here/image.sh"
readonly label=$IMAGE_DIGEST_LABEL

log() { printf '[engine-image] %s\n' "$*" >&2; }
[[ -x $rie ]] || { log "ERROR: $rie is not an executable Runtime Interface Emulator"; exit 1; }

base=$(bash "$here/build-base-image.sh" "$arch")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$rie" "$stage/aws-lambda-rie"
cat >"$stage/moto-entrypoint" <<'SH'
#!/bin/sh
# moto's Lambda: `docker run <image> <handler> '<event JSON>'`; the last line of output is
# the function's result. Everything but that line goes to stderr.
handler=${1:-bootstrap}
event=${2:-}
[ -n "$event" ] || event='{}'
printf '%s' "$event" >/tmp/event.json
attempt=0
while [ $attempt -lt 20 ]; do
  attempt=$((attempt + 1))
  port=$((20000 + RANDOM % 40000))
  api=$((20000 + RANDOM % 40000))
  [ "$port" = "$api" ] && continue
  /var/rapid/aws-lambda-rie \
    --runtime-interface-emulator-address "127.0.0.1:$port" \
    --runtime-api-address "127.0.0.1:$api" \
    "/var/task/$handler" >&2 &
  rie=$!
  # POST once the emulator listens; a refused connection invoked nothing, so it is retried.
  tries=0
  while kill -0 "$rie" 2>/dev/null && [ $tries -lt 400 ]; do
    tries=$((tries + 1))
    if result=$(wget -q -O - --header 'Content-Type: application/json' \
        --post-file /tmp/event.json \
        "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" 2>/tmp/wget.err); then
      kill "$rie" 2>/dev/null
      wait "$rie" 2>/dev/null
      printf '\n%s\n' "$result"
      exit 0
    fi
    if ! grep -q 'refused' /tmp/wget.err; then
      cat /tmp/wget.err >&2
      kill "$rie" 2>/dev/null
      echo '{"errorMessage": "the invocation failed after it reached the Runtime Interface Emulator"}'
      exit 1
    fi
    sleep 0.05
  done
  kill "$rie" 2>/dev/null
  wait "$rie" 2>/dev/null
  echo "moto-entrypoint: the emulator did not serve on 127.0.0.1:$port (attempt $attempt); trying other ports" >&2
done
echo '{"errorMessage": "the Runtime Interface Emulator did not start"}'
exit 1
SH
chmod +x "$stage/aws-lambda-rie" "$stage/moto-entrypoint"
digest=$( (docker image inspect --format '{{.Id}}' "$base"; cd "$stage" && sha256sum aws-lambda-rie moto-entrypoint) | sha256sum | cut -c1-16)
cat >"$stage/Dockerfile" <<EOF
FROM $base
COPY aws-lambda-rie /var/rapid/aws-lambda-rie
COPY moto-entrypoint /var/rapid/moto-entrypoint
ENTRYPOINT ["/var/rapid/moto-entrypoint"]
LABEL $label=$digest \\
      org.s3-replication-provider.note="the provider under moto's Lambda, built by scripts/lambda/build-engine-image.sh"
EOF
build_if_changed "$image" "$digest" "$stage" "from $base" || exit 1
echo "$image"
