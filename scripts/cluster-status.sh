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
# Environment (all optional): FLOCKER_CONTROL_HOST (the control node's address: without it the
# Flocker part is skipped), SPARK_UI_URL (the master's web UI as reachable from this manager, e.g.
# the Spark UI on this manager through the routing mesh: without it the Spark part is skipped),
# SPARK_WORKER_SERVICE (spark-worker), EXPECTED_FLOCKER_NODES (a count), FLOCKER_ETC.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

(($# == 0)) || usage_error "(no action)" "$1"
SPARK_WORKER_SERVICE=${SPARK_WORKER_SERVICE:-spark-worker}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBLEMS=()
problem() { PROBLEMS+=("$*"); }
cannot_tell() {
  printf 'health: UNKNOWN: %s\n' "$*"
  exit 2
}

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

if ((${#PROBLEMS[@]} == 0)); then
  printf 'health: ok\n'
  exit 0
fi
printf 'health: UNHEALTHY\n'
printf '  - %s\n' "${PROBLEMS[@]}"
exit 1
