#!/usr/bin/env bash
# swarm-peer.sh: what a manager other than the first tells the first one's swarm-init step, so
# that a replaced first manager joins the existing swarm instead of founding a second one.
#
# Runs on each of the other managers (re-run whenever the first manager's instance changes).
#   not in a swarm (inactive)   prints nothing: the first bring-up, or this manager is itself new.
#   an active manager           prints one line "ADDR TOKEN CLUSTER_ID": its advertise address,
#                               the swarm's manager join token and the swarm's cluster id.
#   anything else               fails, saying why: a silent empty answer here could let the first
#                               manager start a second swarm (a worker of the swarm, a locked or
#                               half-joined node, a daemon that does not answer, a lost quorum).
#
# Stdout: nothing, or the one line above (secret: Pulumi marks it so and pipes it to swarm-init).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

(($# == 0)) || usage_error "(no action)" "$1"

state=$(swarm_state_or_die)
case "$state" in
  inactive)
    log "not in a swarm: nothing to offer the first manager"
    exit 0
    ;;
  active) ;;
  locked) die "swarm is locked (autolock) on this manager: run 'docker swarm unlock' with the unlock key, then re-run pulumi up" ;;
  *) die "the swarm state of this node is '$state', not active: see 'docker info'; run 'docker swarm leave --force' on it if an earlier join did not complete, then re-run pulumi up" ;;
esac
swarm_is_manager ||
  die "this node is in the swarm as a worker, but the stack makes it a manager: promote it on a manager ('docker node promote $(hostname)'), then re-run pulumi up"

# The step runs right after the first manager (often the leader) is gone: until the others have
# elected a leader, docker info shows no cluster id. Wait for one, bounded; a swarm that has lost
# its quorum never elects one, and the step fails saying so.
PEER_WAIT_TIMEOUT=${PEER_WAIT_TIMEOUT:-90}
addr=""
cluster=""
peer_identity() {
  addr=$(docker_cli info --format '{{.Swarm.NodeAddr}}') || return 1
  cluster=$(docker_cli info --format '{{.Swarm.Cluster.ID}}') || return 1
  [[ -n "$addr" && -n "$cluster" && "$cluster" != "<no value>" ]]
}
WAIT_HINT="docker info still shows no cluster id on this manager: the swarm has no leader (lost quorum?); see 'docker node ls' on another manager, restore the quorum, then re-run pulumi up" \
  wait_for "$PEER_WAIT_TIMEOUT" "$WAIT_INTERVAL" "this manager's address and the swarm's cluster id (a leader elected)" peer_identity
swarm_read token docker_cli swarm join-token -q manager
[[ -n "$token" ]] || die "docker swarm join-token returned an empty token"
log "an active manager of swarm $cluster at $addr"
printf '%s %s %s\n' "$addr" "$token" "$cluster"
