#!/usr/bin/env bash
# swarm-join.sh create: join this node to the swarm as SWARM_ROLE.
#
#   create  reads the join token from stdin (first line). inactive -> `docker swarm join`, retried
#           (a manager that just joined or a slow network fails transiently; a join that failed
#           half-way leaves the node 'pending' or 'error', so it leaves before the next attempt).
#           active -> checks it is the stack's swarm (MANAGER_ADDR among the managers the node
#           knows; another swarm is an early, clear error) and that the role matches (promoting or
#           demoting is a manager's job, so a mismatch is an error). locked/pending/error at the
#           start -> a clear error.
#
# No delete: it would need SSH to this node, which may be gone (a replaced or lost host must not
# block pulumi up). Its membership step on the first manager (swarm-member.sh remove) drains,
# demotes and removes it, and its instance is terminated right after.
#
# The token is never printed or logged; its only appearance on a command line is the local
# `docker swarm join --token` call.
#
# Environment: SWARM_ROLE (worker|manager), MANAGER_ADDR (ip:port), ADVERTISE_ADDR, RETRY_*,
# WAIT_TIMEOUT (60: a new manager taking over its role).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

verify_role() {
  local is_manager=false
  swarm_is_manager && is_manager=true
  if [[ "$SWARM_ROLE" == manager && "$is_manager" != true ]]; then
    die "this node is in the swarm as a worker, but SWARM_ROLE=manager: promote it on a manager ('docker node promote $(hostname)'), or make it leave ('docker swarm leave') so that the next pulumi up joins it again"
  fi
  if [[ "$SWARM_ROLE" == worker && "$is_manager" == true ]]; then
    die "this node is in the swarm as a manager, but SWARM_ROLE=worker: demote it on a manager ('docker node demote $(hostname)'), or make it leave so that the next pulumi up joins it again"
  fi
  log "in the swarm as a $SWARM_ROLE"
}

# verify_swarm: an active node must be in the stack's swarm: MANAGER_ADDR among the managers it
# knows. A node of another swarm would otherwise pass as joined (and its role check too).
verify_swarm() {
  local managers
  managers=$(docker_cli info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' 2>/dev/null || true)
  if [[ -z "${managers// /}" ]]; then
    warn "docker info lists no managers for this node: cannot tell which swarm it is in"
    return 0
  fi
  [[ " $managers " == *" $MANAGER_ADDR "* ]] ||
    die "this node is already in another swarm (its managers: ${managers% }), not the one at $MANAGER_ADDR: run 'docker swarm leave --force' on it, then re-run pulumi up"
}

# join_once: one join attempt through the configured manager.
join_once() { swarm_join_attempt "$TOKEN" "$MANAGER_ADDR"; }

create() {
  require_env SWARM_ROLE MANAGER_ADDR ADVERTISE_ADDR
  [[ "$SWARM_ROLE" == worker || "$SWARM_ROLE" == manager ]] || die "SWARM_ROLE must be worker or manager, not '$SWARM_ROLE'"
  TOKEN=""
  IFS= read -r TOKEN || true
  TOKEN=${TOKEN%$'\r'}
  TOKEN=${TOKEN//[[:space:]]/}
  [[ -n "$TOKEN" ]] || die "no join token on stdin: the Pulumi program pipes swarm-token.sh's output (from the first manager) into this step"

  local state
  state=$(swarm_state_or_die)
  case "$state" in
    inactive)
      log "joining the swarm at $MANAGER_ADDR as a $SWARM_ROLE (advertise address $ADVERTISE_ADDR)"
      retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" join_once ||
        die "could not join the swarm at $MANAGER_ADDR after $RETRY_ATTEMPTS attempts: check that ${MANAGER_ADDR##*:}/tcp on the manager and 7946/tcp+udp between nodes are open to this node, and that the token is current ('docker swarm join-token $SWARM_ROLE' on a manager), then re-run pulumi up"
      state=$(swarm_state) || state=unknown
      [[ "$state" == active ]] || die "after docker swarm join the swarm state is '$state', not active: see 'docker info' on this node"
      if [[ "$SWARM_ROLE" == manager ]]; then
        # a new manager serves the control API once it has caught up with the raft log
        WAIT_HINT="see 'docker node ls' on the first manager" \
          wait_for "${WAIT_TIMEOUT:-60}" "$WAIT_INTERVAL" "this node to act as a manager (ControlAvailable)" swarm_is_manager
      fi
      verify_role
      ;;
    active)
      verify_swarm
      verify_role
      ;;
    locked)
      die "swarm is locked (autolock): run docker swarm unlock with the unlock key, then re-run pulumi up"
      ;;
    pending | error)
      die "the swarm state of this node is '$state' (an earlier join did not complete): run 'docker swarm leave --force' on it, then re-run pulumi up"
      ;;
    *) die "unexpected swarm state '$state' (see 'docker info')" ;;
  esac
}

expect_action "create" "$@"
create
