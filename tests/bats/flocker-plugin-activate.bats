#!/usr/bin/env bats
# scripts/flocker-plugin-activate.sh: a node keeps offering the flocker plugin to the swarm after
# Docker restarts (moby/moby#23619, #32480).
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

SOCK=/run/docker/plugins/flocker/flocker.sock
UNIT_FILE=/etc/systemd/system/flocker-plugin-activate.service

setup() {
  common_setup
  export PLUGIN_SOCKET=$SOCK
}

# the plugin is running: its socket exists
plugin_running() {
  mkdir -p "$FS_ROOT/run/docker/plugins/flocker"
  perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die "$!\n"' "$FS_ROOT$SOCK"
}

# a Docker restart: the daemon forgets the legacy plugins it had loaded
docker_restarted() { rm -f "$STUB_STATE/docker/plugin-activated"; }

@test "activate: after a Docker restart, volumes are listed so that Docker loads the plugin again" {
  plugin_running
  docker_restarted
  run docker info --format '{{json .Plugins.Volume}}'
  assert_output '["local"]'
  run_script flocker-plugin-activate activate
  assert_success
  assert_stderr_contains "Docker offers the flocker volume plugin"
  assert_called "docker volume ls -q"
  run docker info --format '{{json .Plugins.Volume}}'
  assert_output '["local","flocker"]'
}

@test "activate: waits (bounded) for the plugin's socket, then says what to check" {
  run_script flocker-plugin-activate activate
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the Flocker plugin's socket $SOCK: the Flocker plugin is not running"
  refute_called_matching '^docker volume ls'
}

@test "activate: a socket appearing late is waited for" {
  # the socket shows up while the script sleeps between polls (bin/sleep is a link to the shared
  # stub: replace the link, never write through it)
  rm -f "$BIN/sleep"
  cat >"$BIN/sleep" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$STUB_STATE/sleep.log"
[[ -S "$FS_ROOT$SOCK" ]] || perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => \$ARGV[0], Listen => 1) or die' "$FS_ROOT$SOCK"
EOF
  chmod +x "$BIN/sleep"
  mkdir -p "$FS_ROOT/run/docker/plugins/flocker"
  run_script flocker-plugin-activate activate
  assert_success
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 1
}

@test "install: unit bound to docker.service and started after each start of it; enabled and run; second run changes nothing" {
  plugin_running
  run_script flocker-plugin-activate install
  assert_success
  assert_mutations <<'EOF2'
systemctl daemon-reload
systemctl enable --now flocker-plugin-activate
EOF2
  local unit=$FS_ROOT$UNIT_FILE
  grep -qx 'After=docker.service' "$unit"
  grep -qx 'BindsTo=docker.service' "$unit"
  grep -qx 'WantedBy=docker.service' "$unit"
  grep -qx 'Type=oneshot' "$unit"
  grep -qx 'RemainAfterExit=yes' "$unit"
  grep -qx "Environment=PLUGIN_SOCKET=$SOCK WAIT_TIMEOUT=5" "$unit"
  grep -qx 'ExecStart=/bin/bash /usr/local/lib/swarm-flocker/flocker-plugin-activate.sh activate' "$unit"
  grep -qx 'TimeoutStartSec=70' "$unit"
  # the unit runs its own copies, not the SSH user's
  cmp "$SCRIPTS/flocker-plugin-activate.sh" "$FS_ROOT/usr/local/lib/swarm-flocker/flocker-plugin-activate.sh"
  cmp "$SCRIPTS/lib/core.sh" "$FS_ROOT/usr/local/lib/swarm-flocker/lib/core.sh"
  assert_equal "$(stat -c %a "$unit")" 644
  clear_logs
  run_script flocker-plugin-activate install
  assert_success
  assert_no_mutations
}

@test "install: a changed unit is reloaded and run again" {
  run_script flocker-plugin-activate install
  clear_logs
  WAIT_TIMEOUT=120 run_script flocker-plugin-activate install
  assert_success
  assert_mutations <<'EOF2'
systemctl daemon-reload
systemctl restart flocker-plugin-activate
EOF2
  grep -qx 'TimeoutStartSec=300' "$FS_ROOT$UNIT_FILE"
}

@test "install: the unit fails to start -> error naming the unit" {
  stub_fail systemctl-flocker-plugin-activate 1
  run_script flocker-plugin-activate install
  assert_failure 1
  assert_stderr_contains "could not start flocker-plugin-activate: see 'systemctl status flocker-plugin-activate'"
}

@test "the copied script runs on its own, as the unit runs it" {
  plugin_running
  run_script flocker-plugin-activate install
  docker_restarted
  run --separate-stderr bash "$FS_ROOT/usr/local/lib/swarm-flocker/flocker-plugin-activate.sh" activate
  assert_success
  run docker info --format '{{json .Plugins.Volume}}'
  assert_output '["local","flocker"]'
}
