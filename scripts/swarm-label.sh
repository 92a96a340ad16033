#!/usr/bin/env bash
# swarm-label.sh add|remove: set or remove the node label LABEL_KEY(=LABEL_VALUE) on the node(s)
# whose hostname is NODE_NAME (the book: `docker node update --label-add type=sparkmaster
# aws-105`). Runs on a manager; only updates what differs.
#
# Environment: NODE_NAME, LABEL_KEY, LABEL_VALUE (add).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

expect_action "add|remove" "$@"
ACTION=$1
require_env NODE_NAME LABEL_KEY
[[ "$ACTION" == remove ]] || require_env LABEL_VALUE
[[ "$LABEL_KEY" =~ ^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$ ]] || die "LABEL_KEY '$LABEL_KEY' is not a valid label key"
require_cmd jq "the install-docker step installs it"

# label_of ID: "absent", or "=<value>".
label_of() {
  local labels
  labels=$(docker_cli node inspect -f '{{ json .Spec.Labels }}' "$1" 2>/dev/null) || return 1
  jq -r --arg k "$LABEL_KEY" 'if type == "object" and has($k) then "=" + .[$k] else "absent" end' <<<"$labels"
}

if [[ "$ACTION" == remove ]]; then
  docker_installed || { log "docker is not installed here: nothing to remove"; exit 0; }
  state=$(swarm_state) || die "the Docker daemon does not answer 'docker info' on this manager: start it and re-run the destroy"
  [[ "$state" != inactive ]] || { warn "this manager is not in a swarm any more (the swarm is gone): no label to remove"; exit 0; }
fi
require_manager
swarm_read rows docker_cli node ls --filter "name=$NODE_NAME" --format '{{.ID}} {{.Hostname}} {{.Status}}'
ids=$(awk -v n="$NODE_NAME" '$2 == n { print $1 }' <<<"$rows")
if [[ -z "$ids" ]]; then
  [[ "$ACTION" == remove ]] && { log "no node named $NODE_NAME: nothing to remove"; exit 0; }
  die "no node named $NODE_NAME in the swarm: its swarm-join step must run first (and its hostname must be $NODE_NAME: see wait-boot)"
fi

for id in $ids; do
  if ! current=$(label_of "$id"); then
    [[ "$ACTION" == remove ]] && { log "node $id is gone"; continue; }
    die "cannot inspect node $id ($NODE_NAME)"
  fi
  if [[ "$ACTION" == add ]]; then
    if [[ "$current" == "=$LABEL_VALUE" ]]; then
      log "$NODE_NAME ($id) already has $LABEL_KEY=$LABEL_VALUE"
    else
      log "labelling $NODE_NAME ($id) with $LABEL_KEY=$LABEL_VALUE"
      docker_cli node update --label-add "$LABEL_KEY=$LABEL_VALUE" "$id" >/dev/null || die "docker node update --label-add failed for $NODE_NAME ($id)"
    fi
  elif [[ "$current" != absent ]]; then
    log "removing label $LABEL_KEY from $NODE_NAME ($id)"
    docker_cli node update --label-rm "$LABEL_KEY" "$id" >/dev/null || ! docker_cli node inspect "$id" >/dev/null 2>&1 || die "docker node update --label-rm failed for $NODE_NAME ($id)"
  else
    log "$NODE_NAME ($id) has no label $LABEL_KEY"
  fi
done
