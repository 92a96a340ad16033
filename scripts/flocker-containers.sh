#!/usr/bin/env bash
# flocker-containers.sh control|agents: Flocker run from ClusterHQ's images
# (flockerInstall=containers), as their "Running Flocker in Containers" page runs them, with the
# certificates and agent.yml the flocker-files step wrote to FLOCKER_ETC.
#
#   control  the control service, flocker-control-service, on the host network, its state
#            (/var/lib/flocker) bind-mounted from CONTROL_STATE_DIR on the control-state volume
#            (flocker-control-volume.sh mounts it), so that it outlives the container and the node
#            (the page used a data-volume container); waits until FLOCKER_API_PORT (REST API) and
#            FLOCKER_AGENT_PORT (agents) listen.
#   agents   flocker-dataset-agent (privileged: it attaches, formats and mounts EBS volumes under
#            /flocker, which propagates back to the host so that Docker can hand the mount to
#            containers), flocker-container-agent and flocker-docker-plugin; waits until the
#            plugin's socket (PLUGIN_SOCKET) exists.
#
# Each first stops and disables the units of Flocker's packages if a node has them enabled or
# running (flockerInstall switched from packages: they would hold the same ports and socket); the
# packages stay installed. Nothing removes these containers: the steps have no delete (a delete
# would run on the node itself, and block when it is unreachable; the node's termination removes
# them), and switching back to packages removes them in flocker-services.sh.
#
# Every container restarts with the Docker daemon (--restart always). Each carries two labels: a
# digest of how it is run (image reference, mounts, environment) and CONFIG_DIGEST, the digest of
# the files the flocker-files step wrote. A container whose labels differ, or whose image
# reference now names another local image, is replaced (a Flocker service reads its certificates
# and agent.yml only when it starts); a stopped one is started; anything else is left alone, so a
# second run changes nothing. Images are never pulled here: the images step pulls them first.
#
# Environment: CONTROL_IMAGE, CONTROL_STATE_DIR (control); DATASET_AGENT_IMAGE,
# CONTAINER_AGENT_IMAGE, PLUGIN_IMAGE, FLOCKER_CONTROL_HOST, NODE_ADDRESS (agents); CONFIG_DIGEST;
# FLOCKER_ETC, FLOCKER_API_PORT, FLOCKER_AGENT_PORT, PLUGIN_SOCKET; WAIT_TIMEOUT (180), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

expect_action "control|agents" "$@"
ACTION=$1
require_env FLOCKER_ETC FLOCKER_API_PORT FLOCKER_AGENT_PORT PLUGIN_SOCKET
WAIT_TIMEOUT=${WAIT_TIMEOUT:-180}
CONFIG_DIGEST=${CONFIG_DIGEST:-}
[[ "$CONFIG_DIGEST" =~ ^[0-9a-f]*$ ]] || die "CONFIG_DIGEST must be hexadecimal, not '$CONFIG_DIGEST'"

CONTROL=$FLOCKER_CONTROL_CONTAINER
DATASET_AGENT=flocker-dataset-agent
CONTAINER_AGENT=flocker-container-agent
PLUGIN=flocker-docker-plugin
SPEC_LABEL=swarm-flocker.spec
CONFIG_LABEL=swarm-flocker.config-digest
# The socket of Flocker 1.x's plugin; ClusterHQ's 2015 experimental plugin listened one level up.
# Docker finds either.
PLUGIN_SOCKETS=("$(path "$PLUGIN_SOCKET")" "$(path "${PLUGIN_SOCKET%/*}.sock")")

# require_docker: starting containers needs Docker and jq.
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

# ensure_container NAME IMAGE RUN-OPTION...: NAME runs IMAGE with these options and the current
# configuration — created, started or replaced as needed, untouched when it already does.
ensure_container() {
  local name=$1 image=$2 current want_id spec reason=""
  shift 2
  want_id=$(image_id "$image")
  spec=$(printf '%s\n' "$image" "$@" | sha256sum | cut -c1-16)
  if current=$(flocker_container_json "$name"); then
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
    flocker_container_stop_and_remove "$name"
  else
    log "starting $name ($image)"
  fi
  [[ "$name" != "$PLUGIN" ]] || clear_stale_plugin_sockets
  docker_cli run --detach --name "$name" --restart always \
    --label "$SPEC_LABEL=$spec" --label "$CONFIG_LABEL=$CONFIG_DIGEST" "$@" "$image" >/dev/null ||
    die "docker run of $name ($image) failed: see the message above and 'docker logs $name' on this node"
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

plugin_socket_exists() {
  local s
  for s in "${PLUGIN_SOCKETS[@]}"; do
    [[ -S "$s" ]] && return 0
  done
  return 1
}

control() {
  require_env CONTROL_IMAGE CONTROL_STATE_DIR
  require_docker
  require_files cluster.crt control-service.crt control-service.key
  [[ -d "$(path "$CONTROL_STATE_DIR")" ]] ||
    die "$CONTROL_STATE_DIR does not exist: the control-state volume is not mounted (the flocker-control-state-mount step mounts it; see its log), so the control service would start without the cluster's datasets"
  flocker_units_disable control
  if ! flocker_container_json "$CONTROL" >/dev/null && flocker_control_listens; then
    die "something else already listens on $FLOCKER_API_PORT/tcp and $FLOCKER_AGENT_PORT/tcp: find it with 'ss -ltnp' on this node, stop it, then re-run pulumi up"
  fi
  # --mount, not -v: a bind source that does not exist (the volume not mounted after a reboot)
  # keeps the container from starting instead of creating an empty state directory on the root disk.
  ensure_container "$CONTROL" "$CONTROL_IMAGE" --net host \
    -v "$FLOCKER_ETC:$FLOCKER_ETC" --mount "type=bind,source=$CONTROL_STATE_DIR,target=/var/lib/flocker"
  WAIT_HINT="see 'docker logs $CONTROL' on this node (a certificate that does not match cluster.crt is the usual cause)" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "$CONTROL to listen on $FLOCKER_API_PORT/tcp and $FLOCKER_AGENT_PORT/tcp" flocker_control_listens
  log "$CONTROL is listening on $FLOCKER_API_PORT and $FLOCKER_AGENT_PORT"
}

agents() {
  require_env DATASET_AGENT_IMAGE CONTAINER_AGENT_IMAGE PLUGIN_IMAGE FLOCKER_CONTROL_HOST NODE_ADDRESS
  require_docker
  require_files agent.yml cluster.crt node.crt node.key plugin.crt plugin.key
  flocker_units_disable agents
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

"$ACTION"
