#!/usr/bin/env bash
# flocker-control-volume.sh: the Flocker control service's state on its own EBS volume (the
# control-state volume, components/flockerControlState.ts), on the control node, after Docker and
# before the control service.
#
#   1. Waits (bounded) for the volume attached as CONTROL_STATE_DEVICE (/dev/sdX, which Xen
#      instances show as /dev/xvdX).
#   2. Formats it ext4 only when it holds nothing at all (`blkid -p` finds no file system and no
#      partition table); a volume with another file system is refused, never formatted.
#   3. Mounts it at CONTROL_STATE_MOUNT, with an fstab line by UUID and `nofail` (a missing volume
#      must not keep the node from booting and answering SSH).
#   4. Once, when the volume has no state directory (CONTROL_STATE_DIR) yet, moves the state the
#      control service kept on the node: /var/lib/flocker (packages) or the Docker volume
#      flocker-control-state (containers), whichever was written last, with the control service
#      stopped so that the copy is consistent. The source stays, marked as moved, and is never
#      copied again; a state directory on the volume is never overwritten.
#   5. Packages mode: /var/lib/flocker becomes a bind mount of the state directory (fstab, `nofail`),
#      and flocker-control requires it (a systemd drop-in). Containers mode: flocker-containers.sh
#      bind-mounts the state directory into the control container.
#
# A control service must never run across the moment its state appears under it: started on an
# empty directory, flocker-control writes an empty configuration at once and saves its in-memory
# one on the next change (ClusterHQ/flocker flocker/control/_persistence.py), which would replace
# the cluster's record of its datasets. So it is stopped first whenever its state moves; the
# control step starts it again. After a reboot without the volume, neither the unit (the drop-in)
# nor the container (a bind source that does not exist) starts.
#
# A replaced control node gets the same volume: it is mounted as it is, and the control service
# comes back with the datasets it knew. A second run changes nothing.
#
# Environment: CONTROL_STATE_DEVICE, CONTROL_STATE_MOUNT, CONTROL_STATE_DIR, CONTROL_STATE_VOLUME_ID
# (for messages), FLOCKER_INSTALL (containers|packages); WAIT_TIMEOUT (120), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

require_env CONTROL_STATE_DEVICE CONTROL_STATE_MOUNT CONTROL_STATE_DIR CONTROL_STATE_VOLUME_ID FLOCKER_INSTALL
WAIT_TIMEOUT=${WAIT_TIMEOUT:-120}
[[ "$FLOCKER_INSTALL" == containers || "$FLOCKER_INSTALL" == packages ]] ||
  die "FLOCKER_INSTALL must be containers or packages, not '$FLOCKER_INSTALL'"
[[ "$CONTROL_STATE_DEVICE" =~ ^/dev/(sd|xvd)([f-z])$ ]] ||
  die "CONTROL_STATE_DEVICE must be an EBS device name /dev/sd[f-z], not '$CONTROL_STATE_DEVICE'"
DEVICE_LETTER=${BASH_REMATCH[2]}
[[ "$CONTROL_STATE_MOUNT" == /* && "$CONTROL_STATE_DIR" == "$CONTROL_STATE_MOUNT"/?* ]] ||
  die "CONTROL_STATE_DIR ('$CONTROL_STATE_DIR') must be a directory under CONTROL_STATE_MOUNT ('$CONTROL_STATE_MOUNT')"
for tool in blkid mkfs.ext4 mount findmnt; do
  require_cmd "$tool" "it is part of every Ubuntu image (util-linux, e2fsprogs)"
done

# Where Flocker's control service keeps its state, whichever way it runs (flocker-control's
# --data-path default; the container sees the same path).
FLOCKER_DATA=/var/lib/flocker
# The Docker volume the control container used before the state had a volume of its own.
OLD_STATE_VOLUME=flocker-control-state
FILESYSTEM_LABEL=flocker-control
MOVED_MARKER=MOVED-TO-CONTROL-STATE-VOLUME
FSTAB=$(path /etc/fstab)
DROP_IN=$(path /etc/systemd/system/$FLOCKER_CONTROL_UNIT.service.d/control-state-volume.conf)
SYSTEMD_CHANGED=0

# ---------------------------------------------------------------------------------------------
# The device.

# The names the attached volume may have on the node: Xen's xvdX first (the instance types the
# stack allows), the requested sdX as some kernels keep it.
DEVICE_CANDIDATES=("/dev/xvd$DEVICE_LETTER" "/dev/sd$DEVICE_LETTER")
DEVICE=""
device_present() {
  local candidate
  for candidate in "${DEVICE_CANDIDATES[@]}"; do
    if [[ -e "$(path "$candidate")" ]]; then
      DEVICE=$candidate
      return 0
    fi
  done
  return 1
}

# probe_device: what `blkid -p` (a low-level probe, no cache) finds on DEVICE, as KEY=value lines;
# empty when the device holds nothing.
probe_device() {
  local out rc=0
  out=$(blkid -p -o export "$(path "$DEVICE")" </dev/null) || rc=$?
  case "$rc" in
    0) printf '%s\n' "$out" ;;
    2) ;; # nothing found
    *) die "cannot probe $DEVICE (blkid exit $rc): see 'blkid -p $DEVICE' on this node" ;;
  esac
}

probe_value() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }

# ---------------------------------------------------------------------------------------------
# fstab and mounts.

# mounted_source DIR: what is mounted at DIR, as findmnt names it (/dev/xvdz, or /dev/xvdz[/state]
# for a bind mount); fails when nothing is.
mounted_source() {
  local source
  source=$(findmnt -rn -o SOURCE --mountpoint "$(path "$1")" </dev/null) || return 1
  printf '%s\n' "${source#"$FS_ROOT"}"
}

# fstab_with TARGET LINE [TARGET LINE]...: fstab with exactly these lines for these targets (in
# place of any other line for the same target, else appended); other lines are kept as they are.
fstab_with() {
  local current=/dev/null
  [[ ! -f "$FSTAB" ]] || current=$FSTAB
  awk -v pairs="$(printf '%s\n' "$@")" '
    BEGIN { n = split(pairs, p, "\n"); for (i = 1; i + 1 <= n; i += 2) { want[p[i]] = p[i + 1]; order[++k] = p[i] } }
    /^[[:space:]]*(#|$)/ { print; next }
    ($2 in want) { if (!(($2) in done)) print want[$2]; done[$2] = 1; next }
    { print }
    END { for (i = 1; i <= k; i++) if (!(order[i] in done)) print want[order[i]] }
  ' "$current"
}

# same_source HAVE WANT: findmnt's source is the wanted one: the same text, or the same block
# device under another name (mount resolves fstab's UUID= to the kernel's name of the disk, which
# need not be the name the attachment gave: a loop device on a test node, a /dev/sdz link) with
# the same bind-mounted directory ([/state]) if any.
same_source() {
  local have=$1 want=$2 have_dev want_dev
  [[ "$have" != "$want" ]] || return 0
  have_dev=${have%%\[*}
  want_dev=${want%%\[*}
  [[ "${have#"$have_dev"}" == "${want#"$want_dev"}" && -b "$(path "$have_dev")" && -b "$(path "$want_dev")" ]] || return 1
  [[ "$(stat -L -c '%t:%T' "$(path "$have_dev")")" == "$(stat -L -c '%t:%T' "$(path "$want_dev")")" ]]
}

# mount_at WHERE WANT_SOURCE: WHERE mounted from its fstab line, unless WANT_SOURCE already is;
# anything else mounted there is refused.
mount_at() {
  local where=$1 want=$2 have
  if have=$(mounted_source "$where"); then
    same_source "$have" "$want" ||
      die "$where is already mounted from $have, not from the control-state volume ($want): unmount it ('umount $where') if it is not needed, then re-run pulumi up"
    log "$where is mounted from $want"
    return 0
  fi
  mkdir -p -- "$(path "$where")" || die "cannot create $where"
  log "mounting $where"
  mount "$(path "$where")" >&2 </dev/null ||
    die "could not mount $where (see the message above and 'dmesg | tail' on this node): its line in /etc/fstab is: $(grep -E "[[:space:]]${where}[[:space:]]" "$FSTAB")"
  # `nofail` lets mount succeed without mounting when the source is missing: check what it did.
  have=$(mounted_source "$where") || have="nothing"
  same_source "$have" "$want" || die "mount $where returned, but $where is mounted from $have, not from $want: see 'findmnt $where' on this node"
}

# ---------------------------------------------------------------------------------------------
# The state that was on the node before.

# not_empty DIR: DIR holds at least one entry.
not_empty() { [[ -n "$(find "$1" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ]]; }

# newest_change DIR: seconds since the epoch of the last change of anything in DIR.
newest_change() { find "$1" -mindepth 1 -printf '%T@\n' | sort -n | tail -n 1 | cut -d. -f1; }

# old_state_dirs: the directories (under FS_ROOT) that may hold the state the control service
# kept on the node, if they exist: the packages' /var/lib/flocker (unless it is a mount already,
# i.e. the volume itself) and the containers' Docker volume.
old_state_dirs() {
  local mountpoint
  if [[ -d "$(path "$FLOCKER_DATA")" ]] && ! mounted_source "$FLOCKER_DATA" >/dev/null; then
    path "$FLOCKER_DATA"
  fi
  if docker_installed && mountpoint=$(docker_cli volume inspect --format '{{.Mountpoint}}' "$OLD_STATE_VOLUME" 2>/dev/null); then
    path "$mountpoint"
  fi
}

# migration_source: the old state directory to copy, if any: one that holds something and was not
# moved before; of two, the one written last (a cluster that switched flockerInstall has both, and
# only the live one changes).
migration_source() {
  local dir best="" best_time=-1 changed
  while IFS= read -r dir; do
    [[ -n "$dir" ]] || continue
    if [[ -e "$dir/$MOVED_MARKER" ]]; then
      log "$dir was moved to the control-state volume before: not copied again"
      continue
    fi
    not_empty "$dir" || continue
    changed=$(newest_change "$dir")
    if ((changed > best_time)); then
      best=$dir
      best_time=$changed
    fi
  done < <(old_state_dirs)
  printf '%s\n' "$best"
}

# initialise_state: the volume's state directory, with the node's old state copied into it, once.
initialise_state() {
  local state partial source
  state=$(path "$CONTROL_STATE_DIR")
  if [[ -d "$state" ]]; then
    log "the control-state volume holds the control service's state ($CONTROL_STATE_DIR): nothing to move"
    return 0
  fi
  source=$(migration_source)
  flocker_control_stop
  # Built aside and renamed into place: an interrupted copy leaves no state directory, so the next
  # run starts the copy again instead of taking half a state for the whole.
  partial=$(path "$CONTROL_STATE_MOUNT/.state.partial")
  rm -rf -- "$partial"
  mkdir -m 700 -- "$partial" || die "cannot create $partial"
  if [[ -n "$source" ]]; then
    log "copying the control service's state from ${source#"$FS_ROOT"} to the control-state volume"
    cp -a -- "$source/." "$partial/" || die "could not copy ${source#"$FS_ROOT"} to the control-state volume: see the message above"
  else
    log "no control state on this node to move: the control service starts with an empty configuration"
  fi
  mv -T -- "$partial" "$state" || die "cannot rename $partial to $state"
  if [[ -n "$source" ]]; then
    printf 'The Flocker control service state in this directory was copied to the control-state volume (%s) on %s and is no longer used.\nKept for the operator; flocker-control-volume.sh never copies a directory that holds this file.\n' \
      "$CONTROL_STATE_DIR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$source/$MOVED_MARKER" ||
      die "cannot mark ${source#"$FS_ROOT"} as moved"
  fi
}

# ---------------------------------------------------------------------------------------------

WAIT_HINT="the volume ($CONTROL_STATE_VOLUME_ID) is attached as $CONTROL_STATE_DEVICE by the Pulumi program; check it with 'aws ec2 describe-volumes --volume-ids $CONTROL_STATE_VOLUME_ID' (its attachment should be 'attached' to this instance) and 'lsblk' on this node, then re-run pulumi up" \
  wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the control-state volume to appear as ${DEVICE_CANDIDATES[*]}" device_present
log "the control-state volume is $DEVICE"

probe=$(probe_device)
if [[ -z "$probe" ]]; then
  log "formatting $DEVICE (ext4): the volume is new"
  # -F: never a question (the device is whole, not a partition); it still refuses a mounted device.
  mkfs.ext4 -q -F -L "$FILESYSTEM_LABEL" "$(path "$DEVICE")" >&2 </dev/null || die "mkfs.ext4 $DEVICE failed: see the message above"
  probe=$(probe_device)
fi
fstype=$(probe_value TYPE "$probe")
[[ "$fstype" == ext4 ]] ||
  die "$DEVICE holds ${fstype:-a partition table ($(probe_value PTTYPE "$probe"))}, not the ext4 file system of a control-state volume: it is left as it is; check that $CONTROL_STATE_VOLUME_ID is the control-state volume"
uuid=$(probe_value UUID "$probe")
[[ -n "$uuid" ]] || die "blkid reports no UUID for $DEVICE"

# Every fstab line and the drop-in first, so that one daemon-reload covers them before any mount.
fstab_lines=("$CONTROL_STATE_MOUNT" "UUID=$uuid $CONTROL_STATE_MOUNT ext4 defaults,nofail 0 2")
if [[ "$FLOCKER_INSTALL" == packages ]]; then
  fstab_lines+=("$FLOCKER_DATA" "$CONTROL_STATE_DIR $FLOCKER_DATA none bind,nofail,x-systemd.requires-mounts-for=$CONTROL_STATE_MOUNT 0 0")
fi
if fstab_with "${fstab_lines[@]}" | write_if_changed "$FSTAB" 644; then
  log "updated /etc/fstab: ${fstab_lines[*]:1:1}"
  SYSTEMD_CHANGED=1
fi
if [[ "$FLOCKER_INSTALL" == packages ]]; then
  if printf '%s\n' "# flocker-control-volume.sh: flocker-control's state is on the control-state volume; without it" \
    "# mounted the service would start empty, so it does not start at all." "[Unit]" "RequiresMountsFor=$FLOCKER_DATA" |
    write_if_changed "$DROP_IN" 644; then
    log "flocker-control now requires $FLOCKER_DATA to be mounted"
    SYSTEMD_CHANGED=1
  fi
fi
if ((SYSTEMD_CHANGED)); then
  systemctl daemon-reload >&2 || die "systemctl daemon-reload failed: see the message above"
fi

mount_at "$CONTROL_STATE_MOUNT" "$DEVICE"
initialise_state
if [[ "$FLOCKER_INSTALL" == packages ]]; then
  bind_source="${DEVICE}[${CONTROL_STATE_DIR#"$CONTROL_STATE_MOUNT"}]"
  if ! mounted_source "$FLOCKER_DATA" >/dev/null; then
    flocker_control_stop
  fi
  mount_at "$FLOCKER_DATA" "$bind_source"
fi
log "the control service's state is on the control-state volume ($CONTROL_STATE_DIR)"
