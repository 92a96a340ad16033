#!/usr/bin/env bash
# flocker-containers.sh control|agents|remove-control|remove-agents: Flocker run from ClusterHQ's
# images (flockerInstall=containers), as their "Running Flocker in Containers" page runs them,
# with the certificates and agent.yml the flocker-files step wrote to FLOCKER_ETC.
#
#   control         the control service, flocker-control-service, on the host network, its state
#                   (/var/lib/flocker) in the named volume flocker-control-state so that it
#                   outlives the container (the page used a data-volume container for this);
#                   waits until FLOCKER_API_PORT (REST API) and FLOCKER_AGENT_PORT (agents) listen.
#   agents          flocker-dataset-agent (privileged: it attaches, formats and mounts EBS volumes
#                   under /flocker, which propagates back to the host so that Docker can hand the
#                   mount to containers), flocker-container-agent and flocker-docker-plugin;
#                   waits until the plugin's socket (PLUGIN_SOCKET) exists.
#   remove-control  removes the control container; its state volume stays unless
#                   REMOVE_CONTROL_STATE=1 (the cluster's record of every dataset is in it).
#   remove-agents   removes the three agent containers.
#
# Every container restarts with the Docker daemon (--restart always). Each carries two labels: a
# digest of how it is run (image reference, mounts, environment) and CONFIG_DIGEST, the digest of
# the files the flocker-files step wrote. A container whose labels differ, or whose image
# reference now names another local image, is replaced (a Flocker service reads its certificates
# and agent.yml only when it starts); a stopped one is started; anything else is left alone, so a
# second run changes nothing. Images are never pulled here: the images step pulls them first.
#
# Environment: CONTROL_IMAGE (control); DATASET_AGENT_IMAGE, CONTAINER_AGENT_IMAGE, PLUGIN_IMAGE,
# FLOCKER_CONTROL_HOST, NODE_ADDRESS (agents); CONFIG_DIGEST; FLOCKER_ETC, FLOCKER_API_PORT, FLOCKER_AGENT_PORT, PLUGIN_SOCKET;
# REMOVE_CONTROL_STATE (0); WAIT_TIMEOUT (180), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

expect_action "control|agents|remove-control|remove-agents" "$@"
ACTION=$1
require_env FLOCKER_ETC FLOCKER_API_PORT FLOCKER_AGENT_PORT PLUGIN_SOCKET
WAIT_TIMEOUT=${WAIT_TIMEOUT:-180}
CONFIG_DIGEST=${CONFIG_DIGEST:-}
[[ "$CONFIG_DIGEST" =~ ^[0-9a-f]*$ ]] || die "CONFIG_DIGEST must be hexadecimal, not '$CONFIG_DIGEST'"

CONTROL=flocker-control-service
DATASET_AGENT=flocker-dataset-agent
CONTAINER_AGENT=flocker-container-agent
PLUGIN=flocker-docker-plugin
STATE_VOLUME=flocker-control-state
SPEC_LABEL=swarm-flocker.spec
CONFIG_LABEL=swarm-flocker.config-digest
# The socket of Flocker 1.x's plugin; ClusterHQ's 2015 experimental plugin listened one level up.
# Docker finds either.
PLUGIN_SOCKETS=("$(path "$PLUGIN_SOCKET")" "$(path "${PLUGIN_SOCKET%/*}.sock")")

# require_docker: the steps that start containers need Docker and jq; removals do not.
require_docker() {
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  require_cmd jq "the install-docker step installs it"
}

# require_files NAME...: the flocker-files step writes them; nothing starts without them.
require_files() {
  local f missing=()
  for f in "$@"; do
    [[ -s "$(path "$FLOCKER_ETC/$f")" ]] || missing+=("$FLOCKER_ETC/$f")
  done
  ((${#missing[@]} == 0)) ||
    die "missing ${missing[*]}: the flocker-files step must run first (it writes the certificates and agent.yml), then re-run pulumi up"
}

# image_id REF: the local image REF names; dies when the images step has not pulled it.
image_id() {
  docker_cli image inspect --format '{{.Id}}' "$1" 2>/dev/null ||
    die "image $1 is not on this node: the images step pulls it before this one (see its log), then re-run pulumi up"
}

# container_json NAME: `docker inspect` of the container; fails when there is none.
container_json() { docker_cli inspect --type container --format '{{json .}}' "$1" 2>/dev/null; }

# ensure_container NAME IMAGE RUN-OPTION...: NAME runs IMAGE with these options and the current
# configuration — created, started or replaced as needed, untouched when it already does.
ensure_container() {
  local name=$1 image=$2 current want_id spec reason=""
  shift 2
  want_id=$(image_id "$image")
  spec=$(printf '%s\n' "$image" "$@" | sha256sum | cut -c1-16)
  if current=$(container_json "$name"); then
    local -a have=()
    mapfile -t have < <(jq -r --arg s "$SPEC_LABEL" --arg c "$CONFIG_LABEL" \
      '(.Config.Labels // {}) as $l | ($l[$s] // ""), ($l[$c] // ""), .Image, (.State.Running | tostring)' <<<"$current")
    ((${#have[@]} == 4)) || die "cannot read 'docker inspect $name'"
    if [[ "${have[0]}" != "$spec" ]]; then
      reason="how it runs changed (image reference, mounts or environment)"
    elif [[ "${have[1]}" != "$CONFIG_DIGEST" ]]; then
      reason="its certificates or agent.yml changed"
    elif [[ "${have[2]}" != "$want_id" ]]; then
      reason="$image now names another image"
    fi
    if [[ -z "$reason" ]]; then
      if [[ "${have[3]}" == true ]]; then
        log "$name is running"
        return 0
      fi
      log "starting $name"
      docker_cli start "$name" >/dev/null || die "could not start $name: see 'docker logs $name' on this node"
      return 0
    fi
    log "replacing $name: $reason"
    stop_and_remove "$name"
  else
    log "starting $name ($image)"
  fi
  [[ "$name" != "$PLUGIN" ]] || clear_stale_plugin_sockets
  docker_cli run --detach --name "$name" --restart always \
    --label "$SPEC_LABEL=$spec" --label "$CONFIG_LABEL=$CONFIG_DIGEST" "$@" "$image" >/dev/null ||
    die "docker run of $name ($image) failed: see the message above and 'docker logs $name' on this node"
}

# stop_and_remove NAME: a graceful stop first, so that a service finishes what it is doing (an
# agent may be attaching a volume) and removes its socket, then the removal.
stop_and_remove() {
  docker_cli stop --time 30 "$1" >/dev/null || die "could not stop $1: see 'docker inspect $1' on this node"
  docker_cli rm "$1" >/dev/null || die "could not remove $1: see 'docker inspect $1' on this node"
}

# clear_stale_plugin_sockets: a plugin killed without shutting down leaves its socket behind; a new
# one could not listen there, and the readiness wait would take the old socket for the new one.
# Called only when no plugin container runs.
clear_stale_plugin_sockets() {
  local s
  for s in "${PLUGIN_SOCKETS[@]}"; do
    if [[ -S "$s" ]]; then
      log "removing the stale plugin socket $s"
      rm -f -- "$s"
    fi
  done
}

# remove_container NAME: gone, whether it ran or not. A node without Docker has none.
remove_container() {
  if ! docker_installed; then
    log "docker is not installed: no $1 to remove"
    return 0
  fi
  if ! container_json "$1" >/dev/null; then
    log "$1 does not exist: nothing to remove"
    return 0
  fi
  log "removing $1"
  stop_and_remove "$1"
}

plugin_socket_exists() {
  local s
  for s in "${PLUGIN_SOCKETS[@]}"; do
    [[ -S "$s" ]] && return 0
  done
  return 1
}

control() {
  require_env CONTROL_IMAGE
  require_docker
  require_files cluster.crt control-service.crt control-service.key
  if ! container_json "$CONTROL" >/dev/null && flocker_control_listens; then
    die "something else already listens on $FLOCKER_API_PORT/tcp and $FLOCKER_AGENT_PORT/tcp (Flocker's packages, flockerInstall=packages, run flocker-control as a systemd unit): stop it with 'systemctl disable --now flocker-control', then re-run pulumi up"
  fi
  if ! docker_cli volume inspect --format '{{.Driver}}' "$STATE_VOLUME" >/dev/null 2>&1; then
    log "creating the volume $STATE_VOLUME for the control service's state"
    docker_cli volume create --name "$STATE_VOLUME" >/dev/null || die "could not create the Docker volume $STATE_VOLUME"
  fi
  ensure_container "$CONTROL" "$CONTROL_IMAGE" --net host \
    -v "$FLOCKER_ETC:$FLOCKER_ETC" -v "$STATE_VOLUME:/var/lib/flocker"
  WAIT_HINT="see 'docker logs $CONTROL' on this node (a certificate that does not match cluster.crt is the usual cause)" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "$CONTROL to listen on $FLOCKER_API_PORT/tcp and $FLOCKER_AGENT_PORT/tcp" flocker_control_listens
  log "$CONTROL is listening on $FLOCKER_API_PORT and $FLOCKER_AGENT_PORT"
}

agents() {
  require_env DATASET_AGENT_IMAGE CONTAINER_AGENT_IMAGE PLUGIN_IMAGE FLOCKER_CONTROL_HOST NODE_ADDRESS
  require_docker
  require_files agent.yml cluster.crt node.crt node.key plugin.crt plugin.key
  # shared: the EBS mounts the agent makes under /flocker inside its container must appear on the
  # host, where Docker bind-mounts them into the containers using the volumes; without it they
  # would write to an empty directory on the root disk.
  ensure_container "$DATASET_AGENT" "$DATASET_AGENT_IMAGE" --net host --privileged \
    -v /flocker:/flocker:shared -v /:/host -v "$FLOCKER_ETC:$FLOCKER_ETC" -v /dev:/dev
  ensure_container "$CONTAINER_AGENT" "$CONTAINER_AGENT_IMAGE" --net host --privileged \
    -v "$FLOCKER_ETC:$FLOCKER_ETC" -v /var/run/docker.sock:/var/run/docker.sock
  ensure_container "$PLUGIN" "$PLUGIN_IMAGE" --net host \
    -e "FLOCKER_CONTROL_SERVICE_BASE_URL=https://$FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT/v1" -e "MY_NETWORK_IDENTITY=$NODE_ADDRESS" \
    -v "$FLOCKER_ETC:$FLOCKER_ETC" -v /run/docker:/run/docker
  WAIT_HINT="see 'docker logs $PLUGIN' on this node; the plugin needs the control service ($FLOCKER_API_PORT/tcp) to be reachable" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the Flocker Docker plugin socket $PLUGIN_SOCKET" plugin_socket_exists
  log "the Flocker agents and Docker plugin are running"
}

remove-control() {
  remove_container "$CONTROL"
  if [[ "${REMOVE_CONTROL_STATE:-0}" != 1 ]]; then
    log "keeping the volume $STATE_VOLUME (the control service's record of every dataset); REMOVE_CONTROL_STATE=1 removes it"
    return 0
  fi
  if docker_installed && docker_cli volume inspect --format '{{.Driver}}' "$STATE_VOLUME" >/dev/null 2>&1; then
    log "removing the volume $STATE_VOLUME"
    docker_cli volume rm "$STATE_VOLUME" >/dev/null || die "could not remove the Docker volume $STATE_VOLUME"
  fi
}

remove-agents() {
  local name
  for name in "$PLUGIN" "$CONTAINER_AGENT" "$DATASET_AGENT"; do
    remove_container "$name"
  done
}

"$ACTION"
