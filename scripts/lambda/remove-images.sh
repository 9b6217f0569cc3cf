#!/usr/bin/env bash
# Removes every Docker image this project builds (repository s3-replication-provider/*:
# the Lambda base image, SAM's rapid image derived from it, moto's function image), and the
# containers left of them. `.ci/sam.sh` runs it when it ends, so a run leaves no image
# behind; the images are rebuilt from local files in seconds.
set -euo pipefail
command -v docker >/dev/null 2>&1 || exit 0
docker info >/dev/null 2>&1 || exit 0
mapfile -t images < <(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep '^s3-replication-provider/' || true)
[[ ${#images[@]} -gt 0 ]] || exit 0
mapfile -t containers < <(for i in "${images[@]}"; do docker ps -aq --filter "ancestor=$i"; done | sort -u)
[[ ${#containers[@]} -eq 0 ]] || docker rm --force "${containers[@]}" >/dev/null
docker image rm --force "${images[@]}" >/dev/null
printf '[remove-images] removed %s\n' "${images[*]}" >&2
