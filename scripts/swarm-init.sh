#!/usr/bin/env bash
# swarm-init.sh create: make this node (the first manager) a manager of the cluster's one swarm:
# the founder on the first bring-up, a re-joining manager after it was replaced.
#
# Stdin (create): what the other managers' swarm-peer steps printed, one line per manager that is
# already in the swarm: "ADDR TOKEN CLUSTER_ID" (secret: it holds the manager join token).
#
#   create  inactive, no peer line  -> `docker swarm init --advertise-addr ADVERTISE_ADDR
#                                      --default-addr-pool SWARM_ADDRESS_POOL
#                                      --default-addr-pool-mask-length SWARM_ADDRESS_POOL_MASK_LENGTH`.
#           inactive, peer lines    -> the swarm exists (this node was replaced): join it as a
#                                      manager through the first peer that answers, never init a
#                                      second swarm; then remove the Down entry the old host left.
#           already an active manager -> nothing, unless the peers belong to another swarm (then a
#                                      clear error); a Down entry of this hostname is removed.
#           anything else           -> a clear error (never a silent re-init).
#
# The address pool is fixed when a swarm is founded (Swarm's ingress network is its first block):
# it cannot change on a live swarm, and nothing here re-founds one. A swarm (joined or found
# active) whose pool is not the configured one is an error that says so: the validator and
# spark-network.sh check the overlay against the configured pool, which would be the wrong model.
# A swarm founded without --default-addr-pool shows none in `docker info`: Docker's built-in
# pool (DOCKER_BUILTIN_ADDRESS_POOL) is what it uses.
#
# No delete: it would need SSH to this node, which may be gone (a replaced or lost host must not
# block pulumi up), and the node is terminated right after its step goes. Its entry stays in the
# swarm, Down, until the successor's create removes it (demoted first, within quorum).
#
# `docker swarm init` prints the worker join command, token included: its stdout is discarded
# (tokens are read with swarm-token.sh, which Pulumi treats as secret). Tokens never reach a log.
#
# Environment: ADVERTISE_ADDR (this node's private IP), SWARM_PORT (the managers' port, for the
# join), SWARM_ADDRESS_POOL (a CIDR), SWARM_ADDRESS_POOL_MASK_LENGTH (e.g. 24),
# DOCKER_BUILTIN_ADDRESS_POOL (Docker's pool when init is given none), RETRY_*, WAIT_TIMEOUT (60:
# a re-joined manager catching up with the raft log).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

PEER_ADDRS=()
PEER_TOKENS=()
PEER_CLUSTERS=()

# read_peers: the peer lines from stdin; a malformed line is an error that never shows the token.
read_peers() {
  local addr token cluster extra n=0
  while read -r addr token cluster extra || [[ -n "${addr:-}" ]]; do
    n=$((n + 1))
    [[ -n "$addr" ]] || continue
    if [[ ! "$addr" =~ ^[0-9A-Fa-f.:]+$ || -z "$token" || -z "$cluster" || -n "${extra:-}" ]]; then
      die "peer line $n on stdin is not 'ADDR TOKEN CLUSTER_ID' (the Pulumi program pipes the swarm-peer steps' output)"
    fi
    PEER_ADDRS+=("$addr")
    PEER_TOKENS+=("$token")
    PEER_CLUSTERS+=("$cluster")
  done
}

# join_through INDEX: one join attempt through peer INDEX.
join_through() {
  local i=$1
  swarm_join_attempt "${PEER_TOKENS[i]}" "${PEER_ADDRS[i]}:$SWARM_PORT"
}

rejoin() {
  local i
  require_env SWARM_PORT
  for i in "${!PEER_ADDRS[@]}"; do
    log "the swarm exists (manager ${PEER_ADDRS[i]} answered): joining it as a manager instead of founding a new one"
    if retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" join_through "$i"; then
      WAIT_HINT="see 'docker node ls' on ${PEER_ADDRS[i]}" \
        wait_for "${WAIT_TIMEOUT:-60}" "$WAIT_INTERVAL" "this node to act as a manager (ControlAvailable)" swarm_is_manager
      log "re-joined swarm ${PEER_CLUSTERS[i]} as a manager"
      return 0
    fi
  done
  die "the swarm exists (its managers at ${PEER_ADDRS[*]} answered) but this node could not join it after $RETRY_ATTEMPTS attempts each; it will not found a second swarm. Check that $SWARM_PORT/tcp and 7946/tcp+udp are open between the managers, then re-run pulumi up"
}

found() {
  log "initialising the swarm (advertise address $ADVERTISE_ADDR, address pool $SWARM_ADDRESS_POOL in /$SWARM_ADDRESS_POOL_MASK_LENGTH blocks)"
  docker_cli swarm init --advertise-addr "$ADVERTISE_ADDR" \
    --default-addr-pool "$SWARM_ADDRESS_POOL" --default-addr-pool-mask-length "$SWARM_ADDRESS_POOL_MASK_LENGTH" >/dev/null ||
    die "docker swarm init failed: check that $ADVERTISE_ADDR is an address of this node and that swarmAddressPool $SWARM_ADDRESS_POOL / swarmAddressPoolMaskLength $SWARM_ADDRESS_POOL_MASK_LENGTH are what Docker accepts (see the message above), then re-run pulumi up"
  local state
  state=$(swarm_state) || state=unknown
  [[ "$state" == active ]] || die "after docker swarm init the swarm state is '$state', not active: see 'docker info' and 'journalctl -u docker'"
  log "swarm initialised"
}

# check_same_swarm: an active manager must belong to the swarm its peers belong to.
check_same_swarm() {
  ((${#PEER_CLUSTERS[@]} > 0)) || return 0
  local mine c
  mine=$(docker_cli info --format '{{.Swarm.Cluster.ID}}') || die "cannot read this manager's cluster id (docker info)"
  for c in "${PEER_CLUSTERS[@]}"; do
    [[ "$c" != "$mine" ]] || return 0
  done
  die "this node is already a manager of another swarm (cluster $mine) than the stack's (cluster ${PEER_CLUSTERS[0]}, managers at ${PEER_ADDRS[*]}): run 'docker swarm leave --force' on it, then re-run pulumi up"
}

# check_address_pool: the swarm this node manages must use the configured address pool.
check_address_pool() {
  local info pools size ingress
  info=$(docker_cli info --format '{{range .Swarm.Cluster.DefaultAddrPool}}{{.}},{{end}} {{.Swarm.Cluster.SubnetSize}}') ||
    die "cannot read the swarm's address pool (docker info)"
  pools=${info% *}
  pools=${pools%,}
  size=${info##* }
  local how="with address pool $pools in /$size blocks"
  if [[ -z "$pools" ]]; then
    pools=$DOCKER_BUILTIN_ADDRESS_POOL
    how="without --default-addr-pool, so with Docker's built-in pool $pools in /$size blocks"
  fi
  [[ "$pools" != "$SWARM_ADDRESS_POOL" || "$size" != "$SWARM_ADDRESS_POOL_MASK_LENGTH" ]] || return 0
  ingress=$(docker_cli network inspect --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' ingress 2>/dev/null || true)
  ingress=${ingress% }
  die "this swarm was founded $how (its ingress network: ${ingress:-none}), but swarmAddressPool is $SWARM_ADDRESS_POOL and swarmAddressPoolMaskLength $SWARM_ADDRESS_POOL_MASK_LENGTH: the pool is fixed when a swarm is founded and cannot change on a live swarm, and nothing here re-founds one. Set swarmAddressPool to $pools and swarmAddressPoolMaskLength to $size (with an overlaySubnet outside that pool), or re-found the swarm as docs/networking.md ('Changing the address pool') describes, then re-run pulumi up"
}

create() {
  require_env ADVERTISE_ADDR SWARM_ADDRESS_POOL SWARM_ADDRESS_POOL_MASK_LENGTH DOCKER_BUILTIN_ADDRESS_POOL
  [[ "$SWARM_ADDRESS_POOL_MASK_LENGTH" =~ ^[0-9]+$ ]] || die "SWARM_ADDRESS_POOL_MASK_LENGTH must be a whole number, not '$SWARM_ADDRESS_POOL_MASK_LENGTH'"
  read_peers
  local state addr self
  state=$(swarm_state_or_die)
  case "$state" in
    inactive)
      if ((${#PEER_ADDRS[@]} > 0)); then rejoin; else found; fi
      ;;
    active)
      swarm_is_manager ||
        die "this node is already in a swarm as a worker: it cannot found one. Run 'docker swarm leave' on it (or pick another first manager), then re-run pulumi up"
      check_same_swarm
      addr=$(docker_cli info --format '{{.Swarm.NodeAddr}}' 2>/dev/null || true)
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
  check_address_pool
  self=$(docker_cli info --format '{{.Swarm.NodeID}}') || die "cannot read this node's swarm id (docker info)"
  swarm_prune_stale "$(hostname)" "$self"
}

expect_action "create" "$@"
create
