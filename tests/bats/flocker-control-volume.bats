#!/usr/bin/env bats
# scripts/flocker-control-volume.sh: the Flocker control service's state on its own EBS volume.
# The volume is a simulated block device (stubs blkid, mkfs.ext4, mount, findmnt): attached when
# $FS_ROOT/dev/xvdz exists, its file system in $STUB_STATE/devices/xvdz/, mounts in
# $FS_ROOT/proc/self/mountinfo.
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

MOUNT=/var/lib/flocker-control
MOVED="MOVED-TO-CONTROL-STATE-VOLUME"
ROOT_FSTAB="UUID=5e1f0c1d-root / ext4 defaults,discard 0 1"

setup() {
  common_setup
  ln -s "$STUB_DIR/blkid" "$STUB_DIR/mkfs.ext4" "$STUB_DIR/mount" "$STUB_DIR/findmnt" "$BIN/"
  export CONTROL_STATE_DEVICE=/dev/sdz CONTROL_STATE_MOUNT=$MOUNT CONTROL_STATE_DIR=$MOUNT/state
  export CONTROL_STATE_VOLUME_ID=vol-0c0ffee0c0ffee000 FLOCKER_INSTALL=containers
  echo "$ROOT_FSTAB" >"$FS_ROOT/etc/fstab"
}

attach() { mkdir -p "$FS_ROOT/dev" && touch "$FS_ROOT/dev/xvdz"; }
volume_uuid() { sed -n 's/^UUID=//p' "$STUB_STATE/blkid/xvdz"; }
# on_volume PATH: a path of the volume's file system
on_volume() { printf '%s/devices/xvdz/%s\n' "$STUB_STATE" "$1"; }
mounted_at() { awk -v d="$FS_ROOT$1" '$5 == d { f = 1 } END { exit !f }' "$FS_ROOT/proc/self/mountinfo"; }

# The state a control service wrote before the volume existed: the containers' Docker volume, or
# the packages' /var/lib/flocker, with the control service running.
old_container_state() {
  stub_set docker/volumes/flocker-control-state local
  local data=$FS_ROOT/var/lib/docker/volumes/flocker-control-state/_data
  mkdir -p "$data"
  echo '{"version": 6, "deployment": "the spark dataset"}' >"$data/current_configuration.json"
  stub_set docker/containers/flocker-control-service.json '{"Name": "/flocker-control-service", "State": {"Running": true}}'
}
old_package_state() {
  mkdir -p "$FS_ROOT/var/lib/flocker"
  echo '{"version": 6, "deployment": "the spark dataset"}' >"$FS_ROOT/var/lib/flocker/current_configuration.json"
  stub_set systemd/flocker-control "enabled active"
}

# A replaced control node: a new root disk (no fstab line, no mounts, whatever the packages
# started there), the same volume attached.
new_node() {
  rm -rf "$FS_ROOT" "$STUB_STATE/mount-shadow"
  mkdir -p "$FS_ROOT/etc"
  echo "$ROOT_FSTAB" >"$FS_ROOT/etc/fstab"
  attach
  clear_logs
}

# ------------------------------------------------------------------------------------ a new volume
@test "a blank volume (containers): formatted once, mounted by UUID with nofail, an empty state directory" {
  attach
  run_script flocker-control-volume
  assert_success
  assert_mutations <<EOF2
mkfs.ext4 -q -F -L flocker-control $FS_ROOT/dev/xvdz
systemctl daemon-reload
mount $FS_ROOT$MOUNT
EOF2
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB
UUID=$(volume_uuid) $MOUNT ext4 defaults,nofail 0 2"
  mounted_at "$MOUNT"
  [[ -d "$(on_volume state)" ]]
  assert_equal "$(stat -c %a "$(on_volume state)")" 700
  assert_equal "$(ls -A "$(on_volume state)")" ""
  assert_stderr_contains "no control state on this node to move"
  # containers mode: nothing of the packages' bind mount (its fstab line is asserted absent above)
  [[ ! -e "$FS_ROOT/etc/systemd/system/flocker-control.service.d" ]]
  run mounted_at /var/lib/flocker
  assert_failure
}

@test "containers: the Docker volume's state is copied with the control container stopped, then marked and kept" {
  attach
  old_container_state
  run_script flocker-control-volume
  assert_success
  assert_mutations <<EOF2
mkfs.ext4 -q -F -L flocker-control $FS_ROOT/dev/xvdz
systemctl daemon-reload
mount $FS_ROOT$MOUNT
docker stop --time 30 flocker-control-service
EOF2
  local old=$FS_ROOT/var/lib/docker/volumes/flocker-control-state/_data
  assert_equal "$(cat "$(on_volume state/current_configuration.json)")" '{"version": 6, "deployment": "the spark dataset"}'
  # what the control container will see through its bind mount
  assert_equal "$(cat "$FS_ROOT$MOUNT/state/current_configuration.json")" '{"version": 6, "deployment": "the spark dataset"}'
  grep -q "copied to the control-state volume ($MOUNT/state)" "$old/$MOVED"
  [[ -f "$old/current_configuration.json" && -f "$STUB_STATE/docker/volumes/flocker-control-state" ]]
  assert_stderr_contains "copying the control service's state from /var/lib/docker/volumes/flocker-control-state/_data"

  clear_logs
  run_script flocker-control-volume
  assert_success
  assert_no_mutations
  assert_stderr_contains "nothing to move"
}

@test "packages: /var/lib/flocker copied with flocker-control stopped, then bind-mounted from the volume; flocker-control requires it" {
  attach
  old_package_state
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  assert_mutations <<EOF2
mkfs.ext4 -q -F -L flocker-control $FS_ROOT/dev/xvdz
systemctl daemon-reload
mount $FS_ROOT$MOUNT
systemctl stop flocker-control
mount $FS_ROOT/var/lib/flocker
EOF2
  assert_equal "$(sed -n 3p "$FS_ROOT/etc/fstab")" "$MOUNT/state /var/lib/flocker none bind,nofail,x-systemd.requires-mounts-for=$MOUNT 0 0"
  assert_equal "$(sed -n '$p' "$FS_ROOT/etc/systemd/system/flocker-control.service.d/control-state-volume.conf")" "RequiresMountsFor=/var/lib/flocker"
  run findmnt -rn -o SOURCE --mountpoint "$FS_ROOT/var/lib/flocker"
  assert_output "$FS_ROOT/dev/xvdz[/state]"
  # flocker-control reads and writes the volume now
  assert_equal "$(cat "$FS_ROOT/var/lib/flocker/current_configuration.json")" '{"version": 6, "deployment": "the spark dataset"}'
  echo "written by the service" >"$FS_ROOT/var/lib/flocker/current_configuration.json"
  assert_equal "$(cat "$(on_volume state/current_configuration.json)")" "written by the service"
  # the root disk's copy stays under the mount, marked
  [[ -f "$STUB_STATE/mount-shadow/var/lib/flocker/$MOVED" ]]
  [[ ! -e "$(on_volume state/$MOVED)" ]]

  clear_logs
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  assert_no_mutations
}

@test "an interrupted copy is started again, never taken for the state" {
  attach
  old_container_state
  # the first run formatted and mounted, then stopped in the middle of the copy
  run_script flocker-control-volume
  rm -rf "$(on_volume state)"
  mkdir -p "$(on_volume .state.partial)"
  echo "half" >"$(on_volume .state.partial/current_configuration.json)"
  rm "$FS_ROOT/var/lib/docker/volumes/flocker-control-state/_data/$MOVED"
  clear_logs
  run_script flocker-control-volume
  assert_success
  refute_called_matching '^mkfs'
  assert_equal "$(cat "$(on_volume state/current_configuration.json)")" '{"version": 6, "deployment": "the spark dataset"}'
  [[ ! -e "$(on_volume .state.partial)" ]]
}

@test "of two old states (flockerInstall switched), the one written last is copied" {
  attach
  old_container_state
  old_package_state
  echo '{"stale": true}' >"$FS_ROOT/var/lib/flocker/current_configuration.json"
  touch -d '2020-01-01' "$FS_ROOT/var/lib/flocker/current_configuration.json"
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  assert_equal "$(cat "$FS_ROOT/var/lib/flocker/current_configuration.json")" '{"version": 6, "deployment": "the spark dataset"}'
  # both services were stopped before the copy
  assert_called "systemctl stop flocker-control"
  assert_called "docker stop --time 30 flocker-control-service"
}

@test "a state moved before is never copied again (a new, blank volume on the same node)" {
  attach
  old_package_state
  echo "moved earlier" >"$FS_ROOT/var/lib/flocker/$MOVED"
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  assert_stderr_contains "/var/lib/flocker was moved to the control-state volume before: not copied again"
  assert_equal "$(ls -A "$(on_volume state)")" ""
}

# ------------------------------------------------------------------------------------ a kept volume
@test "a replaced control node: the volume is mounted as it is, not formatted, its state not overwritten" {
  attach
  old_package_state
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  local uuid
  uuid=$(volume_uuid)
  new_node
  # the new node's packages started flocker-control on an empty /var/lib/flocker before this step
  mkdir -p "$FS_ROOT/var/lib/flocker"
  echo '{"version": 6, "deployment": "empty"}' >"$FS_ROOT/var/lib/flocker/current_configuration.json"
  stub_set systemd/flocker-control "enabled active"
  FLOCKER_INSTALL=packages run_script flocker-control-volume
  assert_success
  assert_mutations <<EOF2
systemctl daemon-reload
mount $FS_ROOT$MOUNT
systemctl stop flocker-control
mount $FS_ROOT/var/lib/flocker
EOF2
  assert_equal "$(volume_uuid)" "$uuid"
  assert_equal "$(cat "$FS_ROOT/var/lib/flocker/current_configuration.json")" '{"version": 6, "deployment": "the spark dataset"}'
  assert_stderr_contains "holds the control service's state ($MOUNT/state): nothing to move"
}

@test "containers: a replaced node mounts the volume; no old state is looked for" {
  attach
  old_container_state
  run_script flocker-control-volume
  new_node
  run_script flocker-control-volume
  assert_success
  assert_mutations <<EOF2
systemctl daemon-reload
mount $FS_ROOT$MOUNT
EOF2
  assert_equal "$(cat "$FS_ROOT$MOUNT/state/current_configuration.json")" '{"version": 6, "deployment": "the spark dataset"}'
}

@test "a replaced volume (another UUID): its fstab line takes the old one's place" {
  attach
  printf '%s\n' "$ROOT_FSTAB" "UUID=0ld-0ld $MOUNT ext4 defaults,nofail 0 2" "/swapfile none swap sw 0 0" >"$FS_ROOT/etc/fstab"
  run_script flocker-control-volume
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB
UUID=$(volume_uuid) $MOUNT ext4 defaults,nofail 0 2
/swapfile none swap sw 0 0"
}

# ------------------------------------------------------------------------------------ refusals
@test "a volume holding another file system, or a partition table, is refused and left as it is" {
  attach
  stub_set blkid/xvdz $'UUID=9f9f\nTYPE=xfs'
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "/dev/xvdz holds xfs, not the ext4 file system of a control-state volume: it is left as it is; check that vol-0c0ffee0c0ffee000 is the control-state volume"
  assert_no_mutations
  stub_set blkid/xvdz 'PTTYPE=dos'
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "/dev/xvdz holds a partition table (dos), not the ext4 file system"
  assert_no_mutations
}

@test "the device never appears: a clear error at the bound, nothing changed" {
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the control-state volume to appear as /dev/xvdz /dev/sdz: the volume (vol-0c0ffee0c0ffee000) is attached as /dev/sdz by the Pulumi program; check it with 'aws ec2 describe-volumes --volume-ids vol-0c0ffee0c0ffee000'"
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 5
  assert_no_mutations
}

@test "a device the kernel names /dev/sdz is taken too" {
  mkdir -p "$FS_ROOT/dev"
  touch "$FS_ROOT/dev/sdz"
  run_script flocker-control-volume
  assert_success
  assert_called "mkfs.ext4 -q -F -L flocker-control $FS_ROOT/dev/sdz"
  assert_stderr_contains "the control-state volume is /dev/sdz"
}

@test "something else mounted at the mount point is refused" {
  attach
  mkdir -p "$FS_ROOT/proc/self" "$FS_ROOT$MOUNT"
  echo "300 25 202:1 / $FS_ROOT$MOUNT rw - ext4 $FS_ROOT/dev/xvdb rw" >"$FS_ROOT/proc/self/mountinfo"
  stub_set blkid/xvdz $'UUID=1234-abcd\nTYPE=ext4'
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "$MOUNT is already mounted from /dev/xvdb, not from the control-state volume (/dev/xvdz): unmount it"
  refute_called_matching '^(mkfs|mount)'
}

@test "a mount that fails names the fstab line" {
  attach
  stub_fail mount 1
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "could not mount $MOUNT"
  assert_stderr_contains "its line in /etc/fstab is: UUID=$(volume_uuid) $MOUNT ext4 defaults,nofail 0 2"
}

@test "a mount that returns without mounting (nofail, source missing) is not taken for a mounted volume" {
  attach
  stub_fail mount-nofail 1
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "mount $MOUNT returned, but $MOUNT is mounted from nothing, not from /dev/xvdz"
  # nothing was written to the root disk in its place
  [[ ! -e "$FS_ROOT$MOUNT/state" ]]
}

@test "parameters are checked before anything is touched" {
  attach
  FLOCKER_INSTALL=debs run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "FLOCKER_INSTALL must be containers or packages, not 'debs'"
  CONTROL_STATE_DEVICE=/dev/nvme1n1 run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "CONTROL_STATE_DEVICE must be an EBS device name /dev/sd[f-z], not '/dev/nvme1n1'"
  CONTROL_STATE_DIR=/var/lib/flocker run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "CONTROL_STATE_DIR ('/var/lib/flocker') must be a directory under CONTROL_STATE_MOUNT"
  unset CONTROL_STATE_VOLUME_ID
  run_script flocker-control-volume
  assert_failure 1
  assert_stderr_contains "environment variable CONTROL_STATE_VOLUME_ID is not set"
  assert_no_mutations
}
