#!/usr/bin/env bash
# dataset-restore.sh: the node side of `npm run restore` (tools/day2/restore.ts), which replaces a
# dataset's files with those of an EBS snapshot: a Flocker dataset (book platform,
# DATASET_DRIVER=flocker, the default) or the current platform's Spark data, the `spark` volume of
# the local driver bound to the data directory of the stack's own EBS volume (DATASET_DRIVER=local,
# docs/storage.md). The tool makes a volume from the snapshot, attaches it to the Spark master's
# node and calls the actions in this order; after a failure it skips to unmount and start-master,
# which it always runs:
#   check         master node, before anything changes: Docker answers, DATASET is a volume of
#                 DATASET_DRIVER (a local one bound to a directory), COPY_IMAGE is on the node,
#                 nothing is attached as DEVICE yet (when DEVICE is known before the volume exists)
#   mount         master node: wait (bounded) for DEVICE, mount it read-only at MOUNT_POINT
#   stop-master   a manager: print SERVICE_NAME's replicas (stdout), scale it to 0, wait until
#                 its tasks have stopped
#   copy          master node, in a COPY_IMAGE container that mounts the dataset through its
#                 volume driver: copy MOUNT_POINT's files (those of MOUNT_POINT/SOURCE_SUBDIR when
#                 set: the current platform's data directory) into COPY_DIR on the dataset,
#                 check the copy (the same paths, the same checksums), and only then switch:
#                 every other top-level entry renamed into ASIDE_DIR, the copy's renamed into
#                 place (each rename atomic: one filesystem). The previous files stay in ASIDE_DIR
#                 until the operator removes them; until the switch the live files are untouched
#   start-master  a manager: scale SERVICE_NAME back to REPLICAS, wait until they run
#   unmount       master node: stop a copy that is still running, unmount MOUNT_POINT
# Scaling runs on a manager because a worker (the Spark master's node is one) cannot change a
# service; bringing the master back after a failure is the tool's job, since it spans two nodes.
#
# Environment: DATASET (spark), DATASET_DRIVER (flocker | local), COPY_IMAGE (the Spark master's
# image, already pulled: nothing is downloaded during a restore), DEVICE (/dev/xvdy on Xen; on
# Nitro the volume's /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol… link), SOURCE_SUBDIR
# (data, current platform), MOUNT_POINT, VOLUME_ID (for messages),
# SERVICE_NAME (spark-master), REPLICAS, COPY_DIR (.restore-snap-…), ASIDE_DIR (.pre-restore-snap-…);
# bounds DEVICE_WAIT_TIMEOUT (180 s), WAIT_TIMEOUT (300 s, the master's tasks), COPY_TIMEOUT (14400 s).
#
# Exit status: 0 done, 1 failed (the message says what state is left), 2 usage, 3 the copy did
# not complete or was refused: the dataset's files are unchanged.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

expect_action "check|mount|stop-master|copy|start-master|unmount" "$@"
DATASET_DRIVER=${DATASET_DRIVER:-flocker}
[[ "$DATASET_DRIVER" =~ ^(flocker|local)$ ]] || die "DATASET_DRIVER must be flocker or local, not '$DATASET_DRIVER'"
DEVICE_WAIT_TIMEOUT=${DEVICE_WAIT_TIMEOUT:-180}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
COPY_TIMEOUT=${COPY_TIMEOUT:-14400}
# Named, so that a copy whose CLI was stopped (the daemon keeps the container running) can be
# found and stopped before the master writes to the dataset again.
COPY_CONTAINER=swarm-flocker-restore
EXIT_UNCHANGED=3

# require_safe_path VAR PATTERN WHAT: the variable's value matches PATTERN.
require_safe_path() {
  [[ "${!1}" =~ $2 ]] || die "$1='${!1}' is not $3"
}

# mounted_at DIR: a filesystem is mounted on DIR (as /proc/self/mountinfo's fifth field shows it).
mounted_at() {
  local info
  info=$(path /proc/self/mountinfo)
  [[ -r "$info" ]] || return 1
  awk -v dir="$1" '$5 == dir { found = 1 } END { exit !found }' "$info"
}

copy_container_exists() { docker_cli inspect --type container --format '{{json .}}' "$COPY_CONTAINER" >/dev/null 2>&1; }

# remove_copy_container: a copy still running (its CLI stopped by a bound, its session gone) is
# stopped and removed; nothing when there is none or Docker does not answer.
remove_copy_container() {
  copy_container_exists || return 0
  log "stopping the copy container $COPY_CONTAINER: it must not write into the dataset once the master runs again"
  docker_cli rm --force "$COPY_CONTAINER" >/dev/null 2>&1 || true
  if copy_container_exists; then
    warn "the copy container $COPY_CONTAINER is still there: remove it with 'docker rm --force $COPY_CONTAINER' before the master starts"
    return 1
  fi
}

# running_users VOLUME: the containers on this node that run with VOLUME mounted.
running_users() {
  local names name state
  names=$(docker_cli ps -a --filter "volume=$1" --format '{{.Names}}') || return 1
  for name in $names; do
    state=$(docker_cli inspect --type container --format '{{json .}}' "$name" 2>/dev/null | jq -r '.State.Running') || continue
    [[ "$state" != true ]] || printf '%s\n' "$name"
  done
}

dataset_driver() { docker_cli volume inspect --format '{{.Driver}}' "$DATASET"; }

# dataset_is_bound: the dataset is a local volume bound to a directory (the current platform's).
dataset_is_bound() {
  docker_cli volume inspect --format '{{.Driver}} {{json .Options}}' "$DATASET" 2>/dev/null |
    sed 's/^local //' | jq -e '.type == "none" and .o == "bind" and (.device | startswith("/"))' >/dev/null 2>&1
}

action_check() {
  require_env DATASET COPY_IMAGE
  [[ "$DATASET_DRIVER" == local ]] || require_env DEVICE
  local driver err
  if ! driver=$(dataset_driver 2>&1); then
    err=$driver
    [[ "${err,,}" == *"no such volume"* ]] ||
      die "Docker does not answer here ($err): check 'systemctl status docker' on this node"
    die "there is no volume $DATASET on this node (Docker: $err): is the stack deployed, and is $DATASET the dataset's Docker volume name?"
  fi
  if [[ "$DATASET_DRIVER" == flocker ]]; then
    [[ "$driver" == flocker ]] ||
      die "volume $DATASET has the driver '$driver', not flocker: only a Flocker dataset can be restored from its EBS snapshot"
  else
    [[ "$driver" == local ]] && dataset_is_bound ||
      die "volume $DATASET is not a local volume bound to the Spark data directory (driver '$driver'): re-run pulumi up, whose spark-data step binds it, then retry"
  fi
  docker_cli image inspect --format '{{.Id}}' "$COPY_IMAGE" >/dev/null 2>&1 ||
    die "the image $COPY_IMAGE is not on this node, and a restore pulls nothing: pull it here ('docker pull $COPY_IMAGE') or re-run pulumi up, then retry"
  if [[ -n "${DEVICE:-}" ]]; then
    [[ ! -e "$(path "$DEVICE")" ]] ||
      die "a volume is already attached as $DEVICE (one a previous restore kept? Those are tagged swarm-flocker-restore): detach it, then retry"
  fi
  log "ready: $DATASET is a $DATASET_DRIVER volume, $COPY_IMAGE is here${DEVICE:+, $DEVICE is free}"
}

action_mount() {
  require_env DEVICE MOUNT_POINT
  require_safe_path DEVICE '^/dev/([a-z0-9]+|disk/by-id/nvme-Amazon_Elastic_Block_Store_vol[0-9a-f]+)$' "a device under /dev, or an EBS volume's by-id link"
  require_safe_path MOUNT_POINT '^/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+$' "an absolute directory below the root"
  local dev mp
  dev=$(path "$DEVICE")
  mp=$(path "$MOUNT_POINT")
  if mounted_at "$mp"; then
    log "$MOUNT_POINT is already mounted"
    return 0
  fi
  _device_present() { [[ -e "$dev" ]]; }
  local shown=" as ${DEVICE/xvd/sd}, which this Xen instance shows as $DEVICE" kernel="'dmesg | tail'"
  if [[ "$DEVICE" == /dev/disk/by-id/* ]]; then
    shown=", which this Nitro instance shows as an NVMe device that udev links as $DEVICE"
    kernel="'dmesg | tail' and 'ls -l /dev/disk/by-id'"
  fi
  WAIT_HINT="the volume${VOLUME_ID:+ $VOLUME_ID} was attached$shown; see its state with 'aws ec2 describe-volumes${VOLUME_ID:+ --volume-ids $VOLUME_ID}' and the kernel's view with $kernel here" \
    wait_for "$DEVICE_WAIT_TIMEOUT" "$WAIT_INTERVAL" "the restore volume to appear as $DEVICE" _device_present
  mkdir -p -- "$mp" || die "cannot create $MOUNT_POINT"
  # Read-only for everything the copy does; ext4 may still replay its journal on the volume (it
  # is a throwaway copy), which is what makes a snapshot of a mounted filesystem consistent.
  log "mounting $DEVICE read-only at $MOUNT_POINT"
  mount -o ro,nosuid,nodev,noexec "$dev" "$mp" ||
    die "could not mount $DEVICE at $MOUNT_POINT (see 'dmesg | tail' here): the snapshot may not hold a filesystem Flocker made"
}

action_stop_master() {
  require_env SERVICE_NAME
  require_manager
  local spec previous
  swarm_read spec docker_cli service inspect --format '{{json .Spec}}' "$SERVICE_NAME"
  previous=$(jq -r '.Mode.Replicated.Replicas // empty' <<<"$spec")
  [[ "$previous" =~ ^[0-9]+$ ]] || die "service $SERVICE_NAME is not a replicated service: cannot tell how many replicas to bring back"
  # Printed before anything changes: the tool scales back to it whatever happens next.
  printf '%s\n' "$previous"
  if ((previous == 0)); then
    log "service $SERVICE_NAME has 0 replicas already"
  else
    log "scaling service $SERVICE_NAME from $previous to 0 replicas"
    docker_cli service update --detach --replicas 0 "$SERVICE_NAME" >/dev/null ||
      die "could not scale service $SERVICE_NAME to 0 (see 'docker service inspect $SERVICE_NAME')"
  fi
  _tasks_stopped() {
    local states
    states=$(docker_cli service ps "$SERVICE_NAME" --format '{{.CurrentState}}') || return 1
    ! grep -Eq '^(New|Allocated|Pending|Assigned|Accepted|Preparing|Ready|Starting|Running)' <<<"$states"
  }
  WAIT_HINT="see 'docker service ps --no-trunc $SERVICE_NAME': the dataset must not be in use while its files are replaced" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the tasks of service $SERVICE_NAME to stop" _tasks_stopped
  log "service $SERVICE_NAME has no task running"
}

action_start_master() {
  require_env SERVICE_NAME REPLICAS
  require_safe_path REPLICAS '^[0-9]+$' "a number of replicas"
  require_manager
  local spec current
  swarm_read spec docker_cli service inspect --format '{{json .Spec}}' "$SERVICE_NAME"
  current=$(jq -r '.Mode.Replicated.Replicas // empty' <<<"$spec")
  if [[ "$current" == "$REPLICAS" ]]; then
    log "service $SERVICE_NAME has $REPLICAS replica(s) already"
  else
    log "scaling service $SERVICE_NAME from ${current:-?} to $REPLICAS replica(s)"
    docker_cli service update --detach --replicas "$REPLICAS" "$SERVICE_NAME" >/dev/null ||
      die "could not scale service $SERVICE_NAME back to $REPLICAS: run 'docker service scale $SERVICE_NAME=$REPLICAS' on a manager"
  fi
  ((REPLICAS > 0)) || return 0
  _tasks_running() {
    local states
    states=$(docker_cli service ps "$SERVICE_NAME" --filter desired-state=running --format '{{.CurrentState}}') || return 1
    (($(grep -c '^Running' <<<"$states" || true) == REPLICAS))
  }
  WAIT_HINT="see why with 'docker service ps --no-trunc $SERVICE_NAME' (the dataset's mount on the master's node, placement)" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "$REPLICAS running task(s) of service $SERVICE_NAME" _tasks_running
  log "service $SERVICE_NAME runs $REPLICAS task(s)"
}

# unchanged MESSAGE: the copy refuses before touching the dataset.
unchanged() {
  log "ERROR: $1; the dataset $DATASET is unchanged"
  exit "$EXIT_UNCHANGED"
}

# What runs in the copy container (POSIX sh, as the image has it), /to the dataset and /from the
# snapshot's filesystem. Its exit codes: 10 no room for the copy beside the files, 11 the copy
# failed, 12 the copy differs from the snapshot (all three: the live files untouched, the partial
# copy removed), 20 the switch stopped between two renames (nothing deleted).
# shellcheck disable=SC2016 # expanded in the container, not here
COPY_AND_SWITCH='set -u
new="/to/$COPY_DIR" aside="/to/$ASIDE_DIR"
rm -rf "$new"
need=$(du -sk /from | cut -f1)
room=$(df -Pk /to | awk "NR == 2 { print \$4 }")
if [ "$need" -ge "$room" ]; then
  echo "the snapshot holds ${need} KiB and the dataset has ${room} KiB free: no room to copy it beside the present files" >&2
  exit 10
fi
mkdir "$new" && cp -a /from/. "$new/" && sync || { rm -rf "$new"; exit 11; }
work=$(mktemp -d) || exit 11
listing() { (cd "$1" && find . | sort && find . -type f -exec cksum {} + | sort -k 3); }
listing /from >"$work/snapshot.list" && listing "$new" >"$work/copy.list" || { rm -rf "$new" "$work"; exit 11; }
if ! cmp -s "$work/snapshot.list" "$work/copy.list"; then
  echo "the copy in $COPY_DIR does not match the snapshot (paths or checksums differ)" >&2
  rm -rf "$new" "$work"
  exit 12
fi
rm -rf "$work"
mkdir -p "$aside" || exit 20
for entry in /to/* /to/.[!.]* /to/..?*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  case "${entry##*/}" in "$COPY_DIR" | "$ASIDE_DIR") continue ;; esac
  mv "$entry" "$aside/" || exit 20
done
for entry in "$new"/* "$new"/.[!.]* "$new"/..?*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  mv "$entry" /to/ || exit 20
done
rmdir "$new" && sync || exit 20'

_copy_exit() {
  local rc=$?
  remove_copy_container || true
  _cleanup
  exit "$rc"
}

action_copy() {
  require_env DATASET COPY_IMAGE MOUNT_POINT COPY_DIR ASIDE_DIR
  require_safe_path COPY_DIR '^\.restore-snap-[0-9a-f]+$' "a .restore-snap-… directory name"
  require_safe_path ASIDE_DIR '^\.pre-restore-snap-[0-9a-f]+$' "a .pre-restore-snap-… directory name"
  local mp source users rc=0 driver_opts=()
  mp=$(path "$MOUNT_POINT")
  mounted_at "$mp" || unchanged "nothing is mounted at $MOUNT_POINT (the mount action runs first)"
  source=$mp
  if [[ -n "${SOURCE_SUBDIR:-}" ]]; then
    require_safe_path SOURCE_SUBDIR '^[A-Za-z0-9._-]+$' "a directory name"
    source=$mp/$SOURCE_SUBDIR
    [[ -d "$source" ]] || unchanged "the snapshot's file system has no $SOURCE_SUBDIR directory, where the dataset's files are: is it a snapshot of this dataset's volume?"
  fi
  [[ "$(dataset_driver 2>/dev/null)" == "$DATASET_DRIVER" ]] || unchanged "volume $DATASET is not a $DATASET_DRIVER volume on this node, or Docker does not answer"
  [[ "$DATASET_DRIVER" != flocker ]] || driver_opts=(--volume-driver flocker)
  users=$(running_users "$DATASET") || unchanged "Docker does not answer 'docker ps'"
  [[ -z "$users" ]] || unchanged "the dataset is in use here by $(tr '\n' ' ' <<<"$users")(stop them first)"
  remove_copy_container || unchanged "an earlier copy container could not be removed"
  trap _copy_exit EXIT
  log "copying the snapshot's files into $COPY_DIR on dataset $DATASET, checking them, then switching (at most ${COPY_TIMEOUT}s)"
  DOCKER_CLI_TIMEOUT=$COPY_TIMEOUT DOCKER_CLI_STALLED="the copy ran past COPY_TIMEOUT" \
    docker_cli run --rm --name "$COPY_CONTAINER" -e COPY_DIR -e ASIDE_DIR "${driver_opts[@]}" \
    -v "$DATASET:/to" -v "$source:/from:ro" "$COPY_IMAGE" sh -c "$COPY_AND_SWITCH" >&2 || rc=$?
  case "$rc" in
    0) log "dataset $DATASET holds the snapshot's files; its previous files are in $ASIDE_DIR until you remove them" ;;
    # Docker's own failures (the dataset's mount included) and a command that could not start:
    # nothing ran in the container.
    125 | 126 | 127) unchanged "the copy container did not start (docker run exit $rc)" ;;
    10 | 11 | 12) unchanged "the copy into $COPY_DIR did not complete (exit $rc, see above), so nothing was switched" ;;
    20) die "the switch stopped between two renames: the previous files are in $ASIDE_DIR or still in place, the snapshot's in $COPY_DIR or already in place; nothing was deleted. Finish it by moving the rest of $COPY_DIR's entries up, or undo it by moving $ASIDE_DIR's back" ;;
    *) die "the copy was stopped (exit $rc) before it ended: if it had reached the switch, the previous files are in $ASIDE_DIR and the snapshot's in $COPY_DIR or in place; otherwise the files are unchanged. Nothing was deleted" ;;
  esac
}

action_unmount() {
  require_env MOUNT_POINT
  require_safe_path MOUNT_POINT '^/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+$' "an absolute directory below the root"
  local mp
  mp=$(path "$MOUNT_POINT")
  remove_copy_container || die "a copy may still be writing into the dataset: the restore volume stays mounted at $MOUNT_POINT"
  if mounted_at "$mp"; then
    log "unmounting $MOUNT_POINT"
    retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" umount "$mp" ||
      die "$MOUNT_POINT is still mounted (in use: see 'fuser -vm $MOUNT_POINT'): unmount it before the restore volume is detached"
  else
    log "nothing is mounted at $MOUNT_POINT"
  fi
  if [[ -d "$mp" ]]; then
    rmdir -- "$mp" 2>/dev/null || warn "$MOUNT_POINT is not empty: left in place"
  fi
}

case "$1" in
  check) action_check ;;
  mount) action_mount ;;
  stop-master) action_stop_master ;;
  copy) action_copy ;;
  start-master) action_start_master ;;
  unmount) action_unmount ;;
esac
