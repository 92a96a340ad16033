#!/usr/bin/env bats
# scripts/cluster-status.sh: one screen of the cluster's health, exit 1 when unhealthy.
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

DS=5e4a1c3b-7d2f-4c1e-9a0b-2f6d8e9c1a22

setup() {
  common_setup
  swarm_is active manager
  add_node n101 aws-101 Ready manager
  stub_set docker/nodes/n101/manager-status Leader
  add_node n102 aws-102 Ready manager
  add_node n105 aws-105 Ready worker
  add_node n106 aws-106 Ready worker
  service spark-master 1 1
  service spark-worker 3 3
  stub_set spark/master.json '{"url": "spark://10.0.0.3:7077", "workers": [{"state": "ALIVE"}, {"state": "ALIVE"}, {"state": "ALIVE"}, {"state": "DEAD"}]}'
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in cluster.crt plugin.crt plugin.key; do echo "pem of $f" >"$FS_ROOT/etc/flocker/$f"; done
  stub_set flocker/nodes.json '[{"uuid": "u105", "host": "172.31.0.14"}, {"uuid": "u101", "host": "172.31.0.10"}]'
  stub_set flocker/config.json "[{\"dataset_id\": \"$DS\", \"primary\": \"u105\", \"maximum_size\": 80530636800, \"metadata\": {\"name\": \"spark\", \"clusterhq:flocker:profile\": \"bronze\"}}]"
  stub_set flocker/state.json "[{\"dataset_id\": \"$DS\", \"primary\": \"u105\", \"path\": \"/flocker/$DS\"}]"
  export FLOCKER_CONTROL_HOST=172.31.0.13 SPARK_UI_URL=http://127.0.0.1:8080 EXPECTED_FLOCKER_NODES=2
}

service() { # service NAME RUNNING DESIRED
  stub_set "docker/services/$1.json" "{\"Name\": \"$1\", \"Mode\": {\"Replicated\": {\"Replicas\": $3}}}"
  stub_set "docker/services/$1.running" "$2"
}

@test "a healthy cluster: nodes, services, Spark workers, Flocker nodes and datasets on one screen; exit 0" {
  run_script cluster-status
  assert_success
  assert_output - <<'EOF'
nodes:
  aws-101      manager (Leader)     Ready    Active
  aws-102      manager (Reachable)  Ready    Active
  aws-105      worker               Ready    Active
  aws-106      worker               Ready    Active
services:
  spark-master         1/1
  spark-worker         3/3
spark: 3 worker(s) registered and alive at the master (3 desired)
flocker: 2 node(s) known to the control service
  dataset spark          75GiB    bronze  attached on 172.31.0.14
health: ok
EOF
  assert_no_mutations
}

@test "every kind of problem is listed; exit 1" {
  stub_set docker/nodes/n106/status Down
  stub_set docker/nodes/n105/availability drain
  stub_set docker/nodes/n102/manager-status Unreachable
  add_node old106 aws-106 Down worker
  service spark-worker 2 3
  stub_set spark/master.json '{"workers": [{"state": "ALIVE"}, {"state": "ALIVE"}]}'
  stub_set flocker/state.json "[{\"dataset_id\": \"$DS\"}]"
  EXPECTED_FLOCKER_NODES=3 run_script cluster-status
  assert_failure 1
  assert_output --partial - <<'EOF'
health: UNHEALTHY
  - manager aws-102 is unreachable
  - node aws-105 is Drain (takes no tasks)
  - node aws-106 is Down
  - node aws-106 is Down
  - hostname aws-106 is listed more than once (the old entry of a replaced node)
  - service spark-worker runs 2 of 3 tasks
  - only 2 of 3 Spark workers are registered at the master
  - the Flocker control service knows 2 node(s), not 3: a dataset agent is down or cannot reach it
  - Flocker dataset spark is detached, not attached to a node
EOF
}

@test "a swarm that lost quorum says so; exit 1" {
  stub_set docker/no-leader yes
  run_script cluster-status
  assert_failure 1
  assert_output --partial "nodes: the swarm has lost quorum: fewer than half of its managers are reachable"
  assert_output --partial "the swarm has lost quorum (no leader): see docs/operations.md"
}

@test "a control service or Spark master that does not answer is a problem, not a crash" {
  stub_fail curl always
  stub_fail spark-ui always
  run_script cluster-status
  assert_failure 1
  assert_output --partial "flocker: the control service does not answer"
  assert_output --partial "  - the Flocker control service at 172.31.0.13 does not answer"
  assert_output --partial "  - the Spark master's UI at http://127.0.0.1:8080 does not answer"
}

@test "not on a manager, or Docker down: cannot tell, exit 2" {
  swarm_is active worker
  run_script cluster-status
  assert_failure 2
  assert_output "health: UNKNOWN: this node is not an active swarm manager (swarm state: active): run the status on a manager"
  stub_fail docker-daemon always
  run_script cluster-status
  assert_failure 2
  assert_output "health: UNKNOWN: the Docker daemon does not answer 'docker info' on this node"
}

@test "without the Spark and Flocker addresses only the swarm is checked" {
  unset FLOCKER_CONTROL_HOST SPARK_UI_URL
  run_script cluster-status
  assert_success
  refute_output --partial "spark:"
  refute_output --partial "flocker:"
  refute_called_matching '^curl'
}

# ------------------------------------------------------------------------------------ spark-data
# The current platform's Spark dataset, on the Spark master's node (not a manager: no swarm here).
SD_VOL=vol-0123456789abcdef0
SD_MOUNT=/srv/spark-data

spark_data_node() {
  swarm_is inactive
  ln -sf "$STUB_DIR/findmnt" "$BIN/"
  mkdir -p "$FS_ROOT/dev/disk/by-id" "$FS_ROOT/proc/self"
  touch "$FS_ROOT/dev/nvme1n1"
  ln -sfn ../../nvme1n1 "$FS_ROOT/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${SD_VOL/-/}"
  : >"$FS_ROOT/proc/self/mountinfo"
}
sd_mounted() { echo "300 25 259:1 / $FS_ROOT$SD_MOUNT rw shared:90 - ext4 $FS_ROOT/dev/${1:-nvme1n1} rw" >"$FS_ROOT/proc/self/mountinfo"; }
sd_bound() {
  stub_set docker/volumes/spark "local
type=none
o=bind
device=${1:-$SD_MOUNT/data}"
}

@test "spark-data: the volume by its id and device, mounted, the spark volume bound to it; exit 0, nothing changed" {
  spark_data_node
  sd_mounted
  sd_bound
  SPARK_DATA_VOLUME_ID=$SD_VOL run_script cluster-status spark-data
  assert_success
  assert_output - <<OUT
spark data: $SD_VOL (/dev/nvme1n1) mounted at $SD_MOUNT
docker volume spark: bound to $SD_MOUNT/data
health: ok
OUT
  assert_no_mutations
}

@test "spark-data: attached but not mounted, and no spark volume: both said, with what to do; exit 1" {
  spark_data_node
  SPARK_DATA_VOLUME_ID=$SD_VOL run_script cluster-status spark-data
  assert_failure 1
  assert_output - <<OUT
spark data: nothing is mounted at $SD_MOUNT
docker volume spark: absent
health: UNHEALTHY
  - the Spark dataset's volume $SD_VOL is attached to this node but not mounted at $SD_MOUNT: re-run pulumi up (its spark-data step mounts it), or see 'journalctl -b | grep -i $SD_MOUNT' here
  - there is no Docker volume spark on this node: the master's task would get an empty local one; re-run pulumi up (its spark-data step binds it)
OUT
}

@test "spark-data: not attached at all; another device mounted there; a plain spark volume: each a problem" {
  spark_data_node
  rm "$FS_ROOT/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${SD_VOL/-/}"
  SPARK_DATA_VOLUME_ID=$SD_VOL run_script cluster-status spark-data
  assert_failure 1
  assert_output --partial "  - the Spark dataset's volume $SD_VOL is not mounted at $SD_MOUNT on this node, nor attached to it: see 'aws ec2 describe-volumes --volume-ids $SD_VOL' and 'lsblk' here, then re-run pulumi up"

  touch "$FS_ROOT/dev/xvda1"
  sd_mounted xvda1
  stub_set docker/volumes/spark local
  run_script cluster-status spark-data
  assert_failure 1
  assert_output - <<OUT
spark data: /dev/xvda1 mounted at $SD_MOUNT, not an EBS volume
docker volume spark: local {}
health: UNHEALTHY
  - $SD_MOUNT is mounted from /dev/xvda1, which is not an EBS volume (no nvme-Amazon_Elastic_Block_Store link in /dev/disk/by-id points to it)
  - Docker volume spark is not bound to $SD_MOUNT/data (driver and options: local {}): the master's /data is not the dataset's volume
OUT
}

@test "spark-data: another EBS volume than the stack's is named; a binding elsewhere is a problem" {
  spark_data_node
  sd_mounted
  sd_bound /var/tmp/data
  SPARK_DATA_VOLUME_ID=vol-0fffffffffffffff0 run_script cluster-status spark-data
  assert_failure 1
  assert_output --partial "  - $SD_MOUNT is mounted from $SD_VOL, not from the stack's Spark dataset volume vol-0fffffffffffffff0"
  assert_output --partial '  - Docker volume spark is not bound to /srv/spark-data/data (driver and options: local {"type":"none","o":"bind","device":"/var/tmp/data"})'
}

@test "spark-data: Docker not answering is 'cannot tell' (exit 2); an unknown action is a usage error" {
  spark_data_node
  sd_mounted
  stub_fail docker-daemon always
  run_script cluster-status spark-data
  assert_failure 2
  assert_output --partial "health: UNKNOWN: the Docker daemon does not answer 'docker volume inspect' on this node"
  run_script cluster-status spark
  assert_failure 2
  assert_stderr_contains "usage: cluster-status.sh spark-data"
}
