#!/usr/bin/env bats
# scripts/install-docker.sh

load helpers

DROPIN_REL=etc/systemd/system/docker.service.d/10-block-container-imds.conf

@test "happy path: installs, enables, waits for the daemon, blocks the metadata service" {
  run_script install-docker
  assert_success
  assert_output ""
  assert_mutations <<'EOF2'
apt-get update
apt-get install -y -o DPkg::Lock::Timeout=300 docker.io jq curl
systemctl enable --now docker
systemctl daemon-reload
iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT
EOF2
  assert_called "docker info"
  assert_equal "$(cat "$FS_ROOT/$DROPIN_REL")" "[Service]
ExecStartPost=/bin/sh -c 'iptables -C DOCKER-USER -d 169.254.169.254/32 -j REJECT 2>/dev/null || iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT'"
  assert_equal "$(stat -c %a "$FS_ROOT/$DROPIN_REL")" 644
  assert_equal "$(cat "$STUB_STATE/dpkg/docker.io")" "20.10.7-0ubuntu5~16.04.2"
}

@test "second run changes nothing" {
  run_script install-docker
  assert_success
  clear_logs
  run_script install-docker
  assert_success
  assert_no_mutations
  assert_called "iptables -C DOCKER-USER -d 169.254.169.254/32 -j REJECT"
}

@test "Docker already installed and running: only the metadata block is added" {
  installed docker.io 18.09.7-0ubuntu1~16.04.5
  installed jq 1.5
  installed curl 7.47
  stub_set systemd/docker "enabled active"
  run_script install-docker
  assert_success
  assert_mutations <<'EOF2'
systemctl daemon-reload
iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT
EOF2
}

@test "apt failing transiently is retried" {
  stub_fail apt-update 1
  run_script install-docker
  assert_success
  assert_mutations <<'EOF2'
apt-get update
apt-get update
apt-get install -y -o DPkg::Lock::Timeout=300 docker.io jq curl
systemctl enable --now docker
systemctl daemon-reload
iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT
EOF2
  assert_equal "$(cat "$STUB_STATE/sleep.log")" 2
}

@test "apt failing every time: gives up after RETRY_ATTEMPTS with what to check" {
  stub_fail apt-install always
  run_script install-docker
  assert_failure 1
  assert_stderr_contains "could not install docker.io jq curl after 3 attempts: check the node's outbound access"
  assert_equal "$(grep -c 'apt-get install' "$STUB_STATE/mutations.log")" 3
  refute_called_matching '^systemctl enable'
}

@test "a pinned DOCKER_VERSION replaces another installed version" {
  installed docker.io 18.09.7-0ubuntu1~16.04.5
  installed jq 1.5
  installed curl 7.47
  stub_set systemd/docker "enabled active"
  stub_set apt/archive "docker.io 18.09.7-0ubuntu1~16.04.5
docker.io 20.10.7-0ubuntu5~16.04.2"
  DOCKER_VERSION=20.10.7-0ubuntu5~16.04.2 run_script install-docker
  assert_success
  assert_called "apt-get install -y -o DPkg::Lock::Timeout=300 --allow-downgrades 'docker.io=20.10.7-0ubuntu5~16.04.2'"
  assert_equal "$(cat "$STUB_STATE/dpkg/docker.io")" "20.10.7-0ubuntu5~16.04.2"
}

@test "daemon slow to answer: bounded wait, then success" {
  stub_fail docker-daemon 3
  run_script install-docker
  assert_success
  assert_equal "$(grep -cx 'docker info' "$STUB_STATE/calls.log")" 4
}

@test "daemon never answers: fails at the bound saying what it waited for" {
  stub_fail docker-daemon always
  run_script install-docker
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the Docker daemon to answer 'docker info': see 'systemctl status docker'"
  refute_called_matching '^iptables -I'
}

@test "BLOCK_CONTAINER_IMDS=0 undoes the block an earlier run set up" {
  run_script install-docker
  assert_success
  clear_logs
  BLOCK_CONTAINER_IMDS=0 run_script install-docker
  assert_success
  assert_mutations <<'EOF2'
systemctl daemon-reload
iptables -D DOCKER-USER -d 169.254.169.254/32 -j REJECT
EOF2
  [[ ! -e "$FS_ROOT/$DROPIN_REL" ]]
  assert_stderr_contains "containers will be able to reach the instance metadata service"
}

@test "no systemd: a clear error before anything is installed" {
  uninstall systemctl
  run_script install-docker
  assert_failure 1
  assert_stderr_contains "'systemctl' is not installed on this node: this script needs systemd"
  assert_no_mutations
}
