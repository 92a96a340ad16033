#!/usr/bin/env bash
# flocker-volume.sh create|delete: the Flocker-backed Docker volume the Spark master mounts (the
# book: `docker volume create -d flocker -o size=75G -o profile=bronze --name=spark`). Runs on
# the Spark master node, which has the Flocker Docker plugin.
#
#   create  creates it unless a volume of that name exists (with driver flocker: nothing to do;
#           another driver: an error). Retried: the plugin or the control service may still be
#           starting. The plugin treats a second create of the same name as success.
#   delete  Flocker's Docker plugin does NOT delete the dataset (and its EBS volume) on
#           `docker volume rm`, so this asks the control service's REST API directly: find the
#           dataset whose metadata name is VOLUME_NAME, delete it, wait (bounded) until the
#           cluster state no longer lists it (the dataset agent detaches and deletes the EBS
#           volume), and remove Docker's record of the volume.
#
# Failure policy of delete. The goal is never to orphan an EBS volume silently, and still to let a
# destroy finish:
#   - the volume is in use by a container: error, before anything is deleted (remove the service
#     first; the Pulumi program orders spark-master before the volume).
#   - the control service does not answer after the retries, or the dataset does not disappear in
#     time: error (non-zero) with how to find the volume in EC2 by its tags. The operator can let
#     the rest of the destroy proceed with `pulumi destroy --continue-on-error`, and drop this
#     step with `pulumi state delete` once the EBS volume is dealt with.
#   - neither Docker nor Flocker's certificates are on this host (it was never provisioned, or
#     has been wiped): nothing here can have created a dataset or can delete one; exit 0 with a
#     loud warning that says how to check EC2 for an orphaned volume.
#
# Environment: VOLUME_NAME, VOLUME_SIZE, VOLUME_PROFILE (create); FLOCKER_CONTROL_HOST,
# FLOCKER_ETC (/etc/flocker) (delete); WAIT_TIMEOUT (300), WAIT_INTERVAL, RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env VOLUME_NAME
[[ "$VOLUME_NAME" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "VOLUME_NAME '$VOLUME_NAME' is not a valid Docker volume name"
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
FLOCKER_ETC=${FLOCKER_ETC:-/etc/flocker}

volume_driver() { docker volume inspect --format '{{.Driver}}' "$VOLUME_NAME" 2>/dev/null; }

create_once() {
  docker volume create --driver flocker --opt size="$VOLUME_SIZE" --opt profile="$VOLUME_PROFILE" --name "$VOLUME_NAME" >/dev/null || return 1
}

create() {
  require_env VOLUME_SIZE VOLUME_PROFILE
  # Flocker's size parser: digits with an optional K/M/G/T unit (75G = 75 GiB); anything else
  # would silently give the 75 GiB default.
  [[ "$VOLUME_SIZE" =~ ^[0-9]+([KkMmGgTt]([Ii]?[Bb])?)?$ ]] || die "VOLUME_SIZE '$VOLUME_SIZE' is not a size Flocker understands (e.g. 75G): fix sparkVolumeSize"
  [[ "$VOLUME_PROFILE" =~ ^(gold|silver|bronze)$ ]] || die "VOLUME_PROFILE '$VOLUME_PROFILE' is not a Flocker profile (gold, silver, bronze): fix sparkVolumeProfile"
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  local driver
  if driver=$(volume_driver); then
    [[ "$driver" == flocker ]] ||
      die "a volume named $VOLUME_NAME exists with driver '$driver', not flocker: remove it ('docker volume rm $VOLUME_NAME') or choose another volume name"
    log "flocker volume $VOLUME_NAME exists"
    return 0
  fi
  log "creating flocker volume $VOLUME_NAME (size $VOLUME_SIZE, profile $VOLUME_PROFILE)"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" create_once ||
    die "docker volume create --driver flocker failed: check the plugin's log on this node ('docker logs flocker-docker-plugin', or 'journalctl -u flocker-docker-plugin' with Flocker's packages) and that the control service answers on 4523/tcp"
  driver=$(volume_driver) || die "volume $VOLUME_NAME was created but 'docker volume inspect' does not find it"
  [[ "$driver" == flocker ]] || die "volume $VOLUME_NAME has driver '$driver' after creation, not flocker"
}

# ---------------------------------------------------------------------------------------------
# delete

docker_volume_rm() {
  docker_installed || return 0
  volume_driver >/dev/null || return 0
  log "removing Docker's volume $VOLUME_NAME"
  docker volume rm "$VOLUME_NAME" >/dev/null
}

delete() {
  require_env FLOCKER_CONTROL_HOST
  local etc f have_certs=1
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
  require_cmd curl "the install-docker step installs it"
  require_cmd jq "the install-docker step installs it"

  # First the Docker side: this refuses while a container still uses the volume, before any data
  # is deleted.
  if ! docker_volume_rm; then
    die "docker volume rm $VOLUME_NAME failed (still in use?): remove the service or containers using it first ('docker ps -a --filter volume=$VOLUME_NAME'), then re-run the destroy"
  fi

  flocker_delete_datasets_named "$VOLUME_NAME"
  # The plugin may have listed the volume again from the dataset while it existed.
  docker_volume_rm || warn "docker volume rm $VOLUME_NAME failed after the dataset was deleted; remove it by hand"
}

"$ACTION"
