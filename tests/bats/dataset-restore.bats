#!/usr/bin/env bats
# scripts/dataset-restore.sh: the node side of `npm run restore`, each action as the tool calls it
# (tools/day2/restore.ts): check, mount, stop-master (a manager), copy, start-master (a manager), unmount.
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

MP=/mnt/swarm-flocker-restore

setup() {
  common_setup
  ln -s "$STUB_DIR/mount" "$STUB_DIR/umount" "$BIN/"
  export DATASET=spark COPY_IMAGE=fsoppelsa/spark-master DEVICE=/dev/xvdy MOUNT_POINT=$MP VOLUME_ID=vol-0f1e2d3c4b5a69788
  export SERVICE_NAME=spark-master DEVICE_WAIT_TIMEOUT=4
  export COPY_DIR=.restore-snap-0a1b2c3d4e5f60718 ASIDE_DIR=.pre-restore-snap-0123456789abcdef0
  ASIDE=./$ASIDE_DIR DATA=$STUB_STATE/docker/volume-data/spark
  # how the copy container's script starts, as the mutation log shows it
  COPY_START="'set -u"
  # This node as the tool finds it: the dataset's flocker volume with the files written since the
  # snapshot, the master's image pulled, the swarm's manager view with the master at 2 replicas.
  stub_set docker/volumes/spark flocker
  mkdir -p "$STUB_STATE/docker/volume-data/spark/events"
  echo "written after the snapshot" >"$STUB_STATE/docker/volume-data/spark/events/late.log"
  echo "old state" >"$STUB_STATE/docker/volume-data/spark/state.json"
  stub_set docker/images/fsoppelsa_spark-master "sha256:5f0c6a1b2e3d"
  swarm_is active manager
  stub_set docker/services/spark-master.json '{"Name": "spark-master", "Mode": {"Replicated": {"Replicas": 2}}}'
  stub_set docker/services/spark-master.running 2
  stub_set docker/services/spark-master.pending 0
  stub_set docker/services/spark-master.shutdown 0
  # What the snapshot holds (the restore volume's filesystem).
  mkdir -p "$STUB_STATE/devices/xvdy/events" "$STUB_STATE/devices/xvdy/lost+found"
  echo "from the snapshot" >"$STUB_STATE/devices/xvdy/events/early.log"
  echo "snapshot state" >"$STUB_STATE/devices/xvdy/state.json"
}

attach_device() { mkdir -p "$FS_ROOT/dev" && touch "$FS_ROOT/dev/xvdy"; }
mounted() { grep -q " $FS_ROOT$MP " "$FS_ROOT/proc/self/mountinfo" 2>/dev/null; }
dataset_files() { (cd "$STUB_STATE/docker/volume-data/spark" && find . -mindepth 1 | sort && cat state.json); }
top_level() { (cd "$DATA" && find . -mindepth 1 -maxdepth 1 | sort); }
replicas() { jq -r '.Mode.Replicated.Replicas' "$STUB_STATE/docker/services/spark-master.json"; }

# ------------------------------------------------------------------------------------ check
@test "check: a flocker volume, the image on the node, the device free: ready, nothing changed" {
  run_script dataset-restore check
  assert_success
  assert_output ""
  assert_stderr_contains "ready: spark is a flocker volume, fsoppelsa/spark-master is here, /dev/xvdy is free"
  assert_no_mutations
}

@test "check: each missing prerequisite is refused with what to do, before anything changes" {
  rm "$STUB_STATE/docker/images/fsoppelsa_spark-master"
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "the image fsoppelsa/spark-master is not on this node, and a restore pulls nothing: pull it here ('docker pull fsoppelsa/spark-master')"

  stub_set docker/volumes/spark local
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "volume spark has the driver 'local', not flocker"

  rm "$STUB_STATE/docker/volumes/spark"
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "there is no volume spark on this node"

  stub_set docker/volumes/spark flocker
  stub_set docker/images/fsoppelsa_spark-master "sha256:5f0c6a1b2e3d"
  attach_device
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "a volume is already attached as /dev/xvdy (one a previous restore kept? Those are tagged swarm-flocker-restore)"
  assert_no_mutations
}

@test "check: Docker down is said as such, not as a missing volume" {
  stub_fail docker-daemon always
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "Docker does not answer here"
}

@test "usage: an unknown action exits 2; a missing setting is named" {
  run_script dataset-restore restore
  assert_failure 2
  assert_stderr_contains "unknown action 'restore': usage: dataset-restore.sh check|mount|stop-master|copy|start-master|unmount"
  DATASET="" run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "environment variable DATASET is not set"
  MOUNT_POINT=/ run_script dataset-restore mount
  assert_failure 1
  assert_stderr_contains "MOUNT_POINT='/' is not an absolute directory below the root"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ mount
@test "mount: the attached volume read-only at the mount point; a second run changes nothing" {
  attach_device
  run_script dataset-restore mount
  assert_success
  assert_mutations <<<"mount -o ro,nosuid,nodev,noexec $FS_ROOT/dev/xvdy $FS_ROOT$MP"
  mounted
  assert_equal "$(cat "$FS_ROOT$MP/events/early.log")" "from the snapshot"
  clear_logs
  run_script dataset-restore mount
  assert_success
  assert_stderr_contains "$MP is already mounted"
  assert_no_mutations
}

@test "mount: a device that never appears fails at the bound, saying where to look; nothing mounted" {
  run_script dataset-restore mount
  assert_failure 1
  assert_stderr_contains "timed out after 4s waiting for the restore volume to appear as /dev/xvdy: the volume vol-0f1e2d3c4b5a69788 was attached as /dev/sdy, which this Xen instance shows as /dev/xvdy; see its state with 'aws ec2 describe-volumes --volume-ids vol-0f1e2d3c4b5a69788'"
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 4
  assert_no_mutations
  run mounted
  assert_failure
}

@test "mount: a device without a filesystem fails clearly" {
  attach_device
  stub_fail mount 1
  run_script dataset-restore mount
  assert_failure 1
  assert_stderr_contains "could not mount /dev/xvdy at $MP (see 'dmesg | tail' here)"
}

# ------------------------------------------------------------------------------------ master
@test "stop-master: prints the replicas it had, scales to 0 and waits until no task runs; a second run changes nothing" {
  run_script dataset-restore stop-master
  assert_success
  assert_output 2
  assert_mutations <<<"docker service update --detach --replicas 0 spark-master"
  assert_equal "$(replicas)" 0
  assert_equal "$(cat "$STUB_STATE/docker/services/spark-master.running")" 0
  assert_stderr_contains "service spark-master has no task running"
  clear_logs
  run_script dataset-restore stop-master
  assert_success
  assert_output 0
  assert_no_mutations
}

@test "stop-master: a task that never stops fails at the bound" {
  stub_set docker/converge-polls 100
  run_script dataset-restore stop-master
  assert_failure 1
  assert_output 2
  assert_stderr_contains "timed out after 5s waiting for the tasks of service spark-master to stop: see 'docker service ps --no-trunc spark-master'"
}

@test "stop-master: not on a manager, or no such service: refused before anything changes" {
  swarm_is active worker
  run_script dataset-restore stop-master
  assert_failure 1
  assert_output ""
  assert_stderr_contains "this node is not an active swarm manager"
  swarm_is active manager
  SERVICE_NAME=spark-mastr run_script dataset-restore stop-master
  assert_failure 1
  assert_output ""
  assert_stderr_contains "no such service: spark-mastr"
  assert_no_mutations
}

@test "the master goes 2 -> 0 -> back to 2, its previous replicas; start-master waits for them and is idempotent" {
  run_script dataset-restore stop-master
  assert_success
  local previous=$output
  clear_logs
  REPLICAS=$previous run_script dataset-restore start-master
  assert_success
  assert_mutations <<<"docker service update --detach --replicas 2 spark-master"
  assert_equal "$(replicas)" 2
  assert_equal "$(cat "$STUB_STATE/docker/services/spark-master.running")" 2
  assert_stderr_contains "service spark-master runs 2 task(s)"
  clear_logs
  REPLICAS=2 run_script dataset-restore start-master
  assert_success
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ copy
@test "copy: the snapshot's files are copied beside the dataset's, checked, then switched in; the previous files are kept aside" {
  attach_device
  run_script dataset-restore mount
  clear_logs
  run_script dataset-restore copy
  assert_success
  assert_output ""
  assert_stderr_contains "dataset spark holds the snapshot's files; its previous files are in $ASIDE_DIR until you remove them"
  assert_equal "$(head -n 1 "$STUB_STATE/mutations.log")" \
    "docker run --rm --name swarm-flocker-restore -e COPY_DIR -e ASIDE_DIR --volume-driver flocker -v spark:/to -v $FS_ROOT$MP:/from:ro fsoppelsa/spark-master sh -c ${COPY_START}"
  assert_equal "$(top_level)" "$(printf '%s\n' "$ASIDE" ./events ./lost+found ./state.json)"
  assert_equal "$(cat "$DATA/state.json" "$DATA/events/early.log")" "$(printf 'snapshot state\nfrom the snapshot')"
  # the previous files, whole, beside them
  assert_equal "$(cd "$DATA/$ASIDE" && find . -mindepth 1 | sort)" "$(printf '%s\n' ./events ./events/late.log ./state.json)"
  assert_equal "$(cat "$DATA/$ASIDE/state.json")" "old state"
}

@test "copy: a copy that fails leaves the live files untouched and removes the partial copy (exit 3); unmount and start-master then leave the master running" {
  attach_device
  run_script dataset-restore mount
  run_script dataset-restore stop-master
  local before
  before=$(dataset_files)
  # cp dies after its first file, as on a full disk or a lost volume
  printf '%s\n' '#!/usr/bin/env bash' '/bin/cp -a "${2%/.}/events" "$3" && echo "cp: No space left on device" >&2' 'exit 1' >"$BIN/cp"
  chmod +x "$BIN/cp"
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "the copy into $COPY_DIR did not complete (exit 11, see above), so nothing was switched; the dataset spark is unchanged"
  assert_equal "$(dataset_files)" "$before"
  rm "$BIN/cp"
  # what the tool runs after any failure
  run_script dataset-restore unmount
  assert_success
  REPLICAS=2 run_script dataset-restore start-master
  assert_success
  assert_equal "$(replicas)" 2
  run mounted
  assert_failure
}

@test "copy: a copy that differs from the snapshot is not switched in (exit 3), the live files untouched" {
  attach_device
  run_script dataset-restore mount
  local before
  before=$(dataset_files)
  # a cp that says it succeeded but changed a file on the way
  printf '%s\n' '#!/usr/bin/env bash' '/bin/cp "$@" && echo corrupted >"$3/state.json"' >"$BIN/cp"
  chmod +x "$BIN/cp"
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "the copy in $COPY_DIR does not match the snapshot (paths or checksums differ)"
  assert_stderr_contains "did not complete (exit 12, see above), so nothing was switched"
  assert_equal "$(dataset_files)" "$before"
}

@test "copy: no room on the dataset for the copy beside its files: refused (exit 3), the live files untouched" {
  attach_device
  run_script dataset-restore mount
  local before
  before=$(dataset_files)
  printf '%s\n' '#!/bin/sh' 'echo "Filesystem 1024-blocks Used Available Capacity Mounted on"' 'echo "/dev/xvdf 100 99 1 99% /to"' >"$BIN/df"
  chmod +x "$BIN/df"
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "KiB and the dataset has 1 KiB free: no room to copy it beside the present files"
  assert_equal "$(dataset_files)" "$before"
}

@test "copy: a partial copy left by an interrupted restore is replaced, not switched in as it is" {
  attach_device
  run_script dataset-restore mount
  mkdir -p "$DATA/$COPY_DIR/half"
  echo "left over" >"$DATA/$COPY_DIR/half/written.tmp"
  run_script dataset-restore copy
  assert_success
  assert_equal "$(top_level)" "$(printf '%s\n' "$ASIDE" ./events ./lost+found ./state.json)"
  [[ ! -e "$DATA/half" ]]
}

@test "copy: directory names other than the restore's own are refused before Docker runs" {
  attach_device
  run_script dataset-restore mount
  clear_logs
  COPY_DIR=../etc run_script dataset-restore copy
  assert_failure 1
  assert_stderr_contains "COPY_DIR='../etc' is not a .restore-snap-… directory name"
  ASIDE_DIR=. run_script dataset-restore copy
  assert_failure 1
  assert_stderr_contains "ASIDE_DIR='.' is not a .pre-restore-snap-… directory name"
  assert_no_mutations
}

@test "copy: a bounded copy that runs past COPY_TIMEOUT is stopped and said to be partial" {
  attach_device
  run_script dataset-restore mount
  printf '#!/bin/sh\nexec /bin/sleep 3\n' >"$BIN/cp"
  chmod +x "$BIN/cp"
  COPY_TIMEOUT=1 run_script dataset-restore copy
  assert_failure 1
  assert_stderr_contains "'docker run' did not return within 1s: the copy ran past COPY_TIMEOUT"
  assert_stderr_contains "the copy was stopped (exit 124) before it ended"
}

@test "copy: refusals before the dataset is touched exit 3 and leave its files as they were" {
  local before
  before=$(dataset_files)
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "nothing is mounted at $MP (the mount action runs first); the dataset spark is unchanged"

  attach_device
  run_script dataset-restore mount
  stub_set docker/containers/spark-master.1.x7k2.json '{"Name": "/spark-master.1.x7k2", "State": {"Running": true}, "HostConfig": {"Binds": ["spark:/data"]}}'
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "the dataset is in use here by spark-master.1.x7k2 (stop them first); the dataset spark is unchanged"

  stub_set docker/containers/spark-master.1.x7k2.json '{"Name": "/spark-master.1.x7k2", "State": {"Running": false}, "HostConfig": {"Binds": ["spark:/data"]}}'
  stub_fail volume-mount 1
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "the copy container did not start (docker run exit 125); the dataset spark is unchanged"
  assert_equal "$(dataset_files)" "$before"
}

# ------------------------------------------------------------------------------------ unmount
@test "unmount: unmounts and removes the mount point; a second run changes nothing" {
  attach_device
  run_script dataset-restore mount
  clear_logs
  run_script dataset-restore unmount
  assert_success
  assert_mutations <<<"umount $FS_ROOT$MP"
  run mounted
  assert_failure
  assert [ ! -e "$FS_ROOT$MP" ]
  clear_logs
  run_script dataset-restore unmount
  assert_success
  assert_stderr_contains "nothing is mounted at $MP"
  assert_no_mutations
}

@test "unmount: a copy container still running is removed first, so it cannot write once the master runs" {
  attach_device
  run_script dataset-restore mount
  stub_set docker/containers/swarm-flocker-restore.json '{"Name": "/swarm-flocker-restore", "State": {"Running": true}, "HostConfig": {"Binds": ["spark:/to"]}}'
  clear_logs
  run_script dataset-restore unmount
  assert_success
  assert_mutations <<EOF
docker rm --force swarm-flocker-restore
umount $FS_ROOT$MP
EOF
}

@test "unmount: a busy mount is retried, then refused so that the volume is not detached while mounted" {
  attach_device
  run_script dataset-restore mount
  stub_fail umount-busy always
  clear_logs
  run_script dataset-restore unmount
  assert_failure 1
  assert_stderr_contains "$MP is still mounted (in use: see 'fuser -vm $MP'): unmount it before the restore volume is detached"
  assert_equal "$(grep -c '^umount' "$STUB_STATE/mutations.log")" 3
  mounted
}

# ------------------------------------------------------------------------------------ current platform
# The Spark data of the current platform: the `spark` volume of the local driver bound to the data
# directory of the stack's EBS volume; the restore volume found by its NVMe serial on a Nitro node,
# the dataset's files in its data/ directory.
NITRO_DEVICE=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0f1e2d3c4b5a69788

current_node() {
  export DATASET_DRIVER=local COPY_IMAGE=apache/spark:3.5.6 SOURCE_SUBDIR=data
  unset DEVICE
  stub_set docker/volumes/spark "local
type=none
o=bind
device=/srv/spark-data/data"
  stub_set docker/images/apache_spark_3.5.6 "sha256:0a1b2c3d4e5f"
  local snapshot="$STUB_STATE/devices/${NITRO_DEVICE##*/}"
  mkdir -p "$snapshot/data/events" "$snapshot/lost+found"
  echo "from the snapshot" >"$snapshot/data/events/early.log"
  echo "snapshot state" >"$snapshot/data/state.json"
}
attach_nitro() {
  mkdir -p "$FS_ROOT/dev/disk/by-id"
  touch "$FS_ROOT/dev/nvme2n1"
  ln -sfn ../../nvme2n1 "$FS_ROOT$NITRO_DEVICE"
}

@test "current: check wants the spark volume bound by the local driver, and no device before the volume exists" {
  current_node
  run_script dataset-restore check
  assert_success
  assert_stderr_contains "ready: spark is a local volume, apache/spark:3.5.6 is here"
  assert_no_mutations
  # a plain local volume (what Docker makes by itself) is not the dataset
  stub_set docker/volumes/spark local
  run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "volume spark is not a local volume bound to the Spark data directory (driver 'local'): re-run pulumi up, whose spark-data step binds it, then retry"
  stub_set docker/volumes/spark flocker
  run_script dataset-restore check
  assert_failure 1
  DATASET_DRIVER=lvm run_script dataset-restore check
  assert_failure 1
  assert_stderr_contains "DATASET_DRIVER must be flocker or local, not 'lvm'"
}

@test "current: mount finds the restore volume by its NVMe serial; one that never appears says where to look" {
  current_node
  DEVICE=$NITRO_DEVICE run_script dataset-restore mount
  assert_failure 1
  assert_stderr_contains "the volume vol-0f1e2d3c4b5a69788 was attached, which this Nitro instance shows as an NVMe device that udev links as $NITRO_DEVICE; see its state with 'aws ec2 describe-volumes --volume-ids vol-0f1e2d3c4b5a69788' and the kernel's view with 'dmesg | tail' and 'ls -l /dev/disk/by-id' here"
  run mounted
  assert_failure
  attach_nitro
  DEVICE=$NITRO_DEVICE run_script dataset-restore mount
  assert_success
  mounted
  # nothing else under /dev/disk is accepted
  DEVICE=/dev/disk/by-id/../../sda run_script dataset-restore mount
  assert_failure 1
  assert_stderr_contains "is not a device under /dev, or an EBS volume's by-id link"
}

@test "current: copy takes the snapshot's data/ directory into the bound volume, without the flocker driver, then switches" {
  current_node
  attach_nitro
  DEVICE=$NITRO_DEVICE run_script dataset-restore mount
  clear_logs
  run_script dataset-restore copy
  assert_success
  assert_equal "$(head -n 1 "$STUB_STATE/mutations.log")" \
    "docker run --rm --name swarm-flocker-restore -e COPY_DIR -e ASIDE_DIR -v spark:/to -v $FS_ROOT$MP/data:/from:ro apache/spark:3.5.6 sh -c ${COPY_START}"
  # the data directory's files, not the file system's root (no lost+found, no data/ level)
  assert_equal "$(top_level)" "$(printf '%s\n' "$ASIDE" ./events ./state.json)"
  assert_equal "$(cat "$DATA/state.json" "$DATA/events/early.log")" "$(printf 'snapshot state\nfrom the snapshot')"
  assert_equal "$(cat "$DATA/$ASIDE/state.json")" "old state"
}

@test "current: a snapshot without the data directory is refused before the dataset is touched (exit 3)" {
  current_node
  rm -rf "$STUB_STATE/devices/${NITRO_DEVICE##*/}/data"
  attach_nitro
  DEVICE=$NITRO_DEVICE run_script dataset-restore mount
  local before
  before=$(dataset_files)
  clear_logs
  run_script dataset-restore copy
  assert_failure 3
  assert_stderr_contains "the snapshot's file system has no data directory, where the dataset's files are: is it a snapshot of this dataset's volume?; the dataset spark is unchanged"
  assert_no_mutations
  assert_equal "$(dataset_files)" "$before"
}
