#!/usr/bin/env bash
# flocker-volume.sh create|delete: the Flocker-backed Docker volume the Spark master mounts (the
# book: `docker volume create -d flocker -o size=75G -o profile=bronze --name=spark`). Runs on
# the Spark master's node, which has the Flocker Docker plugin; the dataset itself belongs to the
# cluster: a replaced node re-runs create (which finds it), never delete.
#
#   create  asks the control service first. A dataset of that name exists: its size and profile
#           must be the ones asked for — Flocker cannot resize a dataset or change its profile in
#           place, so a difference is refused with what to do instead, never ignored. None exists,
#           but the cluster holds datasets no configuration claims (the control service lost its
#           configuration, e.g. a replaced control node): refused, since creating an empty dataset
#           would hide the data. Otherwise `docker volume create` (retried: the plugin or the
#           control service may still be starting; a second create of the same name is a no-op).
#   delete  Flocker's Docker plugin does NOT delete the dataset (and its EBS volume) on
#           `docker volume rm`, so this asks the control service's REST API directly: find the
#           dataset whose metadata name is VOLUME_NAME, delete it, wait (bounded) until the
#           cluster state no longer lists it (the dataset agent detaches and deletes the EBS
#           volume), and remove Docker's record of the volume.
#
# Failure policy of delete. The goal is never to delete data in use nor orphan an EBS volume
# silently, and still to let a destroy finish:
#   - Docker does not answer on this node: error, nothing deleted (whether a container uses the
#     volume cannot be checked).
#   - a container still uses the volume: waits (RELEASE_TIMEOUT, 60 s) for it to go — a removed
#     service's task container stays on its node a moment after `docker service rm` returns —,
#     then an error naming it, before anything is deleted (remove the service first; the Pulumi
#     program orders spark-master before the volume).
#   - the control service does not answer after the retries, or the dataset does not disappear in
#     time: error (non-zero) with how to find the volume in EC2 by its tags. The operator can let
#     the rest of the destroy proceed with `pulumi destroy --continue-on-error`, and drop this
#     step with `pulumi state delete` once the EBS volume is dealt with.
#   - neither Docker nor Flocker's certificates are on this host (it was never provisioned, or
#     has been wiped): nothing here can have created a dataset or can delete one; exit 0 with a
#     loud warning that says how to check EC2 for an orphaned volume.
#
# Environment: VOLUME_NAME, VOLUME_SIZE, VOLUME_PROFILE (create), FLOCKER_CONTROL_HOST,
# FLOCKER_ETC, FLOCKER_API_PORT; WAIT_TIMEOUT (300), RELEASE_TIMEOUT (60), WAIT_INTERVAL, RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env VOLUME_NAME
[[ "$VOLUME_NAME" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "VOLUME_NAME '$VOLUME_NAME' is not a valid Docker volume name"
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
RELEASE_TIMEOUT=${RELEASE_TIMEOUT:-60}
require_env FLOCKER_ETC FLOCKER_API_PORT

volume_driver() { docker_cli volume inspect --format '{{.Driver}}' "$VOLUME_NAME" 2>/dev/null; }

create_once() {
  docker_cli volume create --driver flocker --opt size="$VOLUME_SIZE" --opt profile="$VOLUME_PROFILE" --name "$VOLUME_NAME" >/dev/null || return 1
}

# size_bytes SIZE: bytes of a size as Flocker's plugin reads it (75G = 75 GiB, 1024-based).
size_bytes() {
  local number=${1%%[!0-9]*} unit power
  unit=${1#"$number"}
  case "${unit:0:1}" in
    "") power=0 ;;
    [Kk]) power=1 ;;
    [Mm]) power=2 ;;
    [Gg]) power=3 ;;
    [Tt]) power=4 ;;
  esac
  printf '%s\n' "$((number * (1 << (10 * power))))"
}

# human_size BYTES: "75 GiB" when whole GiB, else bytes.
human_size() {
  if (($1 % (1 << 30) == 0)); then printf '%s GiB\n' "$(($1 >> 30))"; else printf '%s bytes\n' "$1"; fi
}

# size_setting BYTES: the same size written as sparkVolumeSize takes it (75G).
size_setting() {
  if (($1 % (1 << 30) == 0)); then printf '%sG\n' "$(($1 >> 30))"; else printf '%s\n' "$1"; fi
}

# require_api: create and delete both talk to the control service.
require_api() {
  require_env FLOCKER_CONTROL_HOST
  require_cmd curl "the install-docker step installs it"
  require_cmd jq "the install-docker step installs it"
}

# check_existing DATASET_JSON: the existing dataset must have the size and profile asked for.
check_existing() {
  local id have_bytes have_profile want_bytes
  id=$(jq -r '.dataset_id' <<<"$1")
  have_bytes=$(jq -r '(.maximum_size // (.metadata.maximum_size // "" | tonumber? ) // "") | tostring' <<<"$1")
  # Flocker's plugin records a profile only when asked for one; without, the backend's default.
  have_profile=$(jq -r '.metadata["clusterhq:flocker:profile"] // "bronze"' <<<"$1")
  want_bytes=$(size_bytes "$VOLUME_SIZE")
  if [[ -z "$have_bytes" ]]; then
    warn "Flocker's configuration records no size for dataset $id ($VOLUME_NAME): sparkVolumeSize cannot be checked against it"
    have_bytes=$want_bytes
  fi
  if [[ "$have_bytes" != "$want_bytes" || "$have_profile" != "$VOLUME_PROFILE" ]]; then
    die "volume $VOLUME_NAME (Flocker dataset $id) has size $(human_size "$have_bytes") and profile $have_profile, but sparkVolumeSize=$VOLUME_SIZE ($(human_size "$want_bytes")) and sparkVolumeProfile=$VOLUME_PROFILE are asked for. Flocker cannot resize a dataset or change its profile in place, so nothing was changed: set sparkVolumeSize/sparkVolumeProfile back to $(size_setting "$have_bytes")/$have_profile, or move the data to a dataset of the new size or profile as docs/operations.md ('Change the Spark volume's size or profile') describes, then re-run pulumi up"
  fi
  log "Flocker dataset $id ($VOLUME_NAME) exists with size $(human_size "$have_bytes") and profile $have_profile"
}

# refuse_unclaimed CONFIG_JSON: no dataset of ours is configured; the cluster must not hold
# datasets that no configuration claims either.
refuse_unclaimed() {
  local state unclaimed
  state=$(flocker_api_retry GET /v1/state/datasets) ||
    die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer (GET /v1/state/datasets) after $RETRY_ATTEMPTS attempts: start it (its flocker services step), then re-run pulumi up"
  unclaimed=$(jq -r --argjson config "$1" '($config | map(.dataset_id)) as $known | [.[] | .dataset_id | select(. as $id | $known | index($id) | not)] | unique | join(" ")' <<<"$state") ||
    die "unexpected answer from the Flocker control service (GET /v1/state/datasets)"
  [[ -z "$unclaimed" ]] ||
    die "Flocker has no dataset named $VOLUME_NAME, but the cluster holds dataset(s) $unclaimed that its configuration does not know: the control service has lost its configuration (was the control node replaced?). Creating $VOLUME_NAME now would hide that data behind an empty dataset, so nothing was created: give the dataset its name back as docs/operations.md ('Replace the Flocker control node') describes, or, if that data is garbage, delete its EBS volume, then re-run pulumi up"
}

create() {
  require_env VOLUME_SIZE VOLUME_PROFILE
  # Flocker's size parser: digits with an optional K/M/G/T unit (75G = 75 GiB); anything else
  # would silently give the 75 GiB default.
  [[ "$VOLUME_SIZE" =~ ^[0-9]+([KkMmGgTt]([Ii]?[Bb])?)?$ ]] || die "VOLUME_SIZE '$VOLUME_SIZE' is not a size Flocker understands (e.g. 75G): fix sparkVolumeSize"
  [[ "$VOLUME_PROFILE" =~ ^(gold|silver|bronze)$ ]] || die "VOLUME_PROFILE '$VOLUME_PROFILE' is not a Flocker profile (gold, silver, bronze): fix sparkVolumeProfile"
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  require_api
  local config mine count
  config=$(flocker_api_retry GET /v1/configuration/datasets) ||
    die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer after $RETRY_ATTEMPTS attempts, so volume $VOLUME_NAME was neither checked nor created: start it (its flocker services step), then re-run pulumi up"
  mine=$(jq -c --arg n "$VOLUME_NAME" '[.[] | select((.deleted // false) == false and (.metadata.name // "") == $n)]' <<<"$config") ||
    die "unexpected answer from the Flocker control service (GET /v1/configuration/datasets)"
  count=$(jq length <<<"$mine")
  ((count <= 1)) || die "Flocker has $count datasets named $VOLUME_NAME ($(jq -r 'map(.dataset_id) | join(", ")' <<<"$mine")): Docker cannot tell which one the volume is; delete the wrong one through the control service's API, then re-run pulumi up"
  if ((count == 1)); then
    check_existing "$(jq -c '.[0]' <<<"$mine")"
  else
    refuse_unclaimed "$config"
  fi
  local driver
  if driver=$(volume_driver); then
    [[ "$driver" == flocker ]] ||
      die "a volume named $VOLUME_NAME exists with driver '$driver', not flocker: remove it ('docker volume rm $VOLUME_NAME') or choose another volume name"
    log "flocker volume $VOLUME_NAME exists"
    return 0
  fi
  log "creating flocker volume $VOLUME_NAME (size $VOLUME_SIZE, profile $VOLUME_PROFILE)"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" create_once ||
    die "docker volume create --driver flocker failed: check the plugin's log on this node ('docker logs flocker-docker-plugin', or 'journalctl -u flocker-docker-plugin' with Flocker's packages) and that the control service answers on $FLOCKER_API_PORT/tcp"
  driver=$(volume_driver) || die "volume $VOLUME_NAME was created but 'docker volume inspect' does not find it"
  [[ "$driver" == flocker ]] || die "volume $VOLUME_NAME has driver '$driver' after creation, not flocker"
}

# ---------------------------------------------------------------------------------------------
# delete

# volume_users: the containers on this node (running or not) that use the volume, one a line.
volume_users() { docker_cli ps -a --filter "volume=$VOLUME_NAME" --format '{{.Names}}'; }
volume_released() {
  local users
  users=$(volume_users) || return 1
  [[ -z "$users" ]]
}

docker_volume_rm() {
  docker_installed || return 0
  volume_driver >/dev/null || return 0
  log "removing Docker's volume $VOLUME_NAME"
  docker_cli volume rm "$VOLUME_NAME" >/dev/null
}

delete() {
  require_env FLOCKER_CONTROL_HOST
  local etc f have_certs=1 users
  etc=$(path "$FLOCKER_ETC")
  for f in cluster.crt plugin.crt plugin.key; do
    [[ -s "$etc/$f" ]] || have_certs=0
  done
  if ((have_certs == 0)); then
    if ! docker_installed; then
      warn "neither Docker nor Flocker's certificates are on this host: nothing here can delete the dataset of volume $VOLUME_NAME. If it was ever created, $(flocker_orphan_hint)"
      exit 0
    fi
    die "Flocker's API certificates ($FLOCKER_ETC/cluster.crt, plugin.crt, plugin.key) are missing on this host, so the dataset of volume $VOLUME_NAME cannot be deleted: re-run the flocker-files step (pulumi up), or, if the cluster is going away, $(flocker_orphan_hint) and continue with 'pulumi destroy --continue-on-error'"
  fi
  require_api

  # First the Docker side, before any data is deleted: a daemon that does not answer cannot say
  # whether a container still uses the volume, and `docker volume rm` refuses while one does.
  if docker_installed; then
    swarm_state >/dev/null ||
      die "Docker does not answer on this node ('docker info' fails), so whether a container still uses volume $VOLUME_NAME cannot be checked: its dataset was NOT deleted. Start Docker ('systemctl start docker'), then re-run the destroy"
    users=$(volume_users) ||
      die "cannot list the containers on this node ('docker ps -a'): the dataset of volume $VOLUME_NAME was NOT deleted; re-run the destroy once Docker answers"
    if [[ -n "$users" ]]; then
      # A removed service's task container stays on its node a moment after the service is gone.
      log "volume $VOLUME_NAME is still used by container(s) $(tr '\n' ' ' <<<"$users")on this node: waiting up to ${RELEASE_TIMEOUT}s for them to go"
      if ! (wait_for "$RELEASE_TIMEOUT" "$WAIT_INTERVAL" "the containers using volume $VOLUME_NAME to go" volume_released); then
        users=$(volume_users) || users="(cannot list them)"
        die "volume $VOLUME_NAME is still used by container(s) $(tr '\n' ' ' <<<"$users")on this node after ${RELEASE_TIMEOUT}s: its dataset was NOT deleted. Remove the service or containers using it first ('docker service rm …' on a manager, 'docker rm' here), then re-run the destroy"
      fi
    fi
  fi
  if ! docker_volume_rm; then
    die "docker volume rm $VOLUME_NAME failed (still in use?): remove the service or containers using it first ('docker ps -a --filter volume=$VOLUME_NAME'), then re-run the destroy"
  fi

  flocker_delete_datasets_named "$VOLUME_NAME"
  # The plugin may have listed the volume again from the dataset while it existed.
  docker_volume_rm || warn "docker volume rm $VOLUME_NAME failed after the dataset was deleted; remove it by hand"
}

"$ACTION"
