# Sourced by the image scripts of scripts/lambda: builds an image only when its content changed.
#
# build_if_changed IMAGE DIGEST CONTEXT_DIR WHAT
#   The image is labelled org.s3-replication-provider.rootfs-digest=DIGEST by its Dockerfile
#   (in CONTEXT_DIR). When IMAGE already carries DIGEST nothing is built; otherwise it is built
#   (no BuildKit, nothing pulled) and the image the tag named before is removed rather than
#   left dangling. WHAT says where it comes from, for the log line.

readonly IMAGE_DIGEST_LABEL=org.s3-replication-provider.rootfs-digest

# The digest label of IMAGE, or nothing when there is no such image.
image_digest() {
  docker image inspect --format "{{ index .Config.Labels \"$IMAGE_DIGEST_LABEL\" }}" "$1" 2>/dev/null || true
}

build_if_changed() {
  local tag=$1 want=$2 context=$3 what=$4 previous
  if [[ "$(image_digest "$tag")" == "$want" ]]; then
    log "$tag is current ($want)"
    return 0
  fi
  previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  log "building $tag ($want) $what"
  DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$context" >/dev/null 2>"$context/build.err" || {
    cat "$context/build.err" >&2
    return 1
  }
  [[ -z $previous ]] || docker image rm "$previous" >/dev/null 2>&1 || true
}
