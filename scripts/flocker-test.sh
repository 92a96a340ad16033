#!/usr/bin/env bash
# flocker-test.sh: the book's Flocker test, from a Swarm worker once its agents and plugin run:
# write a file through a Flocker volume from one container, read it back from another, then
# remove the test dataset.
#
#   docker volume create --driver flocker --opt size=VOLUME_SIZE --name VOLUME_NAME
#   docker run --rm -v VOLUME_NAME:/data --volume-driver flocker TEST_IMAGE sh -c 'echo TOKEN > /data/flocker-test'
#   docker run --rm -v VOLUME_NAME:/data --volume-driver flocker TEST_IMAGE cat /data/flocker-test
#
# The volume is created first only to keep it small (the plugin's default is 75 GiB). Between the
# two runs the dataset's mount point must be a mount on this host: the agent mounts the EBS volume
# under /flocker, and when that mount stays inside the agent's container the containers write to
# a bare directory on the root disk — the read-back alone would not notice.
#
# The dataset is removed whatever the outcome, as the Spark volume's delete removes its own:
# Docker's record, then the dataset through the control service's REST API, waiting (bounded)
# until Flocker has deleted its EBS volume. A second run does the same again and leaves nothing.
#
# Environment: TEST_IMAGE, FLOCKER_CONTROL_HOST, VOLUME_NAME (flocker-test), VOLUME_SIZE (1G),
# FLOCKER_ETC, FLOCKER_API_PORT, RUN_TIMEOUT (300, each docker run), WAIT_TIMEOUT (300), RETRY_*.
# stdout: one line saying what was written, read back and where.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

require_env TEST_IMAGE FLOCKER_CONTROL_HOST
VOLUME_NAME=${VOLUME_NAME:-flocker-test}
VOLUME_SIZE=${VOLUME_SIZE:-1G}
require_env FLOCKER_ETC FLOCKER_API_PORT
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
[[ "$VOLUME_NAME" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "VOLUME_NAME '$VOLUME_NAME' is not a valid Docker volume name"
docker_installed || die "docker is not installed on this node: the install-docker step must run first"
require_cmd curl "the install-docker step installs it"
require_cmd jq "the install-docker step installs it"
for f in cluster.crt plugin.crt plugin.key; do
  [[ -s "$(path "$FLOCKER_ETC/$f")" ]] || die "missing $FLOCKER_ETC/$f: the flocker-files step must run first, then re-run pulumi up"
done

TOKEN="flocker-test-$$-$RANDOM"
FILE=flocker-test
FAILURE=""

volume_driver() { docker_cli volume inspect --format '{{.Driver}}' "$VOLUME_NAME" 2>/dev/null; }
create_volume() { docker_cli volume create --driver flocker --opt size="$VOLUME_SIZE" --name "$VOLUME_NAME" >/dev/null || return 1; }

# in_container CMD...: TEST_IMAGE with the volume at /data, as the book runs it.
in_container() {
  DOCKER_CLI_TIMEOUT=$RUN_TIMEOUT DOCKER_CLI_STALLED="the test container did not finish: the volume's mount (the Flocker plugin and dataset agent) or the Docker daemon is stuck" \
    docker_cli run --rm -v "$VOLUME_NAME:/data" --volume-driver flocker "$TEST_IMAGE" "$@"
}

# dataset_path: where Flocker says the test dataset is mounted on its node.
dataset_path() {
  local config state id
  config=$(flocker_api_retry GET /v1/configuration/datasets) || return 1
  id=$(jq -r --arg n "$VOLUME_NAME" '[.[] | select((.deleted // false) == false and (.metadata.name // "") == $n)][0].dataset_id // empty' <<<"$config") || return 1
  [[ -n "$id" ]] || return 1
  state=$(flocker_api_retry GET /v1/state/datasets) || return 1
  jq -r --arg id "$id" '[.[] | select(.dataset_id == $id and (.path // "") != "")][0].path // empty' <<<"$state"
}

# mounted_here PATH: PATH is a mount point in this host's mount table.
mounted_here() {
  awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' "$(path /proc/self/mountinfo)" 2>/dev/null
}

# exercise: the test proper; on failure it says why in FAILURE and returns 1.
exercise() {
  local driver read_back mount
  if driver=$(volume_driver); then
    if [[ "$driver" != flocker ]]; then
      FAILURE="a volume named $VOLUME_NAME exists with driver '$driver', not flocker: remove it ('docker volume rm $VOLUME_NAME')"
      return 1
    fi
  else
    log "creating flocker volume $VOLUME_NAME ($VOLUME_SIZE)"
    if ! retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" create_volume; then
      FAILURE="docker volume create --driver flocker failed: see the plugin's log ('docker logs flocker-docker-plugin', or 'journalctl -u flocker-docker-plugin' with Flocker's packages)"
      return 1
    fi
  fi
  log "writing $TOKEN to /data/$FILE through the volume (the dataset agent attaches an EBS volume first)"
  if ! in_container sh -c "echo $TOKEN > /data/$FILE" >&2; then
    FAILURE="the container writing through volume $VOLUME_NAME failed (message above): see 'docker logs flocker-dataset-agent' and 'docker logs flocker-docker-plugin' on this node (or their journalctl units with Flocker's packages)"
    return 1
  fi
  if ! mount=$(dataset_path) || [[ -z "$mount" ]]; then
    FAILURE="the control service does not report where the dataset of volume $VOLUME_NAME is mounted"
    return 1
  fi
  if ! mounted_here "$mount"; then
    FAILURE="$mount, where Flocker says the dataset is mounted, is not a mount point on this host: the dataset agent's mount does not reach the host (its /flocker must be mounted with shared propagation), so containers write to the root disk instead of the EBS volume"
    return 1
  fi
  if ! read_back=$(in_container cat "/data/$FILE"); then
    FAILURE="the container reading volume $VOLUME_NAME back failed (message above)"
    return 1
  fi
  if [[ "$read_back" != "$TOKEN" ]]; then
    FAILURE="read back '$read_back' from volume $VOLUME_NAME instead of '$TOKEN': the second container did not see what the first one wrote"
    return 1
  fi
  printf 'wrote and read back %s through Flocker volume %s (mounted at %s) on %s\n' "$TOKEN" "$VOLUME_NAME" "$mount" "$(hostname)"
}

# remove_test_volume: Docker's record, then the dataset (and its EBS volume) through the API.
remove_test_volume() {
  if volume_driver >/dev/null; then
    log "removing Docker's volume $VOLUME_NAME"
    docker_cli volume rm "$VOLUME_NAME" >/dev/null || die "docker volume rm $VOLUME_NAME failed (still in use? 'docker ps -a --filter volume=$VOLUME_NAME'); remove what uses it, then re-run pulumi up"
  fi
  flocker_delete_datasets_named "$VOLUME_NAME"
}

exercise || log "Flocker test failed: $FAILURE; removing the test dataset"
remove_test_volume
[[ -z "$FAILURE" ]] || die "Flocker test failed: $FAILURE. The test dataset was removed; fix the cause, then re-run pulumi up (or set flockerTest to false to skip the test)"
log "Flocker test passed; the test dataset is removed"
