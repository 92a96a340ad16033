#!/usr/bin/env bash
# swarm-member.sh ready|remove: a manager's view of another node (NODE_NAME = its hostname). The
# step belongs to that node's life, not the manager's: it is replaced when the node is, and a
# replaced manager only re-runs `ready` on its successor. Its delete runs on a manager, so it works
# even when the node is already gone — no step's delete runs on the node it belongs to.
#
#   ready   waits (bounded) until the swarm lists NODE_NAME as Ready, then removes the Down entries
#           an earlier host of that name left behind (`docker node ls` shows each node once).
#   remove  for every swarm node with that exact hostname: a manager is demoted — unless the
#           managers left would lose quorum, which is refused with the counts —, then a node that
#           is up is drained and waited for (bounded) until no task should run on it; then it is
#           `docker node rm --force`d (its instance is terminated right after). A Down node
#           (unreachable, terminated) is not drained: Swarm has already moved its tasks; a warning
#           says so, a Down manager counts as unreachable in the quorum check. A node that is or
#           becomes absent is fine; a swarm that is already gone is a warning, not an error; a
#           swarm that lost quorum is an error that says so.
#
# Environment: NODE_NAME, WAIT_TIMEOUT (300), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

expect_action "ready|remove" "$@"
ACTION=$1
require_env NODE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

node_ready() {
  local rows
  rows=$(docker_cli node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}') || return 1
  awk -v n="$NODE_NAME" '$2 == n && $3 == "Ready" { found = 1 } END { exit !found }' <<<"$rows"
}

node_exists() { docker_cli node inspect "$1" >/dev/null 2>&1; }

# node_idle ID: no task of any service should run on ID any more (or the node is gone).
node_idle() {
  local tasks
  if ! tasks=$(docker_cli node ps "$1" --filter desired-state=running -q 2>/dev/null); then
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

# remove_node ID STATUS: STATUS is the node's status in `docker node ls` (Ready, Down…).
remove_node() {
  local id=$1 status=$2 role err
  role=$(docker_cli node inspect -f '{{.Spec.Role}}' "$id" 2>/dev/null) || { log "node $id is gone"; return 0; }
  if [[ "$status" == Down ]]; then
    warn "$NODE_NAME is Down: removing its entry without draining ($id; Swarm has already moved its tasks to other nodes)"
  fi
  if [[ "$role" == manager ]]; then
    swarm_require_quorum_without "$id" "$NODE_NAME"
    log "demoting manager $NODE_NAME ($id)"
    if ! err=$(docker_cli node demote "$id" 2>&1 >/dev/null); then
      node_exists "$id" || { log "node $id is gone"; return 0; }
      swarm_api_die "demoting manager $NODE_NAME ($id)" "$err"
    fi
  fi
  if [[ "$status" != Down ]]; then
    log "draining $NODE_NAME ($id)"
    docker_cli node update --availability drain "$id" >/dev/null || { gone_or_die "$id" "docker node update --availability drain"; return 0; }
    WAIT_HINT="see 'docker node ps $id'" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the tasks on $NODE_NAME ($id) to move away" node_idle "$id"
  fi
  log "removing $NODE_NAME ($id) from the swarm"
  docker_cli node rm --force "$id" >/dev/null || gone_or_die "$id" "docker node rm --force"
}

case "$ACTION" in
  ready)
    require_manager
    # fails at once, saying so, when the managers have lost quorum (rather than at the bound)
    swarm_read rows docker_cli node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}'
    WAIT_HINT="check that the node joined (its swarm-join step) and that the swarm's ports are open between the nodes; 'docker node ls' on a manager shows what the swarm sees" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "node $NODE_NAME to be Ready in the swarm" node_ready
    log "node $NODE_NAME is Ready"
    swarm_read rows docker_cli node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}'
    ready_id=$(awk -v n="$NODE_NAME" '$2 == n && $3 == "Ready" { print $1; exit }' <<<"$rows")
    swarm_prune_stale "$NODE_NAME" "$ready_id"
    ;;
  remove)
    if ! docker_installed; then
      log "docker is not installed here: no swarm to remove $NODE_NAME from"
      exit 0
    fi
    state=$(swarm_state) || die "the Docker daemon does not answer 'docker info' on this manager: start it and re-run the destroy"
    if [[ "$state" == inactive ]]; then
      warn "this manager is not in a swarm any more (the swarm is gone): nothing to remove $NODE_NAME from"
      exit 0
    fi
    require_manager
    swarm_read rows docker_cli node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}'
    mapfile -t entries < <(awk -v n="$NODE_NAME" '$2 == n { print $1, $3 }' <<<"$rows")
    if ((${#entries[@]} == 0)); then
      log "no node named $NODE_NAME in the swarm: nothing to do"
      exit 0
    fi
    for entry in "${entries[@]}"; do
      remove_node "${entry%% *}" "${entry#* }"
    done
    ;;
esac
