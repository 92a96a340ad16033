#!/usr/bin/env bash
# pull-images.sh: pull the images this node will run, right after Docker and in parallel with the
# Flocker and Swarm steps, so that the steps that start containers or services never wait on a
# registry (each of them waits for this step on its node instead).
#
# IMAGES lists KEY=REFERENCE pairs separated by spaces; KEY is the config key that names the image,
# so that a failure says what to fix. The pulls run in parallel, each attempt bounded by
# PULL_TIMEOUT seconds, PULL_ATTEMPTS attempts RETRY_DELAY seconds apart. An image already on the
# node is not pulled again: pinned by digest it is exactly the one asked for; a tag is not
# refreshed (pin a digest, or change the reference, which re-runs this step).
#
# Environment: IMAGES; PULL_ATTEMPTS (3), PULL_TIMEOUT (600), RETRY_DELAY. stdout: nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

PULL_ATTEMPTS=${PULL_ATTEMPTS:-3}
PULL_TIMEOUT=${PULL_TIMEOUT:-600}
IMAGES=${IMAGES:-}
docker_installed || die "docker is not installed on this node: the install-docker step must run first"

declare -a keys=() refs=()
for pair in $IMAGES; do
  [[ "$pair" =~ ^([A-Za-z][A-Za-z0-9]*)=([^=]+)$ ]] ||
    die "IMAGES entry '$pair' is not KEY=REFERENCE (e.g. sparkWorkerImage=fsoppelsa/spark-worker)"
  keys+=("${BASH_REMATCH[1]}")
  refs+=("${BASH_REMATCH[2]}")
done
if ((${#refs[@]} == 0)); then
  log "no images to pull"
  exit 0
fi

# docker_pull REF: one bounded attempt; the registry's answer goes to stderr, progress nowhere.
docker_pull() {
  DOCKER_CLI_TIMEOUT=$PULL_TIMEOUT DOCKER_CLI_STALLED="the registry is slow or unreachable, or the Docker daemon is hung" \
    docker_cli pull "$1" >/dev/null
}

# pull_one KEY REF: runs in the background, one per image.
pull_one() {
  local key=$1 ref=$2
  if docker_cli image inspect --format '{{.Id}}' "$ref" >/dev/null 2>&1; then
    log "$ref ($key) is already on this node"
    return 0
  fi
  log "pulling $ref ($key)"
  retry "$PULL_ATTEMPTS" "$RETRY_DELAY" docker_pull "$ref" || return 1
  log "pulled $ref ($key)"
}

declare -a pids=()
for i in "${!refs[@]}"; do
  pull_one "${keys[i]}" "${refs[i]}" &
  pids+=("$!")
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[i]}" || failed+=("${refs[i]} (${keys[i]})")
done
if ((${#failed[@]} > 0)); then
  list=$(printf '%s, ' "${failed[@]}")
  die "could not pull ${list%, } after $PULL_ATTEMPTS attempt(s) each (the registry's answer is above): check that the reference exists and that this node reaches its registry, then fix the config key named or mirror the image (docs/flocker.md) and re-run pulumi up"
fi
log "${#refs[@]} image(s) on this node"
