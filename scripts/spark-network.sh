#!/usr/bin/env bash
# spark-network.sh create|delete: the attachable overlay network the Spark services share (the
# book: `docker network create --driver overlay --subnet 10.0.0.0/24 spark`). Attachable so the
# smoke test's plain `docker run` can join it.
#
#   create  creates it, or checks an existing one: driver, subnet and encryption cannot be changed
#           in place, so a difference is an error that says how to resolve it.
#   delete  removes it if it exists, retrying while the services' tasks detach.
#
# Environment: NETWORK_NAME, NETWORK_SUBNET, NETWORK_ENCRYPTED (0|1), RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env NETWORK_NAME

network_json() { docker_cli network inspect --format '{{json .}}' "$NETWORK_NAME" 2>/dev/null; }

create() {
  require_env NETWORK_SUBNET
  NETWORK_ENCRYPTED=${NETWORK_ENCRYPTED:-0}
  [[ "$NETWORK_ENCRYPTED" == 0 || "$NETWORK_ENCRYPTED" == 1 ]] || die "NETWORK_ENCRYPTED must be 0 or 1, not '$NETWORK_ENCRYPTED'"
  require_cmd jq "the install-docker step installs it"
  require_manager
  local info driver subnet encrypted
  if info=$(network_json); then
    driver=$(jq -r '.Driver // ""' <<<"$info")
    subnet=$(jq -r '[.IPAM.Config[]?.Subnet // empty] | join(",")' <<<"$info")
    encrypted=$(jq -r 'if ((.Options // {}) | has("encrypted")) then 1 else 0 end' <<<"$info")
    if [[ "$driver" != overlay || "$subnet" != "$NETWORK_SUBNET" || "$encrypted" != "$NETWORK_ENCRYPTED" ]]; then
      die "network $NETWORK_NAME exists with driver ${driver:-none}, subnet ${subnet:-none} / encrypted $encrypted, but overlay, $NETWORK_SUBNET / encrypted $NETWORK_ENCRYPTED is wanted; these cannot change in place: remove the services using it and the network ('docker service rm …; docker network rm $NETWORK_NAME'), or set overlaySubnet/overlayEncrypted back"
    fi
    log "network $NETWORK_NAME exists (overlay, $subnet, encrypted $encrypted)"
    return 0
  fi
  local -a opts=()
  [[ "$NETWORK_ENCRYPTED" == 0 ]] || opts+=(--opt encrypted)
  log "creating overlay network $NETWORK_NAME ($NETWORK_SUBNET, encrypted $NETWORK_ENCRYPTED)"
  docker_cli network create --driver overlay --attachable --subnet "$NETWORK_SUBNET" ${opts[@]+"${opts[@]}"} "$NETWORK_NAME" >/dev/null ||
    die "docker network create $NETWORK_NAME failed: a subnet that overlaps another network or the VPC is the usual cause (overlaySubnet)"
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
