# shellcheck shell=bash
# Flocker's control service: its ports listening and its REST API; which units or containers run
# Flocker's services, and stopping them (the flocker-*.sh steps). Sourced after core.sh, never
# executed.

# ---------------------------------------------------------------------------------------------
# Flocker's control service (flocker-volume.sh, flocker-test.sh, flocker-status.sh,
# flocker-containers.sh). Callers set FLOCKER_CONTROL_HOST, FLOCKER_ETC and the ports,
# FLOCKER_API_PORT and FLOCKER_AGENT_PORT (lib/ports.ts). Calls authenticate as the plugin user,
# whose certificate every node has.

# flocker_control_listens: one `ss -ltn`, both ports in its local-address column (*:PORT, [::]:PORT…).
flocker_control_listens() {
  local listening
  listening=$(ss -ltn) || return 1
  awk -v api="$FLOCKER_API_PORT" -v agent="$FLOCKER_AGENT_PORT" \
    '{ n = split($4, a, ":"); seen[a[n]] = 1 } END { exit !(seen[api] && seen[agent]) }' <<<"$listening"
}

# flocker_orphan_hint: how to find an EBS volume Flocker may have left behind.
flocker_orphan_hint() {
  printf '%s' "its EBS volume may be left behind: find it with 'aws ec2 describe-volumes --filters Name=tag-key,Values=flocker-dataset-id' (Flocker names its volumes Name=flocker-<dataset id>) and delete it once detached"
}

# flocker_api METHOD PATH: one call, the body on stdout. The certificate is checked against the
# name every Flocker client uses, control-service (mandatory in its SAN), mapped to the control
# host's address.
flocker_api() {
  local method=$1 api_path=$2 etc
  etc=$(path "$FLOCKER_ETC")
  local -a target=(--url "https://$FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT$api_path")
  if [[ "$FLOCKER_CONTROL_HOST" =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
    target=(--resolve "control-service:$FLOCKER_API_PORT:$FLOCKER_CONTROL_HOST" --url "https://control-service:$FLOCKER_API_PORT$api_path")
  fi
  curl --silent --show-error --fail --max-time "${CURL_MAX_TIME:-30}" --connect-timeout 10 \
    --cacert "$etc/cluster.crt" --cert "$etc/plugin.crt" --key "$etc/plugin.key" \
    -X "$method" "${target[@]}"
}

# flocker_api_retry METHOD PATH: flocker_api with bounded retries; prints the body.
flocker_api_retry() {
  local body
  _flocker_api_call() { body=$(flocker_api "$@") || return 1; }
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _flocker_api_call "$@" || return 1
  printf '%s\n' "$body"
}

# flocker_dataset_gone ID: the cluster state no longer lists dataset ID.
flocker_dataset_gone() {
  local state
  state=$(flocker_api GET /v1/state/datasets) || return 1
  jq -e --arg id "$1" 'map(select(.dataset_id == $id)) | length == 0' <<<"$state" >/dev/null
}

# flocker_delete_datasets_named NAME: delete, through the control service, every dataset whose
# metadata name is NAME (the name Docker's plugin gave it), then wait — at most WAIT_TIMEOUT
# seconds each — until Flocker has deleted it and its EBS volume. Docker's `volume rm` never does
# this: the plugin leaves the dataset alone. Dies with how to find a left-over volume.
flocker_delete_datasets_named() {
  local name=$1 datasets ids id
  datasets=$(flocker_api_retry GET /v1/configuration/datasets) ||
    die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer after $RETRY_ATTEMPTS attempts, so the dataset of volume $name was not deleted and $(flocker_orphan_hint). Start the control service and re-run, or let a destroy go on with 'pulumi destroy --continue-on-error'"
  ids=$(jq -r --arg n "$name" '.[] | select((.deleted // false) == false and (.metadata.name // "") == $n) | .dataset_id' <<<"$datasets") ||
    die "unexpected answer from the Flocker control service (GET /v1/configuration/datasets)"
  if [[ -z "$ids" ]]; then
    log "Flocker has no dataset named $name: nothing to delete"
    return 0
  fi
  for id in $ids; do
    log "deleting Flocker dataset $id ($name)"
    flocker_api_retry DELETE "/v1/configuration/datasets/$id" >/dev/null ||
      die "could not delete Flocker dataset $id ($name): $(flocker_orphan_hint)"
    WAIT_HINT="the dataset agent holding it may be down (see 'docker logs flocker-dataset-agent' or 'journalctl -u flocker-dataset-agent' on the node that had it); Flocker deletes it once that agent runs, otherwise $(flocker_orphan_hint)" \
      wait_for "${WAIT_TIMEOUT:-300}" "$WAIT_INTERVAL" "Flocker to delete dataset $id and its EBS volume" flocker_dataset_gone "$id"
    log "dataset $id is deleted"
  done
}

# ---------------------------------------------------------------------------------------------
# Who runs Flocker's services on a node: the packages' systemd units or ClusterHQ's containers
# (flockerInstall). Switching modes re-runs the services steps' create, which first stops what the
# other mode left running (flocker-services.sh, flocker-containers.sh); the control-state step
# stops the control service before its state moves (flocker-control-volume.sh).

FLOCKER_CONTROL_UNIT=flocker-control
FLOCKER_AGENT_UNITS=(flocker-dataset-agent flocker-container-agent flocker-docker-plugin)
FLOCKER_CONTROL_CONTAINER=flocker-control-service
# The plugin first, the dataset agent last: each stops before what it depends on.
FLOCKER_AGENT_CONTAINERS=(flocker-docker-plugin flocker-container-agent flocker-dataset-agent)

# flocker_container_json NAME: `docker inspect` of the container; fails when there is none.
flocker_container_json() { docker_cli inspect --type container --format '{{json .}}' "$1" 2>/dev/null; }

# flocker_container_running NAME: the container exists and runs.
flocker_container_running() {
  [[ "$(docker_cli inspect --type container --format '{{.State.Running}}' "$1" 2>/dev/null)" == true ]]
}

# flocker_container_stop_and_remove NAME: a graceful stop first, so that a service finishes what
# it is doing (an agent may be attaching a volume) and removes its socket, then the removal.
flocker_container_stop_and_remove() {
  docker_cli stop --time 30 "$1" >/dev/null || die "could not stop $1: see 'docker inspect $1' on this node"
  docker_cli rm "$1" >/dev/null || die "could not remove $1: see 'docker inspect $1' on this node"
}

# flocker_containers_remove control|agents: the role's containers gone, whether they ran or not; a
# node without Docker has none.
flocker_containers_remove() {
  local name
  local -a names=("$FLOCKER_CONTROL_CONTAINER")
  [[ "$1" == control ]] || names=("${FLOCKER_AGENT_CONTAINERS[@]}")
  docker_installed || return 0
  for name in "${names[@]}"; do
    flocker_container_json "$name" >/dev/null || continue
    log "removing the container $name (Flocker run from ClusterHQ's images, flockerInstall=containers)"
    flocker_container_stop_and_remove "$name"
  done
}

# flocker_units_disable control|agents: the role's units of Flocker's packages stopped and
# disabled, each if it is enabled or running; a node without systemd or the unit has none to stop.
flocker_units_disable() {
  local unit
  local -a units=("$FLOCKER_CONTROL_UNIT")
  [[ "$1" == control ]] || units=("${FLOCKER_AGENT_UNITS[@]}")
  command -v systemctl >/dev/null 2>&1 || return 0
  for unit in "${units[@]}"; do
    systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit" 2>/dev/null || continue
    log "stopping and disabling $unit (Flocker's packages, flockerInstall=packages)"
    systemctl disable --now "$unit" >&2 ||
      die "could not stop $unit: see 'systemctl status $unit' on this node, stop it by hand ('systemctl disable --now $unit'), then re-run pulumi up"
  done
}

# flocker_control_stop: the control service stopped, however it runs (unit or container), so that
# its state can move; the control step starts it again. Nothing is disabled or removed.
flocker_control_stop() {
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$FLOCKER_CONTROL_UNIT" 2>/dev/null; then
    log "stopping $FLOCKER_CONTROL_UNIT while its state moves"
    systemctl stop "$FLOCKER_CONTROL_UNIT" >&2 || die "could not stop $FLOCKER_CONTROL_UNIT: see 'systemctl status $FLOCKER_CONTROL_UNIT' on this node"
  fi
  if docker_installed && flocker_container_running "$FLOCKER_CONTROL_CONTAINER"; then
    log "stopping the container $FLOCKER_CONTROL_CONTAINER while its state moves"
    docker_cli stop --time 30 "$FLOCKER_CONTROL_CONTAINER" >/dev/null ||
      die "could not stop $FLOCKER_CONTROL_CONTAINER: see 'docker inspect $FLOCKER_CONTROL_CONTAINER' on this node"
  fi
}
