#!/usr/bin/env bash
# flocker-plugin-activate.sh install|activate: keep offering Flocker's Docker plugin to the swarm
# after Docker restarts.
#
# Why: `flocker` is a legacy (socket) volume plugin. Docker loads such a plugin only when it is
# first used, and a swarm node describes to its managers only the plugins Docker has loaded. After
# a daemon restart the node therefore stops offering `flocker` until something uses it, and the
# scheduler will not place a task that mounts a flocker volume there (moby/moby#23619, #32480) —
# the Spark master could not move to, or come back on, that node. The known workaround: make
# Docker load the plugin after every start by listing volumes (that asks every volume driver it
# can find, the plugin's socket included); the swarm agent re-describes the node to the managers
# periodically (every 20 s in swarmkit), so the managers see the plugin again.
#
#   install   copies this script and lib/core.sh to /usr/local/lib/swarm-flocker/ (the unit
#             must not depend on the SSH user's copy), writes the systemd unit
#             flocker-plugin-activate.service — oneshot, bound to docker.service, started after it
#             every time it starts — and enables and starts it, which activates the plugin now.
#             A changed unit or script is reloaded and run again; a second run changes nothing.
#   activate  waits (bounded) for the plugin's socket, then lists volumes until `docker info`
#             lists flocker among the volume plugins (bounded); this is what the unit runs.
#
# Environment: PLUGIN_SOCKET (the plugin's socket), WAIT_TIMEOUT (300), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

expect_action "install|activate" "$@"
ACTION=$1
require_env PLUGIN_SOCKET
[[ "$PLUGIN_SOCKET" == /*.sock ]] || die "PLUGIN_SOCKET must be the absolute path of a socket, not '$PLUGIN_SOCKET'"
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
UNIT=flocker-plugin-activate
INSTALL_DIR=/usr/local/lib/swarm-flocker
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

plugin_loaded() {
  local plugins
  docker_cli volume ls -q >/dev/null 2>&1 || return 1
  plugins=$(docker_cli info --format '{{json .Plugins.Volume}}' 2>/dev/null) || return 1
  jq -e 'any(.[]?; . == "flocker")' <<<"$plugins" >/dev/null
}

activate() {
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  require_cmd jq "the install-docker step installs it"
  local socket
  socket=$(path "$PLUGIN_SOCKET")
  WAIT_HINT="the Flocker plugin is not running: see 'docker logs flocker-docker-plugin' (or 'journalctl -u flocker-docker-plugin' with Flocker's packages)" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the Flocker plugin's socket $PLUGIN_SOCKET" test -S "$socket"
  WAIT_HINT="'docker volume ls' should load it; see 'journalctl -u docker' for plugin errors" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "Docker to load the flocker volume plugin" plugin_loaded
  log "Docker offers the flocker volume plugin; the swarm's managers see it at the node's next description update"
}

unit_text() {
  cat <<EOF
# Written by swarm-flocker (flocker-plugin-activate.sh). Docker loads the legacy flocker volume
# plugin only on first use and a swarm node offers the managers only loaded plugins: load it after
# every start of Docker (moby/moby#23619, #32480).
[Unit]
Description=Load Flocker's Docker volume plugin so that the swarm can place flocker volumes here
After=docker.service
BindsTo=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
Environment=PLUGIN_SOCKET=$PLUGIN_SOCKET WAIT_TIMEOUT=$WAIT_TIMEOUT
ExecStart=/bin/bash $INSTALL_DIR/flocker-plugin-activate.sh activate
TimeoutStartSec=$((2 * WAIT_TIMEOUT + 60))

[Install]
WantedBy=docker.service
EOF
}

install() {
  command -v systemctl >/dev/null 2>&1 ||
    die "systemctl not found: the plugin activation needs a systemd host (Ubuntu 16.04 or later)"
  local changed=0 dir
  dir=$(path "$INSTALL_DIR")
  mkdir -p "$dir/lib" || die "cannot create $dir"
  write_if_changed "$dir/flocker-plugin-activate.sh" 755 <"$HERE/flocker-plugin-activate.sh" && changed=1
  write_if_changed "$dir/lib/core.sh" 644 <"$HERE/lib/core.sh" && changed=1
  write_if_changed "$(path "/etc/systemd/system/$UNIT.service")" 644 < <(unit_text) && changed=1
  if ((changed)); then
    log "the unit or its script changed: reloading systemd"
    systemctl daemon-reload >&2 || die "systemctl daemon-reload failed: see 'journalctl -xe'"
    if systemctl is-active --quiet "$UNIT" 2>/dev/null; then
      systemd_restart "$UNIT"
    fi
  fi
  systemd_ensure_running "$UNIT"
}

"$ACTION"
