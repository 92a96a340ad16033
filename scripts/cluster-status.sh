#!/usr/bin/env bash
# cluster-status.sh: one screen of the cluster's health, run on a swarm manager (the operator's
# status command calls it over SSH; it changes nothing):
#   nodes      every swarm node: role (and Leader/Reachable/Unreachable), state, availability
#   services   every service: running / desired tasks
#   spark      the workers registered (ALIVE) at the Spark master, against spark-worker's replicas
#   flocker    the nodes the control service knows, and every dataset: size, profile, where
#   health     "ok", or one line per problem
# Problems: a node not Ready or not Active, an Unreachable manager, a hostname listed twice (the
# old entry of a replaced node), fewer tasks running than desired, fewer Spark workers alive than
# spark-worker's replicas, a Flocker dataset not attached anywhere, fewer Flocker nodes than
# expected, the swarm without quorum, a control service or Spark master that does not answer.
#
# Exit status: 0 healthy, 1 unhealthy (each problem printed), 2 cannot tell (not run on an active
# manager, Docker down).
#
# cluster-status.sh spark-data: the current platform's Spark dataset, run on the Spark master's
# node (docs/storage.md; it changes nothing):
#   spark data   the EBS volume mounted at SPARK_DATA_MOUNT, by its id (the NVMe serial udev links
#                as /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol…) and its device, and the
#                Docker volume SPARK_DATA_VOLUME_NAME bound to SPARK_DATA_MOUNT/data
#   health       "ok", or one line per problem: nothing mounted there (the volume attached or not),
#                a mount that is not an EBS volume or not the stack's (SPARK_DATA_VOLUME_ID, when
#                given), the Docker volume missing or not that binding
# Environment: SPARK_DATA_MOUNT (/srv/spark-data), SPARK_DATA_VOLUME_NAME (spark),
# SPARK_DATA_VOLUME_ID (optional).
#
# Environment (all optional): FLOCKER_CONTROL_HOST (the control node's address: without it the
# Flocker part is skipped), SPARK_UI_URL (the master's web UI as reachable from this manager, e.g.
# the Spark UI on this manager through the routing mesh: without it the Spark part is skipped),
# SPARK_WORKER_SERVICE (spark-worker), EXPECTED_FLOCKER_NODES (a count), FLOCKER_ETC.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

(($# == 0)) || expect_action "spark-data" "$@"
SPARK_WORKER_SERVICE=${SPARK_WORKER_SERVICE:-spark-worker}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
cannot_tell() {
  printf 'health: UNKNOWN: %s\n' "$*"
  exit 2
}
report_health() {
  if ((${#PROBLEMS[@]} == 0)); then
    printf 'health: ok\n'
    exit 0
  fi
  printf 'health: UNHEALTHY\n'
  printf '  - %s\n' "${PROBLEMS[@]}"
  exit 1
}

# ebs_volume_of DEVICE: the EBS volume id whose by-id link resolves to DEVICE; fails when none does.
ebs_volume_of() {
  local want link
  want=$(readlink -f -- "$(path "$1")") || return 1
  for link in "$(path /dev/disk/by-id)"/nvme-Amazon_Elastic_Block_Store_vol*; do
    [[ -L "$link" && "$(readlink -f -- "$link")" == "$want" ]] || continue
    printf 'vol-%s\n' "${link##*_Store_vol}"
    return 0
  done
  return 1
}

spark_data_status() {
  local mount=${SPARK_DATA_MOUNT:-/srv/spark-data} name=${SPARK_DATA_VOLUME_NAME:-spark} expected=${SPARK_DATA_VOLUME_ID:-}
  local source volume binding options
  require_cmd findmnt "it is part of every Ubuntu image (util-linux)"
  docker_installed || cannot_tell "docker is not installed on this node"
  if source=$(findmnt -rn -o SOURCE --mountpoint "$(path "$mount")" </dev/null); then
    source=${source#"$FS_ROOT"}
    if volume=$(ebs_volume_of "$source"); then
      printf 'spark data: %s (%s) mounted at %s\n' "$volume" "$source" "$mount"
      [[ -z "$expected" || "$volume" == "$expected" ]] ||
        problem "$mount is mounted from $volume, not from the stack's Spark dataset volume $expected"
    else
      printf 'spark data: %s mounted at %s, not an EBS volume\n' "$source" "$mount"
      problem "$mount is mounted from $source, which is not an EBS volume (no nvme-Amazon_Elastic_Block_Store link in /dev/disk/by-id points to it)"
    fi
  else
    printf 'spark data: nothing is mounted at %s\n' "$mount"
    if [[ -n "$expected" && -e "$(path "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${expected/-/}")" ]]; then
      problem "the Spark dataset's volume $expected is attached to this node but not mounted at $mount: re-run pulumi up (its spark-data step mounts it), or see 'journalctl -b | grep -i $mount' here"
    else
      problem "the Spark dataset's volume${expected:+ $expected} is not mounted at $mount on this node${expected:+, nor attached to it}: see 'aws ec2 describe-volumes${expected:+ --volume-ids $expected}' and 'lsblk' here, then re-run pulumi up"
    fi
  fi
  if ! binding=$(docker_cli volume inspect --format '{{.Driver}} {{json .Options}}' "$name" 2>&1); then
    [[ "${binding,,}" == *"no such volume"* ]] || cannot_tell "the Docker daemon does not answer 'docker volume inspect' on this node: $binding"
    printf 'docker volume %s: absent\n' "$name"
    problem "there is no Docker volume $name on this node: the master's task would get an empty local one; re-run pulumi up (its spark-data step binds it)"
    report_health
  fi
  options=${binding#* }
  if [[ "${binding%% *}" == local ]] &&
    jq -e --arg d "$mount/data" '. == {type: "none", o: "bind", device: $d}' <<<"$options" >/dev/null 2>&1; then
    printf 'docker volume %s: bound to %s/data\n' "$name" "$mount"
  else
    printf 'docker volume %s: %s\n' "$name" "$binding"
    problem "Docker volume $name is not bound to $mount/data (driver and options: $binding): the master's /data is not the dataset's volume"
  fi
  report_health
}

if (($# == 1)); then
  require_cmd jq "the install-docker step installs it"
  spark_data_status
fi

docker_installed || cannot_tell "docker is not installed on this node"
state=$(swarm_state) || cannot_tell "the Docker daemon does not answer 'docker info' on this node"
[[ "$state" == active ]] && swarm_is_manager || cannot_tell "this node is not an active swarm manager (swarm state: $state): run the status on a manager"
require_cmd jq "the install-docker step installs it"

# ------------------------------------------------------------------------------------ nodes
if ! nodes=$(docker_cli node ls --format '{{.Hostname}} {{.ManagerStatus}}|{{.Status}}|{{.Availability}}' 2>&1); then
  if [[ "$nodes" == *"does not have a leader"* ]]; then
    printf 'nodes: the swarm has lost quorum: fewer than half of its managers are reachable\n'
    printf 'health: UNHEALTHY\n  - the swarm has lost quorum (no leader): see docs/operations.md, "A swarm that lost quorum"\n'
    exit 1
  fi
  cannot_tell "docker node ls failed: $nodes"
fi
printf 'nodes:\n'
while IFS='|' read -r name_role status availability; do
  name=${name_role%% *}
  manager_status=${name_role#"$name"}
  manager_status=${manager_status# }
  role=worker
  [[ -z "$manager_status" ]] || role="manager ($manager_status)"
  printf '  %-12s %-20s %-8s %s\n' "$name" "$role" "$status" "$availability"
  [[ "$status" == Ready ]] || problem "node $name is $status"
  [[ "$availability" == Active ]] || problem "node $name is $availability (takes no tasks)"
  [[ "$manager_status" != Unreachable ]] || problem "manager $name is unreachable"
done <<<"$nodes"
while read -r twice; do
  [[ -z "$twice" ]] || problem "hostname $twice is listed more than once (the old entry of a replaced node)"
done < <(cut -d' ' -f1 <<<"${nodes//|/ }" | sort | uniq -d)

# ------------------------------------------------------------------------------------ services
services=""
swarm_read services docker_cli service ls --format '{{.Name}} {{.Replicas}}'
printf 'services:\n'
WORKERS_DESIRED=""
while read -r service replicas; do
  [[ -n "$service" ]] || continue
  printf '  %-20s %s\n' "$service" "$replicas"
  running=${replicas%%/*}
  desired=${replicas#*/}
  desired=${desired%% *}
  [[ "$service" != "$SPARK_WORKER_SERVICE" ]] || WORKERS_DESIRED=$desired
  [[ "$running" == "$desired" ]] || problem "service $service runs $running of $desired tasks"
done <<<"$services"

# ------------------------------------------------------------------------------------ spark
if [[ -n "${SPARK_UI_URL:-}" ]]; then
  if master=$(curl --silent --show-error --fail --max-time 10 --url "${SPARK_UI_URL%/}/json/" 2>&1); then
    alive=$(jq '[.workers[]? | select(.state == "ALIVE")] | length' <<<"$master" 2>/dev/null) || alive=""
    if [[ -z "$alive" ]]; then
      problem "the Spark master at $SPARK_UI_URL did not answer with its status JSON"
    else
      printf 'spark: %s worker(s) registered and alive at the master (%s desired)\n' "$alive" "${WORKERS_DESIRED:-?}"
      [[ -z "$WORKERS_DESIRED" || "$alive" -ge "$WORKERS_DESIRED" ]] || problem "only $alive of $WORKERS_DESIRED Spark workers are registered at the master"
    fi
  else
    printf 'spark: the master does not answer at %s\n' "$SPARK_UI_URL"
    problem "the Spark master's UI at $SPARK_UI_URL does not answer: $master"
  fi
fi

# ------------------------------------------------------------------------------------ flocker
if [[ -n "${FLOCKER_CONTROL_HOST:-}" ]]; then
  if flocker=$(EXPECTED_ADDRESSES="" WAIT_TIMEOUT=0 RETRY_ATTEMPTS=1 bash "$HERE/flocker-status.sh" 2>&1); then
    count=$(jq '.nodes | length' <<<"$flocker")
    printf 'flocker: %s node(s) known to the control service\n' "$count"
    [[ -z "${EXPECTED_FLOCKER_NODES:-}" || "$count" -ge "$EXPECTED_FLOCKER_NODES" ]] ||
      problem "the Flocker control service knows $count node(s), not $EXPECTED_FLOCKER_NODES: a dataset agent is down or cannot reach it"
    while IFS=$'\t' read -r dataset size profile status address; do
      [[ -n "$dataset" ]] || continue
      printf '  dataset %-14s %-8s %-7s %s%s\n' "$dataset" "$size" "$profile" "$status" "${address:+ on $address}"
      [[ "$status" == attached ]] || problem "Flocker dataset $dataset is $status, not attached to a node"
    done < <(jq -r '.datasets[] | [(.name // .datasetId), ((.sizeGiB // "?") | tostring) + "GiB", (.profile // "default"), .status, (.address // "")] | @tsv' <<<"$flocker")
  else
    printf 'flocker: the control service does not answer\n'
    problem "the Flocker control service at $FLOCKER_CONTROL_HOST does not answer: $(tail -n 1 <<<"$flocker")"
  fi
fi

report_health
