#!/usr/bin/env bash
# swarm-member.sh ready|remove: the first manager's view of another node (NODE_NAME = its
# hostname). Its delete runs on a manager, so it works even when that node is already gone.
#
#   ready   waits (bounded) until the swarm lists NODE_NAME as Ready.
#   remove  for every swarm node with that exact hostname (a host that re-joined leaves a Down
#           entry behind): demote it if it is a manager, drain it, wait (bounded) until no task
#           should run on it, then `docker node rm --force` it. A node that is or becomes absent
#           is fine.
#
# Environment: NODE_NAME, WAIT_TIMEOUT (300), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

expect_action "ready|remove" "$@"
ACTION=$1
require_env NODE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

node_ready() {
  local rows
  rows=$(docker node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}') || return 1
  awk -v n="$NODE_NAME" '$2 == n && $3 == "Ready" { found = 1 } END { exit !found }' <<<"$rows"
}

node_exists() { docker node inspect "$1" >/dev/null 2>&1; }

# node_idle ID: no task of any service should run on ID any more (or the node is gone).
node_idle() {
  local tasks
  if ! tasks=$(docker node ps "$1" --filter desired-state=running -q 2>/dev/null); then
    node_exists "$1" && return 1
    return 0
  fi
  [[ -z "$tasks" ]]
}

# gone_or_die ID WHAT: after a failed command, a node that has vanished is success.
gone_or_die() {
  node_exists "$1" || { log "node $1 is gone"; return 0; }
  die "$2 failed for node $1 ($NODE_NAME): see 'docker node inspect $1'"
}

remove_node() {
  local id=$1 role
  role=$(docker node inspect -f '{{.Spec.Role}}' "$id" 2>/dev/null) || { log "node $id is gone"; return 0; }
  if [[ "$role" == manager ]]; then
    log "demoting manager $NODE_NAME ($id)"
    docker node demote "$id" >&2 || { gone_or_die "$id" "docker node demote"; return 0; }
  fi
  log "draining $NODE_NAME ($id)"
  docker node update --availability drain "$id" >/dev/null || { gone_or_die "$id" "docker node update --availability drain"; return 0; }
  WAIT_HINT="see 'docker node ps $id'" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the tasks on $NODE_NAME ($id) to move away" node_idle "$id"
  log "removing $NODE_NAME ($id) from the swarm"
  docker node rm --force "$id" >/dev/null || gone_or_die "$id" "docker node rm --force"
}

case "$ACTION" in
  ready)
    require_manager
    WAIT_HINT="check that the node joined (its swarm-join step) and that 2377/tcp and 7946/tcp+udp are open between the nodes; 'docker node ls' on a manager shows what the swarm sees" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "node $NODE_NAME to be Ready in the swarm" node_ready
    log "node $NODE_NAME is Ready"
    ;;
  remove)
    if ! docker_installed; then
      log "docker is not installed here: no swarm to remove $NODE_NAME from"
      exit 0
    fi
    state=$(swarm_state) || die "the Docker daemon does not answer 'docker info' on this manager: start it and re-run the destroy"
    if [[ "$state" == inactive ]]; then
      log "this node is not in a swarm any more: nothing to remove"
      exit 0
    fi
    require_manager
    ids=$(node_ids_by_hostname "$NODE_NAME") || die "cannot list the swarm's nodes (docker node ls)"
    if [[ -z "$ids" ]]; then
      log "no node named $NODE_NAME in the swarm: nothing to do"
      exit 0
    fi
    for id in $ids; do
      remove_node "$id"
    done
    ;;
esac
