#!/usr/bin/env bash
# swarm-init.sh create|delete: make this node (the first manager) the founder of the swarm.
#
#   create  inactive -> `docker swarm init --advertise-addr ADVERTISE_ADDR`; already an active
#           manager -> nothing; anything else -> a clear error (never a silent re-init).
#   delete  leave the swarm if in one; never fails (the host may be half torn down).
#
# `docker swarm init` prints the worker join command, token included: its stdout is discarded
# (tokens are read with swarm-token.sh, which Pulumi treats as secret).
#
# Environment: ADVERTISE_ADDR (this node's private IP).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

create() {
  require_env ADVERTISE_ADDR
  local state addr
  state=$(swarm_state_or_die)
  case "$state" in
    inactive)
      log "initialising the swarm (advertise address $ADVERTISE_ADDR)"
      docker swarm init --advertise-addr "$ADVERTISE_ADDR" >/dev/null ||
        die "docker swarm init failed: check that $ADVERTISE_ADDR is an address of this node, then re-run pulumi up"
      state=$(swarm_state) || state=unknown
      [[ "$state" == active ]] || die "after docker swarm init the swarm state is '$state', not active: see 'docker info' and 'journalctl -u docker'"
      log "swarm initialised"
      ;;
    active)
      swarm_is_manager ||
        die "this node is already in a swarm as a worker: it cannot found one. Run 'docker swarm leave' on it (or pick another first manager), then re-run pulumi up"
      addr=$(docker info --format '{{.Swarm.NodeAddr}}' 2>/dev/null || true)
      if [[ -n "$addr" && "$addr" != "${ADVERTISE_ADDR%:*}" ]]; then
        warn "this manager advertises $addr, not $ADVERTISE_ADDR: managers must keep their address; check the instance's private IP"
      fi
      log "already an active swarm manager: nothing to do"
      ;;
    locked)
      die "swarm is locked (autolock): run docker swarm unlock with the unlock key, then re-run pulumi up"
      ;;
    pending | error)
      die "the swarm state of this node is '$state' (an earlier init or join did not complete): run 'docker swarm leave --force' on it, then re-run pulumi up"
      ;;
    *)
      die "unexpected swarm state '$state' (see 'docker info')"
      ;;
  esac
}

case "${1:-}" in
  create) create ;;
  delete) swarm_leave_if_member ;;
  *) usage_error "create|delete" "${1:-}" ;;
esac
