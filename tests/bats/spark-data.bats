#!/usr/bin/env bats
# scripts/spark-data.sh: the current platform's Spark dataset, an EBS volume found by its NVMe
# serial and bound as the `spark` Docker volume. The volume is a simulated block device (stubs
# blkid, mkfs.ext4, mount, umount, findmnt): attached when $FS_ROOT/dev/nvme1n1 exists with udev's
# by-id link to it, its file system in $STUB_STATE/devices/nvme1n1/, mounts in
# $FS_ROOT/proc/self/mountinfo.
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

VOL=vol-0123456789abcdef0
BY_ID=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0
MOUNT=/srv/spark-data
ROOT_FSTAB="LABEL=cloudimg-rootfs / ext4 discard,commit=30,errors=remount-ro 0 1"
CREATE_VOLUME="docker volume create --driver local --opt type=none --opt o=bind --opt device=$MOUNT/data --name spark"

setup() {
  common_setup
  ln -s "$STUB_DIR/blkid" "$STUB_DIR/mkfs.ext4" "$STUB_DIR/mount" "$STUB_DIR/umount" "$STUB_DIR/findmnt" "$BIN/"
  export VOLUME_ID=$VOL MOUNT_POINT=$MOUNT VOLUME_NAME=spark DATA_UID=185
  echo "$ROOT_FSTAB" >"$FS_ROOT/etc/fstab"
}

# attach: the volume shows up as udev shows an EBS volume on Nitro, a by-id link to the nvme name
attach() {
  mkdir -p "$FS_ROOT/dev/disk/by-id"
  touch "$FS_ROOT/dev/nvme1n1"
  ln -sfn ../../nvme1n1 "$FS_ROOT$BY_ID"
}
volume_uuid() { sed -n 's/^UUID=//p' "$STUB_STATE/blkid/nvme1n1"; }
on_volume() { printf '%s/devices/nvme1n1/%s\n' "$STUB_STATE" "$1"; }
mounted_at() { awk -v d="$FS_ROOT$1" '$5 == d { f = 1 } END { exit !f }' "$FS_ROOT/proc/self/mountinfo"; }
# A replaced node: a new root disk (no fstab line, no mount, no Docker volume), the same volume.
new_node() {
  rm -rf "$FS_ROOT" "$STUB_STATE/mount-shadow" "$STUB_STATE/docker/volumes"
  mkdir -p "$FS_ROOT/etc" "$STUB_STATE/docker/volumes"
  echo "$ROOT_FSTAB" >"$FS_ROOT/etc/fstab"
  attach
  clear_logs
}

# ------------------------------------------------------------------------------------ create
@test "a blank volume: found by its serial, formatted once, mounted by UUID with nofail, data owned by the Spark user, the spark volume bound to it" {
  attach
  run_script spark-data create
  assert_success
  assert_mutations <<EOF2
mkfs.ext4 -q -F -L spark-data $FS_ROOT/dev/nvme1n1
systemctl daemon-reload
mount $FS_ROOT$MOUNT
chown 185:185 $FS_ROOT$MOUNT/data
$CREATE_VOLUME
EOF2
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB
UUID=$(volume_uuid) $MOUNT ext4 defaults,nofail 0 2"
  mounted_at "$MOUNT"
  # the data directory is on the volume, not on the root disk
  [[ -d "$(on_volume data)" ]]
  assert_equal "$(stat -c %a "$(on_volume data)")" 755
  assert_equal "$(head -n 1 "$STUB_STATE/docker/volumes/spark")" local
  assert_output "spark-data: $VOL /dev/nvme1n1 UUID=$(volume_uuid) at $MOUNT"
}

@test "a second run changes nothing" {
  attach
  export DATA_UID
  DATA_UID=$(id -u) # the stub's chown records and does not apply: the owner must already match
  run_script spark-data create
  assert_success
  refute_called_matching '^chown '
  first=$output
  clear_logs
  run_script spark-data create
  assert_success
  assert_no_mutations
  assert_output "$first"
  assert_stderr_contains "$MOUNT is mounted from /dev/nvme1n1"
  assert_stderr_contains "Docker volume spark is bound to $MOUNT/data"
}

@test "the attachment shows up late: waited for (bounded polls), then used" {
  attach_after_polls 3
  run_script spark-data create
  assert_success
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 3
  assert_output --partial "spark-data: $VOL /dev/nvme1n1 UUID="
}

# attach_after_polls N: the device appears at the Nth sleep between polls
attach_after_polls() {
  rm -f "$BIN/sleep"
  cat >"$BIN/sleep" <<EOS
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$STUB_STATE/sleep.log"
if [[ \$(wc -l <"$STUB_STATE/sleep.log") -ge $1 ]]; then
  mkdir -p "$FS_ROOT/dev/disk/by-id" && touch "$FS_ROOT/dev/nvme1n1" && ln -sfn ../../nvme1n1 "$FS_ROOT$BY_ID"
fi
EOS
  chmod +x "$BIN/sleep"
}

@test "the volume never appears: a clear error at the bound naming the volume id, nothing changed" {
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "timed out after 5s waiting for EBS volume $VOL to appear as $BY_ID: the Pulumi program attaches $VOL to this instance before this step: check the attachment with 'aws ec2 describe-volumes --volume-ids $VOL'"
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB"
}

@test "a device with another file system is refused, never formatted or mounted" {
  attach
  stub_set blkid/nvme1n1 "UUID=9d1c2e3f-xfs
TYPE=xfs"
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "/dev/nvme1n1 ($VOL) holds a file system of type xfs, not ext4: it is left as it is and never formatted"
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB"
}

@test "a device with a partition table is refused, never formatted" {
  attach
  stub_set blkid/nvme1n1 "PTUUID=5a0c1d2e
PTTYPE=gpt"
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "/dev/nvme1n1 ($VOL) holds a partition table (gpt), not ext4"
}

@test "an existing plain spark volume is refused before the device is touched" {
  attach
  stub_set docker/volumes/spark local
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "a Docker volume named spark exists already and is a plain local volume (its files are under /var/lib/docker/volumes/spark), not bound to $MOUNT/data: it is left as it is"
  [[ ! -e "$STUB_STATE/blkid/nvme1n1" ]]
}

@test "a spark volume bound elsewhere, or of another driver, is refused" {
  attach
  stub_set docker/volumes/spark "local
type=none
o=bind
device=/mnt/elsewhere"
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "is a local volume bound to /mnt/elsewhere"
  stub_set docker/volumes/spark flocker
  run_script spark-data create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "a Docker volume named spark exists already and is a volume of the flocker driver"
}

@test "something else mounted at the mount point is refused, not mounted over" {
  attach
  mkdir -p "$FS_ROOT/proc/self"
  echo "300 25 202:6144 / $FS_ROOT$MOUNT rw shared:90 - ext4 $FS_ROOT/dev/nvme9n1 rw" >"$FS_ROOT/proc/self/mountinfo"
  run_script spark-data create
  assert_failure 1
  assert_stderr_contains "$MOUNT is already mounted from /dev/nvme9n1, not from $VOL (/dev/nvme1n1)"
  refute_called_matching '^mount '
  refute_called_matching '^docker volume create'
}

@test "bad parameters are refused, naming the variable and the value" {
  VOLUME_ID=vol-12 run_script spark-data create
  assert_failure 1
  assert_stderr_contains "VOLUME_ID must be an EBS volume id (vol- and 8 or 17 hex digits), not 'vol-12'"
  MOUNT_POINT="/srv/spark data" run_script spark-data create
  assert_failure 1
  assert_stderr_contains "MOUNT_POINT must be an absolute path"
  DATA_UID=spark run_script spark-data create
  assert_failure 1
  assert_stderr_contains "DATA_UID must be a numeric user id, not 'spark'"
  run_script spark-data format
  assert_failure 2
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ release
@test "release: the binding, the mount and the fstab line go; the files stay on the volume; a second release changes nothing" {
  attach
  run_script spark-data create
  assert_success
  echo "pi digits" >"$(on_volume data/result.txt)"
  clear_logs
  run_script spark-data release
  assert_success
  assert_mutations <<EOF2
docker volume rm spark
umount $FS_ROOT$MOUNT
systemctl daemon-reload
EOF2
  assert_equal "$(cat "$FS_ROOT/etc/fstab")" "$ROOT_FSTAB"
  run mounted_at "$MOUNT"
  assert_failure
  assert_equal "$(cat "$(on_volume data/result.txt)")" "pi digits"
  [[ -s "$STUB_STATE/blkid/nvme1n1" ]]
  refute_called_matching '^mkfs'
  clear_logs
  run_script spark-data release
  assert_success
  assert_no_mutations
}

@test "re-attach after a node replacement: released on the old node, created on the new one: no format, the data is there" {
  attach
  run_script spark-data create
  assert_success
  uuid=$(volume_uuid)
  echo "pi digits" >"$(on_volume data/result.txt)"
  run_script spark-data release
  assert_success
  new_node
  run_script spark-data create
  assert_success
  refute_called_matching '^mkfs'
  assert_output "spark-data: $VOL /dev/nvme1n1 UUID=$uuid at $MOUNT"
  assert_equal "$(cat "$FS_ROOT$MOUNT/data/result.txt")" "pi digits"
  assert_called "$CREATE_VOLUME"
}

@test "release on a node where nothing is left (no volume, no mount, no line, no device) succeeds" {
  run_script spark-data release
  assert_success
  assert_no_mutations
  uninstall docker
  run_script spark-data release
  assert_success
  assert_stderr_contains "docker is not installed: no Docker volume to remove"
}

@test "release: a container still using the volume fails the release, which unmounts nothing" {
  attach
  run_script spark-data create
  assert_success
  clear_logs
  stub_fail volume-rm 1
  run_script spark-data release
  assert_failure 1
  assert_stderr_contains "could not remove Docker volume spark: Error response from daemon: remove spark: volume is in use"
  refute_called_matching '^umount'
  mounted_at "$MOUNT"
}

@test "release leaves a spark volume that is not its binding alone" {
  stub_set docker/volumes/spark local
  run_script spark-data release
  assert_success
  assert_no_mutations
  assert_stderr_contains "Docker volume spark is a plain local volume (its files are under /var/lib/docker/volumes/spark), not this step's binding: left as it is"
}
