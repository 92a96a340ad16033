#!/usr/bin/env bash
# flocker-status.sh: what the book looked at with `flockerctl status` and `flockerctl list` — the
# nodes the control service knows and its datasets — as one JSON document on stdout (the stack
# output flockerStatus). It first waits (bounded) until every address in EXPECTED_ADDRESSES is
# among the nodes: a node appears once its dataset agent has connected to the control service.
#
# stdout, one line:
#   {"nodes": [{"uuid", "address"}],
#    "datasets": [{"datasetId", "name", "sizeGiB", "profile", "status", "address"}]}
# status is attached (mounted on the node at address), detached (exists, on no node) or pending
# (configured, not yet there); deleted datasets are left out. Sorted, so that the same cluster
# always prints the same document.
#
# Environment: FLOCKER_CONTROL_HOST, EXPECTED_ADDRESSES (space-separated private addresses),
# FLOCKER_ETC, FLOCKER_API_PORT, FLOCKER_AGENT_PORT, WAIT_TIMEOUT (300), WAIT_INTERVAL, RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

require_env FLOCKER_CONTROL_HOST FLOCKER_API_PORT FLOCKER_AGENT_PORT
EXPECTED_ADDRESSES=${EXPECTED_ADDRESSES:-}
require_env FLOCKER_ETC
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
require_cmd curl "the install-docker step installs it"
require_cmd jq "the install-docker step installs it"
for f in cluster.crt plugin.crt plugin.key; do
  [[ -s "$(path "$FLOCKER_ETC/$f")" ]] || die "missing $FLOCKER_ETC/$f: the flocker-files step must run first, then re-run pulumi up"
done

NODES=""
MISSING=""
# every_node_known: the control service lists every expected address (NODES keeps its answer).
every_node_known() {
  local missing
  NODES=$(flocker_api GET /v1/state/nodes) || return 1
  missing=$(jq -r --arg want "$EXPECTED_ADDRESSES" \
    '(map(.host)) as $have | $want | split(" ") | map(select(. != "" and (. as $a | $have | map(select(. == $a)) | length) == 0)) | join(" ")' <<<"$NODES") || return 1
  if [[ "$missing" != "$MISSING" ]]; then
    MISSING=$missing
    [[ -z "$missing" ]] || log "nodes not yet known to the control service: $missing"
  fi
  [[ -z "$missing" ]]
}

WAIT_HINT="the nodes logged above have not reported: see 'docker logs flocker-dataset-agent' (or 'journalctl -u flocker-dataset-agent' with Flocker's packages) on each; they need the control service's port $FLOCKER_AGENT_PORT/tcp and their node certificate" \
  wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "every node to be known to the Flocker control service" every_node_known

config=$(flocker_api_retry GET /v1/configuration/datasets) ||
  die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer GET /v1/configuration/datasets after $RETRY_ATTEMPTS attempts"
state=$(flocker_api_retry GET /v1/state/datasets) ||
  die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer GET /v1/state/datasets after $RETRY_ATTEMPTS attempts"

jq -cn --argjson nodes "$NODES" --argjson config "$config" --argjson state "$state" '
  (reduce $nodes[] as $n ({}; .[$n.uuid] = $n.host)) as $address
  | {
      nodes: ($nodes | map({uuid, address: .host}) | sort_by(.address)),
      datasets: ($config
        | map(select((.deleted // false) | not))
        | map(. as $c
            | ([$state[] | select(.dataset_id == $c.dataset_id)] | first) as $s
            | {
                datasetId: .dataset_id,
                name: (.metadata.name // null),
                sizeGiB: (if .maximum_size then (.maximum_size / 1073741824 | floor) else null end),
                profile: (.metadata["clusterhq:flocker:profile"] // null),
                status: (if $s == null then "pending" elif ($s.primary // null) != null and ($s.path // null) != null then "attached" else "detached" end),
                address: (if $s != null then $address[$s.primary // ""] else $address[$c.primary // ""] end)
              })
        | sort_by(.name, .datasetId))
    }' || die "unexpected answer from the Flocker control service (the nodes or datasets are not the JSON lists of its API)"
