#!/usr/bin/env bash
# flocker-services.sh control|agents: enable and start Flocker's systemd units, then wait until
# they serve.
#
#   control  flocker-control; waits until the REST API (FLOCKER_API_PORT) and the agent port (FLOCKER_AGENT_PORT)
#            listen.
#   agents   flocker-dataset-agent, flocker-container-agent, flocker-docker-plugin; waits until
#            the Docker plugin socket PLUGIN_SOCKET exists (Docker
#            discovers legacy plugins there on first use: no Docker restart is needed).
#
# Each first stops and removes ClusterHQ's containers of the same services if the node has them
# (flockerInstall switched from containers: they would hold the same ports and socket); their
# images and the control-state volume stay.
#
# A service reads its certificates and agent.yml only when it starts. CONFIG_DIGEST (optional) is
# a digest of the files the flocker-files step wrote for this node: when it differs from the one
# recorded after the last successful run (or none is recorded, e.g. the package's install already
# started a unit before its files existed), running units are restarted instead of left alone.
#
# Environment: FLOCKER_ETC, FLOCKER_API_PORT, FLOCKER_AGENT_PORT, PLUGIN_SOCKET, CONFIG_DIGEST, WAIT_TIMEOUT (180), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/flocker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flocker.sh"

expect_action "control|agents" "$@"
ACTION=$1
require_env FLOCKER_ETC FLOCKER_API_PORT FLOCKER_AGENT_PORT PLUGIN_SOCKET
WAIT_TIMEOUT=${WAIT_TIMEOUT:-180}

command -v systemctl >/dev/null 2>&1 ||
  die "systemctl not found: the Flocker steps support systemd hosts only (Ubuntu 16.04 or later); choose a systemd AMI"

# require_files NAME...: the flocker-files step writes them; nothing starts without them.
require_files() {
  local f missing=()
  for f in "$@"; do
    [[ -s "$(path "$FLOCKER_ETC/$f")" ]] || missing+=("$FLOCKER_ETC/$f")
  done
  ((${#missing[@]} == 0)) ||
    die "missing ${missing[*]}: the flocker-files step must run first (it writes the certificates and agent.yml), then re-run pulumi up"
}

APPLIED=$(path "$FLOCKER_ETC/.applied-$ACTION")
CONFIG_DIGEST=${CONFIG_DIGEST:-}
[[ "$CONFIG_DIGEST" =~ ^[0-9a-f]*$ ]] || die "CONFIG_DIGEST must be hexadecimal, not '$CONFIG_DIGEST'"
config_changed() { [[ -n "$CONFIG_DIGEST" && "$(cat "$APPLIED" 2>/dev/null)" != "$CONFIG_DIGEST" ]]; }

# bring_up UNIT: running with the current files — restarted if they changed, else started if needed.
bring_up() {
  local unit=$1
  if config_changed && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemd_restart "$unit"
  fi
  systemd_ensure_running "$unit"
}

# record_applied: remember which files the running services have read.
record_applied() {
  [[ -n "$CONFIG_DIGEST" ]] || return 0
  config_changed || return 0
  printf '%s\n' "$CONFIG_DIGEST" >"$APPLIED"
  chmod 600 "$APPLIED"
}

plugin_socket_exists() { [[ -S "$(path "$PLUGIN_SOCKET")" ]]; }

case "$ACTION" in
  control)
    require_files cluster.crt control-service.crt control-service.key
    flocker_containers_remove control
    bring_up flocker-control
    WAIT_HINT="see 'journalctl -u flocker-control' on this node (a certificate that does not match cluster.crt is the usual cause)" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "flocker-control to listen on $FLOCKER_API_PORT/tcp and $FLOCKER_AGENT_PORT/tcp" flocker_control_listens
    record_applied
    log "flocker-control is listening on $FLOCKER_API_PORT and $FLOCKER_AGENT_PORT"
    ;;
  agents)
    require_files agent.yml cluster.crt node.crt node.key plugin.crt plugin.key
    flocker_containers_remove agents
    for unit in flocker-dataset-agent flocker-container-agent flocker-docker-plugin; do
      bring_up "$unit"
    done
    WAIT_HINT="see 'journalctl -u flocker-docker-plugin' on this node; the plugin needs the control service ($FLOCKER_API_PORT/tcp) to be reachable" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the Flocker Docker plugin socket $PLUGIN_SOCKET" plugin_socket_exists
    record_applied
    log "the Flocker agents and Docker plugin are running"
    ;;
esac
