# shellcheck shell=bash
# Swarm services: converge, wait and remove (swarm-service.sh). Needs swarm.sh, sourced before.
# Sourced after core.sh, never executed.

# ---------------------------------------------------------------------------------------------
# Swarm services (swarm-service.sh).

# image_key REF: REF without a digest, with the implicit registry and :latest made explicit in
# Docker's familiar form, so that "img" matches the "img:latest@sha256:…" a service spec stores.
image_key() {
  local ref=${1%%@*} last
  ref=${ref#docker.io/}
  ref=${ref#index.docker.io/}
  ref=${ref#library/}
  last=${ref##*/}
  [[ "$last" == *:* ]] || ref="$ref:latest"
  printf '%s\n' "$ref"
}

# image_matches WANTED CURRENT: same repository and tag; same digest too when WANTED pins one.
image_matches() {
  [[ "$(image_key "$1")" == "$(image_key "$2")" ]] || return 1
  [[ "$1" != *@* ]] || [[ "${1#*@}" == "${2#*@}" ]]
}

# service_exists NAME
service_exists() { docker_cli service inspect "$1" >/dev/null 2>&1; }

# service_running_tasks NAME: number of tasks that should run and do.
service_running_tasks() {
  local states
  states=$(docker_cli service ps "$1" --filter desired-state=running --format '{{.CurrentState}}') || return 1
  grep -c '^Running' <<<"$states" || true
}

# service_converge NAME REPLICAS ENV...: bring an existing service to IMAGE/REPLICAS/ENV with one
# `docker service update` carrying only what differs; nothing when all match. (jq 1.5: no --args.)
service_converge() {
  local name=$1 replicas=$2 spec i
  shift 2
  local -a args=() fields=()
  spec=$(docker_cli service inspect --format '{{json .Spec}}' "$name") || die "cannot inspect service $name"
  # line 1: image, line 2: replicas, then every wanted VAR=value the service does not have
  mapfile -t fields < <(jq -r --arg want "$(printf '%s\n' "$@")" '
    ((.TaskTemplate.ContainerSpec.Env // []) as $have
      | (.TaskTemplate.ContainerSpec.Image // ""),
        ((.Mode.Replicated.Replicas // "") | tostring),
        ($want | split("\n")[] | select(. != "") | select(. as $e | ($have | map(select(. == $e)) | length) == 0)))' <<<"$spec")
  ((${#fields[@]} >= 2)) || die "cannot read the spec of service $name"
  if ! image_matches "$IMAGE" "${fields[0]}"; then
    log "image: ${fields[0]} -> $IMAGE"
    args+=(--image "$IMAGE")
  fi
  if [[ "${fields[1]}" != "$replicas" ]]; then
    log "replicas: ${fields[1]:-none} -> $replicas"
    args+=(--replicas "$replicas")
  fi
  for ((i = 2; i < ${#fields[@]}; i++)); do
    log "env: set ${fields[i]%%=*}"
    args+=(--env-add "${fields[i]}")
  done
  if ((${#args[@]} == 0)); then
    log "service $name is up to date"
    return 0
  fi
  docker_cli service update --detach "${args[@]}" "$name" >/dev/null || die "docker service update of $name failed: see 'docker service inspect $name' and 'docker service ps --no-trunc $name'"
}

# service_wait_running NAME REPLICAS: bounded wait until REPLICAS tasks run.
service_wait_running() {
  local name=$1 replicas=$2
  _tasks_running() { [[ "$(service_running_tasks "$name")" == "$replicas" ]]; }
  WAIT_HINT="see why with 'docker service ps --no-trunc $name' on a manager (image pull, placement constraint, volume plugin), fix it, then re-run pulumi up" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "$replicas running task(s) of service $name" _tasks_running
}

# service_tasks_left ID NAME: true while a task of the service (ID, or NAME while it exists) is
# still listed on a Ready node. After `docker service rm` a task stays listed, its container still
# on its node, until that node's agent has removed the container (a real engine: about a second
# after a stopped task, the stop timeout after a running one). Tasks on a node that is not Ready
# are left out: no agent is there to report them. A real engine shows a replaced manager's old
# entry as Unknown, not Down, for a while: waiting for it hung the teardown until the bound.
service_tasks_left() {
  local id=$1 name=$2 rows nodes names
  rows=$(docker_cli node ls --format '{{.ID}} {{.Status}}') || return 0
  mapfile -t nodes < <(awk '$2 == "Ready" { print $1 }' <<<"$rows")
  ((${#nodes[@]} > 0)) || return 1
  names=$(docker_cli node ps "${nodes[@]}" --format '{{.Name}}') || return 0
  grep -qE "^(${id}|${name})\." <<<"$names"
}

# service_remove NAME: scale to zero and wait until no task is left running (so a Flocker volume
# is released), remove the service, then wait until its tasks' containers are gone from their
# nodes (so the volume's delete, which Pulumi starts right after, finds no container using it, and
# the network's delete no endpoint). Tolerates a service that is already gone.
service_remove() {
  local name=$1
  if ! docker_installed; then
    log "docker is not installed: no service to remove"
    return 0
  fi
  local state
  state=$(swarm_state) || die "the Docker daemon does not answer 'docker info': start it ('systemctl start docker') and re-run the destroy"
  if [[ "$state" == inactive ]]; then
    warn "this node is not in a swarm any more: service $name went with the swarm, nothing to remove"
    return 0
  fi
  if [[ "$state" != active ]] || ! swarm_is_manager; then
    die "this node is not an active swarm manager (state: $state): cannot remove service $name from here"
  fi
  local err
  if ! err=$(docker_cli service inspect "$name" 2>&1 >/dev/null); then
    if [[ "${err,,}" == *"no such service"* || "${err,,}" == *"not found"* ]]; then
      log "service $name does not exist: nothing to do"
      return 0
    fi
    swarm_api_die "inspecting service $name" "$err"
  fi
  local spec id
  spec=$(docker_cli service inspect --format '{{json .Spec}}' "$name" 2>/dev/null) || spec='{}'
  id=$(docker_cli service inspect --format '{{.ID}}' "$name" 2>/dev/null) || id=$name
  if jq -e '.Mode.Replicated != null' <<<"$spec" >/dev/null; then
    log "scaling service $name to 0"
    if ! docker_cli service update --detach --replicas 0 "$name" >/dev/null; then
      service_exists "$name" || return 0
      die "could not scale service $name to 0: see 'docker service inspect $name'"
    fi
    _tasks_stopped() {
      local states
      states=$(docker_cli service ps "$name" --format '{{.CurrentState}}' 2>/dev/null) || return 0
      ! grep -Eq '^(New|Allocated|Pending|Assigned|Accepted|Preparing|Ready|Starting|Running)' <<<"$states"
    }
    WAIT_HINT="see 'docker service ps --no-trunc $name'; a task stuck on a dead node can be cleared by removing that node" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the tasks of service $name to stop" _tasks_stopped
  fi
  log "removing service $name"
  if ! docker_cli service rm "$name" >/dev/null; then
    service_exists "$name" || return 0
    die "docker service rm $name failed: see 'docker service inspect $name'"
  fi
  _containers_gone() { ! service_tasks_left "$id" "$name"; }
  WAIT_HINT="'docker node ps \$(docker node ls -q)' on a manager lists what is left (tasks named $id.<slot>); their nodes' agents remove the containers" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the containers of service $name's tasks to be removed from their nodes" _containers_gone
  log "service $name and its tasks' containers are gone"
}
