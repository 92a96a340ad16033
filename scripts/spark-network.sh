#!/usr/bin/env bash
# spark-network.sh create|delete: the attachable overlay network the Spark services share (the
# book: `docker network create --driver overlay --subnet 10.0.0.0/24 spark`). Attachable so the
# smoke test's plain `docker run` can join it.
#
#   create  refuses a subnet that overlaps another swarm network's (ingress above all: a swarm
#           founded without the configured address pool has it on the book's 10.0.0.0/24), then
#           creates the network, or checks an existing one: driver, subnet and encryption cannot
#           be changed in place, so a difference is an error that says how to resolve it. The
#           create's exit code proves nothing (a manager returns an ID for a network it then
#           fails to allocate), so every run confirms, within a bound, that the network has its
#           IPAM configuration with the wanted subnet, and a run that creates it that a container
#           can join it (one short-lived container of ATTACH_IMAGE, an image already on this
#           node), or fails with the daemon's reason. A network this run created and the swarm did not allocate is
#           removed again; one an earlier run left unallocated is removed and created anew.
#   delete  removes it if it exists, retrying while the services' tasks detach.
#
# Environment: NETWORK_NAME, NETWORK_SUBNET, NETWORK_ENCRYPTED (0|1), ATTACH_IMAGE (create: an
# image on this node with `true` on its PATH), WAIT_TIMEOUT (60: the allocation), RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env NETWORK_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}
SUBNETS_FORMAT='{{range .IPAM.Config}}{{.Subnet}} {{end}}'

network_json() { docker_cli network inspect --format '{{json .}}' "$NETWORK_NAME" 2>/dev/null; }

# ipv4_int A.B.C.D: the address as a number.
ipv4_int() {
  local IFS=. a
  read -r -a a <<<"$1"
  printf '%s\n' $(((a[0] << 24) + (a[1] << 16) + (a[2] << 8) + a[3]))
}

# cidrs_overlap A/N B/M: true when the two IPv4 networks share an address.
cidrs_overlap() {
  local n=$((${1#*/} < ${2#*/} ? ${1#*/} : ${2#*/}))
  local mask=$(((0xffffffff << (32 - n)) & 0xffffffff))
  (($(($(ipv4_int "${1%/*}") & mask)) == $(($(ipv4_int "${2%/*}") & mask))))
}

# check_swarm_networks: no other swarm-scope network (ingress, or one an operator added) may hold
# an address of NETWORK_SUBNET: Swarm's allocator would refuse the new network's pool.
check_swarm_networks() {
  local names name subnet subnets
  names=$(docker_cli network ls --filter scope=swarm --format '{{.Name}}') || die "cannot list the swarm's networks (docker network ls)"
  while read -r name; do
    [[ -n "$name" && "$name" != "$NETWORK_NAME" ]] || continue
    subnets=$(docker_cli network inspect --format "$SUBNETS_FORMAT" "$name" 2>/dev/null) || continue
    for subnet in $subnets; do
      [[ "$subnet" != *:* ]] && cidrs_overlap "$NETWORK_SUBNET" "$subnet" || continue
      if [[ "$name" == ingress ]]; then
        die "overlaySubnet $NETWORK_SUBNET overlaps the swarm's ingress network ($subnet): this swarm was founded with an address pool that holds it (a swarm founded without --default-addr-pool uses Docker's built-in one, whose first block is the book's subnet), so Docker would create network $NETWORK_NAME (exit 0) but never allocate it, and the Spark tasks would stay New. Nothing was created. Choose another overlaySubnet that does not overlap $subnet and lies outside the swarm's address pool ('docker info --format \"{{.Swarm.Cluster.DefaultAddrPool}}\"'; empty: Docker's built-in pool), or re-found the swarm with swarmAddressPool as docs/networking.md ('Changing the address pool') describes, then re-run pulumi up"
      fi
      die "overlaySubnet $NETWORK_SUBNET overlaps the subnet $subnet of the swarm network '$name': Docker would create network $NETWORK_NAME (exit 0) but never allocate it. Nothing was created. Choose another overlaySubnet that does not overlap $subnet, or remove network '$name' ('docker network rm $name'), then re-run pulumi up"
    done
  done <<<"$names"
}

# allocated: the network has its IPAM configuration with NETWORK_SUBNET (an unallocated one has none).
allocated() {
  local subnets
  subnets=$(docker_cli network inspect --format "$SUBNETS_FORMAT" "$NETWORK_NAME" 2>/dev/null) || return 1
  [[ " $subnets" == *" $NETWORK_SUBNET "* ]]
}

# allocation_error ID: the manager's log line about the network, if the journal has one.
allocation_error() {
  command -v journalctl >/dev/null 2>&1 || return 0
  journalctl -u docker --no-pager -n 2000 2>/dev/null | grep -F "Failed allocation for network $1" | tail -n 1 || true
}

# confirm_allocated CREATED (1: this run created it): bounded wait for the IPAM configuration;
# on timeout, a network this run created is removed and the manager's reason shown.
confirm_allocated() {
  local id reason
  (WAIT_HINT="the swarm did not allocate it" wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "network $NETWORK_NAME's IPAM configuration" allocated) && return 0
  id=$(network_json | jq -r '.Id // ""') || id=""
  reason=$(allocation_error "${id:-$NETWORK_NAME}")
  if (($1)); then
    log "removing network $NETWORK_NAME again: it was never allocated"
    docker_cli network rm "$NETWORK_NAME" >/dev/null 2>&1 || warn "could not remove the unallocated network $NETWORK_NAME: remove it with 'docker network rm $NETWORK_NAME'"
  fi
  die "network $NETWORK_NAME ($NETWORK_SUBNET) has no IPAM configuration after ${WAIT_TIMEOUT}s: the swarm did not allocate it, and no task could join it. The manager says: ${reason:-nothing in 'journalctl -u docker' (look there for 'Failed allocation for network')}. Usually its subnet overlaps another network of the swarm's address space: choose another overlaySubnet, then re-run pulumi up"
}

# confirm_attachable: a short-lived container joins the network, as the services' tasks will; when
# it cannot, the network (which this run created) is removed again, so a re-run probes anew.
confirm_attachable() {
  local err
  if ! err=$(docker_cli run --rm --pull never --network "$NETWORK_NAME" --entrypoint true "$ATTACH_IMAGE" 2>&1 >/dev/null); then
    docker_cli network rm "$NETWORK_NAME" >/dev/null 2>&1 || warn "could not remove network $NETWORK_NAME: remove it with 'docker network rm $NETWORK_NAME'"
    die "network $NETWORK_NAME exists but a container cannot join it: ${err:-docker run failed without a message}. Check the kernel's overlay support on this node (the vxlan and ip_vs modules: 'lsmod') and 'journalctl -u docker', then re-run pulumi up"
  fi
  log "network $NETWORK_NAME is allocated ($NETWORK_SUBNET) and a container can join it"
}

create() {
  require_env NETWORK_SUBNET ATTACH_IMAGE
  [[ "$NETWORK_SUBNET" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$ ]] || die "NETWORK_SUBNET must be an IPv4 CIDR, not '$NETWORK_SUBNET': fix overlaySubnet"
  NETWORK_ENCRYPTED=${NETWORK_ENCRYPTED:-0}
  [[ "$NETWORK_ENCRYPTED" == 0 || "$NETWORK_ENCRYPTED" == 1 ]] || die "NETWORK_ENCRYPTED must be 0 or 1, not '$NETWORK_ENCRYPTED'"
  require_cmd jq "the install-docker step installs it"
  require_manager
  check_swarm_networks
  local info driver subnet encrypted created=0
  if info=$(network_json) && [[ "$(jq -r '(.IPAM.Config // []) | length' <<<"$info")" == 0 && "$(jq -r '.Driver // ""' <<<"$info")" == "" ]]; then
    # An earlier run's network that was never allocated: no task can be using it.
    log "network $NETWORK_NAME exists but was never allocated (an earlier create on a conflicting subnet): removing it to create it again"
    docker_cli network rm "$NETWORK_NAME" >/dev/null || die "cannot remove the unallocated network $NETWORK_NAME: see 'docker network inspect $NETWORK_NAME'"
  fi
  if info=$(network_json); then
    driver=$(jq -r '.Driver // ""' <<<"$info")
    subnet=$(jq -r '[.IPAM.Config[]?.Subnet // empty] | join(",")' <<<"$info")
    encrypted=$(jq -r 'if ((.Options // {}) | has("encrypted")) then 1 else 0 end' <<<"$info")
    if [[ "$driver" != overlay || "$subnet" != "$NETWORK_SUBNET" || "$encrypted" != "$NETWORK_ENCRYPTED" ]]; then
      die "network $NETWORK_NAME exists with driver ${driver:-none}, subnet ${subnet:-none} / encrypted $encrypted, but overlay, $NETWORK_SUBNET / encrypted $NETWORK_ENCRYPTED is wanted; these cannot change in place: remove the services using it and the network ('docker service rm …; docker network rm $NETWORK_NAME'), or set overlaySubnet/overlayEncrypted back"
    fi
    log "network $NETWORK_NAME exists (overlay, $subnet, encrypted $encrypted)"
  else
    local -a opts=()
    [[ "$NETWORK_ENCRYPTED" == 0 ]] || opts+=(--opt encrypted)
    log "creating overlay network $NETWORK_NAME ($NETWORK_SUBNET, encrypted $NETWORK_ENCRYPTED)"
    docker_cli network create --driver overlay --attachable --subnet "$NETWORK_SUBNET" ${opts[@]+"${opts[@]}"} "$NETWORK_NAME" >/dev/null ||
      die "docker network create $NETWORK_NAME failed: a subnet that overlaps another network or the VPC is the usual cause (overlaySubnet)"
    created=1
  fi
  confirm_allocated "$created"
  # The probe container is started only for a network this run created: a second run starts
  # nothing, so it changes nothing (no container events); an allocated network stays joinable.
  ((created == 0)) || confirm_attachable
}

rm_once() {
  network_json >/dev/null || return 0
  docker_cli network rm "$NETWORK_NAME" >/dev/null || return 1
}

delete() {
  docker_installed || { log "docker is not installed: no network to remove"; return 0; }
  swarm_state >/dev/null || die "the Docker daemon does not answer 'docker info': start it and re-run the destroy"
  if ! network_json >/dev/null; then
    log "network $NETWORK_NAME does not exist: nothing to do"
    return 0
  fi
  log "removing network $NETWORK_NAME"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" rm_once ||
    die "network $NETWORK_NAME is still in use after $RETRY_ATTEMPTS attempts: remove the services and containers attached to it ('docker network inspect $NETWORK_NAME'), then re-run the destroy"
}

"$ACTION"
