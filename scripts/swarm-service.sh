#!/usr/bin/env bash
# swarm-service.sh create|delete: one replicated Swarm service, as the spec SERVICE_SPEC describes
# it (JSON written by components/swarmService.ts, so a new service needs no new script). The
# flags are the ones the book passes to `docker service create`, in this order: --name,
# --container-label, --network, --constraint, --publish, --replicas, --env, --mount, the image,
# then the container's command (args) when the spec gives one.
#
#   create  creates the service (detached) and waits (bounded) until its replicas run; an existing
#           service gets one `docker service update` with just the image/replicas/env that differ
#           (and one before it with --args when the spec's args differ from the service's).
#           A service this run created whose replicas do not all run within the bound is removed
#           again (as the delete removes it) before the step fails: Pulumi records no delete for a
#           failed create, and an orphan service would hold the network and the volume.
#           Network, constraints, ports and mounts are not updated in place: changing them needs a
#           replacement of the step.
#   delete  scales the service to 0, waits until its tasks have stopped (so Flocker can detach a
#           volume), removes it and waits until its tasks' containers are gone from their nodes;
#           an absent service, or no Docker, is fine.
#
# Environment: SERVICE_NAME; SERVICE_SPEC (create), a JSON object:
#   image (required), replicas (required, a whole number), network, containerLabels [],
#   constraints [], publish [{published, target}], env ["VAR=value"], mounts [docker --mount text],
#   args [the container command after the image, e.g. spark-class and its class; the image's
#   entrypoint stays]. Without args the image's own command runs and args are never compared.
# WAIT_TIMEOUT (300), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"
# shellcheck source-path=SCRIPTDIR source=lib/services.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/services.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env SERVICE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

# spec_field FILTER: one value per line; the spec is checked to hold no newline in any text first.
spec_field() { jq -r "$1" <<<"$SERVICE_SPEC"; }

check_spec() {
  jq -e 'type == "object"' <<<"$SERVICE_SPEC" >/dev/null 2>&1 || die "SERVICE_SPEC must be a JSON object, not '$SERVICE_SPEC'"
  local problem
  problem=$(jq -r '
    if (.image | type) != "string" or .image == "" then "image must be a non-empty text"
    elif (.replicas | type) != "number" or .replicas < 0 or .replicas != (.replicas | floor) then "replicas must be a whole number"
    elif ([.. | strings | select(test("\n"))] | length) > 0 then "no value may contain a line break"
    elif has("args") and (.args | type) != "array" then "args must be a list of texts"
    elif ([(.containerLabels, .constraints, .env, .mounts, .args) // [] | .[] | select(type != "string")] | length) > 0
      then "containerLabels, constraints, env, mounts and args must be lists of texts"
    elif ([.publish // [] | .[] | select((.published | type) != "number" or (.target | type) != "number")] | length) > 0
      then "publish must be a list of {published, target} port numbers"
    else empty end' <<<"$SERVICE_SPEC")
  [[ -z "$problem" ]] || die "SERVICE_SPEC of service $SERVICE_NAME: $problem"
}

# shlex_words WORD...: the words as one text that `docker service update --args` splits back into
# exactly these words (the CLI splits it with github.com/google/shlex, POSIX quoting): each in
# single quotes, a quote inside as '\''.
shlex_words() {
  local w out=()
  for w in "$@"; do out+=("'${w//\'/\'\\\'\'}'"); done
  printf '%s\n' "${out[*]-}"
}

# converge_args NAME: when the spec gives args, the service's container command made the same,
# with its own `docker service update --args` (services.sh's converge is shared by steps that have
# no args, and is left as it is). A spec without args never touches them.
converge_args() {
  local name=$1 have want
  spec_field 'has("args")' | grep -qx true || return 0
  have=$(docker_cli service inspect --format '{{json .Spec}}' "$name" | jq -c '.TaskTemplate.ContainerSpec.Args // []') ||
    die "cannot inspect service $name"
  want=$(jq -c '.args' <<<"$SERVICE_SPEC")
  [[ "$have" != "$want" ]] || return 0
  log "args: $have -> $want"
  docker_cli service update --detach --args "$(shlex_words ${cmd[@]+"${cmd[@]}"})" "$name" >/dev/null ||
    die "docker service update --args of $name failed: see 'docker service inspect $name' and 'docker service ps --no-trunc $name'"
}

create() {
  require_env SERVICE_SPEC
  require_cmd jq "the install-docker step installs it"
  check_spec
  require_manager
  IMAGE=$(spec_field .image)
  local replicas
  replicas=$(spec_field .replicas)
  local -a env=() flags=()
  mapfile -t env < <(spec_field '.env // [] | .[]')
  local -a cmd=()
  mapfile -t cmd < <(spec_field '.args // [] | .[]')
  if service_exists "$SERVICE_NAME"; then
    converge_args "$SERVICE_NAME"
    service_converge "$SERVICE_NAME" "$replicas" ${env[@]+"${env[@]}"}
    service_wait_running "$SERVICE_NAME" "$replicas"
  else
    mapfile -t flags < <(spec_field '
      (.containerLabels // [] | .[] | "--container-label", .),
      (select(.network != null) | "--network", .network),
      (.constraints // [] | .[] | "--constraint", .),
      (.publish // [] | .[] | "--publish", "\(.published):\(.target)"),
      "--replicas", (.replicas | tostring),
      (.env // [] | .[] | "--env", .),
      (.mounts // [] | .[] | "--mount", .)')
    log "creating service $SERVICE_NAME ($IMAGE, $replicas replica(s))"
    docker_cli service create --detach --name "$SERVICE_NAME" "${flags[@]}" "$IMAGE" ${cmd[@]+"${cmd[@]}"} >/dev/null ||
      die "docker service create $SERVICE_NAME failed: see the message above ('docker network ls' / 'docker volume ls' on the node it was placed on)"
    # The wait runs in a subshell, so that its timeout ends only the wait and the service it
    # would leave behind is removed before the step fails.
    if ! (service_wait_running "$SERVICE_NAME" "$replicas"); then
      log "removing service $SERVICE_NAME again: this step created it and it did not come up"
      (service_remove "$SERVICE_NAME") || warn "could not remove service $SERVICE_NAME: remove it with 'docker service rm $SERVICE_NAME' before the network or the volume"
      die "service $SERVICE_NAME did not run $replicas task(s) within ${WAIT_TIMEOUT}s and was removed again; see above why its tasks did not start, fix that, then re-run pulumi up"
    fi
  fi
  log "service $SERVICE_NAME is running $replicas task(s)"
}

case "$ACTION" in
  create) create ;;
  delete) service_remove "$SERVICE_NAME" ;;
esac
