#!/usr/bin/env bash
# spark-data.sh create|release: the Spark dataset of the current platform, an EBS volume the
# Pulumi program attaches to the Spark master's node (its SparkData component), made the `spark`
# Docker volume the master mounts at /data. Runs on that node.
#
#   create   1. Waits (bounded) for the volume's NVMe device: on Nitro every EBS volume is an NVMe
#               namespace whose serial is the volume id without its dash, and udev names it
#               /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol<hex> (the kernel name,
#               /dev/nvmeXn1, depends on the attachment order and is never used).
#            2. Formats it ext4 only when `blkid -p` finds nothing on it; a device with another
#               file system or a partition table is refused, never formatted.
#            3. Mounts it at MOUNT_POINT through an /etc/fstab line by UUID with `nofail` (a volume
#               missing at boot must not keep the node from booting and answering SSH).
#            4. Makes MOUNT_POINT/data, owned by DATA_UID (the user apache/spark runs as). The
#               directory exists only on the volume: without the volume mounted, the bind below
#               has no source and a container using the volume fails instead of writing to the
#               root disk.
#            5. Creates the Docker volume VOLUME_NAME with the local driver bound to
#               MOUNT_POINT/data (type=none, o=bind). A volume of that name that is anything else
#               (a plain volume, bound elsewhere, another driver) is refused, never replaced.
#            A second run changes nothing; a replaced node gets the same volume and its data, as
#            it is. Last stdout line: spark-data: <volume id> <device> UUID=<uuid> at <mount point>
#   release  (the step's delete, which runs on a destroy only: the step follows the cluster's life,
#            so a replaced node is never asked, dead or alive) removes the Docker
#            volume's binding, unmounts the volume and removes its fstab line. It never formats
#            and never deletes a file: `docker volume rm` of a bound local volume removes Docker's
#            record of it, not the files of its source. An absent volume, mount or line is fine.
#
# Environment: VOLUME_ID (vol-…), MOUNT_POINT (/srv/spark-data), VOLUME_NAME (spark), DATA_UID
# (185; create only); WAIT_TIMEOUT (120), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

expect_action "create|release" "$@"
ACTION=$1
require_env VOLUME_ID MOUNT_POINT VOLUME_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-120}
[[ "$VOLUME_ID" =~ ^vol-([0-9a-f]{8}|[0-9a-f]{17})$ ]] ||
  die "VOLUME_ID must be an EBS volume id (vol- and 8 or 17 hex digits), not '$VOLUME_ID'"
[[ "$MOUNT_POINT" =~ ^(/[A-Za-z0-9._-]+)+$ ]] ||
  die "MOUNT_POINT must be an absolute path of letters, digits, '.', '_' and '-' (it goes into /etc/fstab), not '$MOUNT_POINT'"
[[ "$VOLUME_NAME" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]+$ ]] ||
  die "VOLUME_NAME must be a Docker volume name ([A-Za-z0-9][A-Za-z0-9_.-]+), not '$VOLUME_NAME'"

BY_ID=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${VOLUME_ID/-/}
DATA_DIR=$MOUNT_POINT/data
FILESYSTEM_LABEL=spark-data
FSTAB=$(path /etc/fstab)

# ---------------------------------------------------------------------------------------------
# The device.

# DEVICE: the kernel's name of the volume (/dev/nvme1n1), once it is there.
DEVICE=""
device_present() {
  local link resolved
  link=$(path "$BY_ID")
  [[ -e "$link" ]] || return 1
  resolved=$(readlink -f -- "$link") || return 1
  DEVICE=${resolved#"$FS_ROOT"}
}

# probe_device: what `blkid -p` (a low-level probe, no cache) finds on DEVICE, as KEY=value lines;
# empty when the device holds nothing.
probe_device() {
  local out rc=0
  out=$(blkid -p -o export "$(path "$DEVICE")" </dev/null) || rc=$?
  case "$rc" in
    0) printf '%s\n' "$out" ;;
    2) ;; # nothing found
    *) die "cannot probe $DEVICE ($VOLUME_ID; blkid exit $rc): see 'blkid -p $DEVICE' on this node" ;;
  esac
}

probe_value() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }

# ---------------------------------------------------------------------------------------------
# fstab and mounts.

# mounted_source DIR: what is mounted at DIR, as findmnt names it; fails when nothing is.
mounted_source() {
  local source
  source=$(findmnt -rn -o SOURCE --mountpoint "$(path "$1")" </dev/null) || return 1
  printf '%s\n' "${source#"$FS_ROOT"}"
}

# same_device HAVE WANT: the same text, or the same block device under another name (mount
# resolves the fstab line's UUID= to a name of its own: the nvme name, or a loop device on a test
# node).
same_device() {
  [[ "$1" != "$2" ]] || return 0
  [[ -b "$(path "$1")" && -b "$(path "$2")" ]] || return 1
  [[ "$(stat -L -c '%t:%T' "$(path "$1")")" == "$(stat -L -c '%t:%T' "$(path "$2")")" ]]
}

# fstab_without TARGET: fstab without its lines for TARGET; comments and other lines as they are.
fstab_without() {
  [[ -f "$FSTAB" ]] || return 0
  awk -v t="$1" '/^[[:space:]]*(#|$)/ || $2 != t' "$FSTAB"
}

# fstab_with TARGET LINE: fstab with LINE as its one line for TARGET, in place of the first line
# for TARGET if there is one, else appended.
fstab_with() {
  local current=/dev/null
  [[ ! -f "$FSTAB" ]] || current=$FSTAB
  awk -v t="$1" -v line="$2" '
    /^[[:space:]]*(#|$)/ { print; next }
    $2 == t { if (!done) print line; done = 1; next }
    { print }
    END { if (!done) print line }
  ' "$current"
}

daemon_reload() {
  # systemd turns fstab into mount units; without a reload it acts on the old lines.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload >&2 || die "systemctl daemon-reload failed: see the message above"
  fi
}

# ---------------------------------------------------------------------------------------------
# The Docker volume.

# volume_binding: "absent", or the volume's driver and options as one line ("local {...}").
volume_binding() {
  local out
  if ! out=$(docker_cli volume inspect --format '{{.Driver}} {{json .Options}}' "$VOLUME_NAME" 2>&1); then
    [[ "${out,,}" == *"no such volume"* ]] || die "cannot inspect Docker volume $VOLUME_NAME: $out"
    echo absent
    return 0
  fi
  printf '%s\n' "$out"
}

# is_our_binding "DRIVER OPTIONS": the local driver bound to DATA_DIR, nothing else.
is_our_binding() {
  local driver=${1%% *} options=${1#* }
  [[ "$driver" == local ]] || return 1
  jq -e --arg d "$DATA_DIR" '. == {type: "none", o: "bind", device: $d}' <<<"$options" >/dev/null 2>&1
}

# describe_binding "DRIVER OPTIONS": what the volume is, for a refusal.
describe_binding() {
  local driver=${1%% *} options=${1#* } device
  if [[ "$driver" != local ]]; then
    printf 'a volume of the %s driver\n' "$driver"
    return 0
  fi
  device=$(jq -r '(. // {}).device // ""' <<<"$options" 2>/dev/null || true)
  if [[ -z "$device" ]]; then
    printf 'a plain local volume (its files are under /var/lib/docker/volumes/%s)\n' "$VOLUME_NAME"
  else
    printf 'a local volume bound to %s (options %s)\n' "$device" "$options"
  fi
}

# ---------------------------------------------------------------------------------------------

create() {
  require_env DATA_UID
  [[ "$DATA_UID" =~ ^[0-9]+$ ]] || die "DATA_UID must be a numeric user id, not '$DATA_UID'"
  for tool in blkid mkfs.ext4 mount findmnt jq; do
    require_cmd "$tool" "it is part of every Ubuntu image (util-linux, e2fsprogs) or installed by the install-docker step (jq)"
  done
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  # A volume of that name that is not this binding is refused before the device is touched.
  local binding
  binding=$(volume_binding)
  if [[ "$binding" != absent ]] && ! is_our_binding "$binding"; then
    die "a Docker volume named $VOLUME_NAME exists already and is $(describe_binding "$binding"), not bound to $DATA_DIR: it is left as it is; copy what it holds into $DATA_DIR if you need it, remove it ('docker volume rm $VOLUME_NAME', after the containers that use it), then re-run pulumi up"
  fi

  WAIT_HINT="the Pulumi program attaches $VOLUME_ID to this instance before this step: check the attachment with 'aws ec2 describe-volumes --volume-ids $VOLUME_ID' (State 'attached', to this instance) and 'ls -l /dev/disk/by-id/' and 'lsblk' on this node, then re-run pulumi up" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "EBS volume $VOLUME_ID to appear as $BY_ID" device_present
  log "$VOLUME_ID is $DEVICE ($BY_ID)"

  local probe fstype uuid line have
  probe=$(probe_device)
  if [[ -z "$probe" ]]; then
    log "formatting $DEVICE (ext4, label $FILESYSTEM_LABEL): $VOLUME_ID holds nothing yet"
    # -F: never a question (a whole device, not a partition); mkfs still refuses a mounted device.
    mkfs.ext4 -q -F -L "$FILESYSTEM_LABEL" "$(path "$DEVICE")" >&2 </dev/null || die "mkfs.ext4 $DEVICE ($VOLUME_ID) failed: see the message above"
    probe=$(probe_device)
  fi
  fstype=$(probe_value TYPE "$probe")
  local what="a file system of type $fstype"
  [[ -n "$fstype" ]] || what="a partition table ($(probe_value PTTYPE "$probe"))"
  [[ "$fstype" == ext4 ]] ||
    die "$DEVICE ($VOLUME_ID) holds $what, not ext4: it is left as it is and never formatted; check that $VOLUME_ID is the Spark dataset's volume, or copy its data off and wipe it ('wipefs -a $DEVICE') yourself"
  uuid=$(probe_value UUID "$probe")
  [[ -n "$uuid" ]] || die "blkid reports no UUID for $DEVICE ($VOLUME_ID)"

  line="UUID=$uuid $MOUNT_POINT ext4 defaults,nofail 0 2"
  if fstab_with "$MOUNT_POINT" "$line" | write_if_changed "$FSTAB" 644; then
    log "updated /etc/fstab: $line"
    daemon_reload
  fi

  if have=$(mounted_source "$MOUNT_POINT"); then
    same_device "$have" "$DEVICE" ||
      die "$MOUNT_POINT is already mounted from $have, not from $VOLUME_ID ($DEVICE): unmount it ('umount $MOUNT_POINT') if it is not needed, then re-run pulumi up"
    log "$MOUNT_POINT is mounted from $DEVICE"
  else
    mkdir -p -- "$(path "$MOUNT_POINT")" || die "cannot create $MOUNT_POINT"
    log "mounting $VOLUME_ID at $MOUNT_POINT"
    mount "$(path "$MOUNT_POINT")" >&2 </dev/null ||
      die "could not mount $MOUNT_POINT (see the message above and 'dmesg | tail' on this node): its /etc/fstab line is: $line"
    # `nofail` lets mount succeed without mounting when the source is missing: check what it did.
    have=$(mounted_source "$MOUNT_POINT") || have="nothing"
    same_device "$have" "$DEVICE" || die "mount $MOUNT_POINT returned, but $MOUNT_POINT is mounted from $have, not from $DEVICE: see 'findmnt $MOUNT_POINT' on this node"
  fi

  local data
  data=$(path "$DATA_DIR")
  if [[ ! -d "$data" ]]; then
    log "creating $DATA_DIR"
    mkdir -m 755 -- "$data" || die "cannot create $DATA_DIR"
  fi
  # The owner's uid is what lets the Spark user write; its group follows when it is set.
  if [[ "$(stat -c %u "$data")" != "$DATA_UID" ]]; then
    log "setting owner $DATA_UID:$DATA_UID on $DATA_DIR (the user the Spark image runs as)"
    chown "$DATA_UID:$DATA_UID" "$data" || die "cannot chown $DATA_DIR"
  fi

  if [[ "$binding" == absent ]]; then
    log "creating Docker volume $VOLUME_NAME (local driver, bound to $DATA_DIR)"
    docker_cli volume create --driver local --opt type=none --opt o=bind --opt "device=$DATA_DIR" --name "$VOLUME_NAME" >/dev/null ||
      die "docker volume create $VOLUME_NAME failed: see the message above"
  else
    log "Docker volume $VOLUME_NAME is bound to $DATA_DIR"
  fi
  printf 'spark-data: %s %s UUID=%s at %s\n' "$VOLUME_ID" "$DEVICE" "$uuid" "$MOUNT_POINT"
}

release() {
  local binding err
  if ! docker_installed; then
    log "docker is not installed: no Docker volume to remove"
  else
    binding=$(volume_binding)
    if [[ "$binding" == absent ]]; then
      log "Docker volume $VOLUME_NAME does not exist: nothing to remove"
    elif is_our_binding "$binding"; then
      log "removing Docker volume $VOLUME_NAME (its binding to $DATA_DIR; the files stay on $VOLUME_ID)"
      if ! err=$(docker_cli volume rm "$VOLUME_NAME" 2>&1 >/dev/null); then
        [[ "${err,,}" == *"no such volume"* ]] ||
          die "could not remove Docker volume $VOLUME_NAME: $err; when a container still uses it ('docker ps -a --filter volume=$VOLUME_NAME'; the spark-master service: 'docker service ls' on a manager), remove that first, then re-run"
      fi
    else
      warn "Docker volume $VOLUME_NAME is $(describe_binding "$binding"), not this step's binding: left as it is"
    fi
  fi

  local have
  if have=$(mounted_source "$MOUNT_POINT"); then
    log "unmounting $MOUNT_POINT ($have)"
    umount "$(path "$MOUNT_POINT")" >&2 </dev/null ||
      die "could not unmount $MOUNT_POINT: a process still uses it ('fuser -vm $MOUNT_POINT' on this node shows which); stop it, then re-run"
  else
    log "$MOUNT_POINT is not mounted"
  fi

  if [[ -f "$FSTAB" ]] && awk -v t="$MOUNT_POINT" '!/^[[:space:]]*(#|$)/ && $2 == t { f = 1 } END { exit !f }' "$FSTAB"; then
    fstab_without "$MOUNT_POINT" | write_if_changed "$FSTAB" 644 || true
    log "removed the /etc/fstab line of $MOUNT_POINT"
    daemon_reload
  fi
  log "$VOLUME_ID is released by this node (its data is on the volume, untouched)"
}

case "$ACTION" in
  create) create ;;
  release) release ;;
esac
