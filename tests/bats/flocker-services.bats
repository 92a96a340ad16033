#!/usr/bin/env bats
# scripts/flocker-services.sh

load helpers

setup() {
  common_setup
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in agent.yml cluster.crt node.crt node.key plugin.crt plugin.key control-service.crt control-service.key; do
    echo "content of $f" >"$FS_ROOT/etc/flocker/$f"
  done
}

@test "control: enables and starts flocker-control, waits for 4523 and 4524" {
  stub_fail ss-not-listening 2
  run_script flocker-services control
  assert_success
  assert_mutations <<<"systemctl enable --now flocker-control"
  assert_equal "$(grep -cx 'ss -ltn' "$STUB_STATE/calls.log")" 3
  assert_stderr_contains "flocker-control is listening on 4523 and 4524"
}

@test "control: second run changes nothing" {
  run_script flocker-services control
  assert_success
  clear_logs
  run_script flocker-services control
  assert_success
  assert_no_mutations
}

@test "control: ports never open -> fails at the bound, pointing at the journal" {
  stub_fail ss-not-listening always
  run_script flocker-services control
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for flocker-control to listen on 4523/tcp and 4524/tcp: see 'journalctl -u flocker-control'"
}

@test "control: the unit failing to start is reported with where to look" {
  stub_fail systemctl-flocker-control always
  run_script flocker-services control
  assert_failure 1
  assert_stderr_contains "could not start flocker-control: see 'systemctl status flocker-control' and 'journalctl -u flocker-control'"
}

@test "agents: starts the three units and waits for the plugin socket" {
  run_script flocker-services agents
  assert_success
  assert_mutations <<'EOF2'
systemctl enable --now flocker-dataset-agent
systemctl enable --now flocker-container-agent
systemctl enable --now flocker-docker-plugin
EOF2
  [[ -S "$FS_ROOT/run/docker/plugins/flocker/flocker.sock" ]]
}

@test "agents: only the units not yet running are started; second run changes nothing" {
  stub_set systemd/flocker-dataset-agent "enabled active"
  stub_set systemd/flocker-container-agent "enabled"
  run_script flocker-services agents
  assert_success
  assert_mutations <<'EOF2'
systemctl enable --now flocker-container-agent
systemctl enable --now flocker-docker-plugin
EOF2
  clear_logs
  run_script flocker-services agents
  assert_success
  assert_no_mutations
}

@test "agents: plugin socket never appears -> fails at the bound" {
  stub_fail plugin-socket always
  run_script flocker-services agents
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the Flocker Docker plugin socket /run/docker/plugins/flocker/flocker.sock"
}

@test "files missing: the flocker-files step must run first, nothing is started" {
  rm "$FS_ROOT/etc/flocker/agent.yml"
  run_script flocker-services agents
  assert_failure 1
  assert_stderr_contains "missing /etc/flocker/agent.yml: the flocker-files step must run first"
  rm "$FS_ROOT/etc/flocker/control-service.crt"
  run_script flocker-services control
  assert_failure 1
  assert_stderr_contains "missing /etc/flocker/control-service.crt: the flocker-files step must run first"
  assert_no_mutations
}

@test "no systemd: a clear error" {
  uninstall systemctl
  run_script flocker-services agents
  assert_failure 1
  assert_stderr_contains "systemctl not found: the Flocker steps support systemd hosts only"
}

@test "agents: changed files (a new CONFIG_DIGEST) restart the running units; the same digest again changes nothing" {
  export CONFIG_DIGEST=aaaa1111
  run_script flocker-services agents
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/flocker/.applied-agents")" aaaa1111
  clear_logs
  run_script flocker-services agents
  assert_success
  assert_no_mutations
  export CONFIG_DIGEST=bbbb2222
  run_script flocker-services agents
  assert_success
  assert_mutations <<'EOF2'
systemctl restart flocker-dataset-agent
systemctl restart flocker-container-agent
systemctl restart flocker-docker-plugin
EOF2
  assert_equal "$(cat "$FS_ROOT/etc/flocker/.applied-agents")" bbbb2222
  [[ "$(stat -c %a "$FS_ROOT/etc/flocker/.applied-agents")" == 600 ]]
}

@test "control: a unit the package already started before its files existed is restarted once" {
  stub_set systemd/flocker-control "enabled active"
  stub_set ss/ports "4523 4524"
  export CONFIG_DIGEST=cccc3333
  run_script flocker-services control
  assert_success
  assert_mutations <<<"systemctl restart flocker-control"
  clear_logs
  run_script flocker-services control
  assert_success
  assert_no_mutations
}

@test "a restart that fails is reported with where to look, and the digest is not recorded" {
  stub_set systemd/flocker-control "enabled active"
  stub_fail systemctl-flocker-control always
  export CONFIG_DIGEST=dddd4444
  run_script flocker-services control
  assert_failure 1
  assert_stderr_contains "could not restart flocker-control: see 'systemctl status flocker-control'"
  [[ ! -e "$FS_ROOT/etc/flocker/.applied-control" ]]
}

# ------------------------------------------------------------------------------------ containers
# container NAME RUNNING: a container of ClusterHQ's images (flockerInstall was containers)
container() {
  stub_set "docker/containers/$1.json" "{\"Name\": \"/$1\", \"State\": {\"Running\": $2}}"
}

@test "control: switching from containers stops and removes the control container, then starts the unit" {
  container flocker-control-service true
  # it holds the ports until it is stopped
  stub_set ss/ports "4523 4524"
  run_script flocker-services control
  assert_success
  assert_mutations <<'EOF2'
docker stop --time 30 flocker-control-service
docker rm flocker-control-service
systemctl enable --now flocker-control
EOF2
  [[ ! -e "$STUB_STATE/docker/containers/flocker-control-service.json" ]]
  assert_stderr_contains "removing the container flocker-control-service (Flocker run from ClusterHQ's images, flockerInstall=containers)"
  clear_logs
  run_script flocker-services control
  assert_no_mutations
}

@test "agents: switching from containers removes the three agent containers (a stopped one too), then starts the units" {
  container flocker-dataset-agent true
  container flocker-container-agent false
  container flocker-docker-plugin true
  run_script flocker-services agents
  assert_success
  assert_mutations <<'EOF2'
docker stop --time 30 flocker-docker-plugin
docker rm flocker-docker-plugin
docker stop --time 30 flocker-container-agent
docker rm flocker-container-agent
docker stop --time 30 flocker-dataset-agent
docker rm flocker-dataset-agent
systemctl enable --now flocker-dataset-agent
systemctl enable --now flocker-container-agent
systemctl enable --now flocker-docker-plugin
EOF2
  clear_logs
  run_script flocker-services agents
  assert_no_mutations
}

@test "a node without Docker has no containers to remove" {
  uninstall docker
  run_script flocker-services control
  assert_success
  assert_mutations <<<"systemctl enable --now flocker-control"
}
