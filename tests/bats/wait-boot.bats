#!/usr/bin/env bats
# scripts/wait-boot.sh

load helpers

setup() {
  common_setup
  export NODE_NAME=aws-105
  mkdir -p "$FS_ROOT/var/lib/dpkg" "$FS_ROOT/var/lib/apt/lists" "$FS_ROOT/etc/cloud/cloud.cfg.d"
  touch "$FS_ROOT/var/lib/dpkg/lock-frontend" "$FS_ROOT/var/lib/dpkg/lock" "$FS_ROOT/var/lib/apt/lists/lock"
  printf '127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback' >"$FS_ROOT/etc/hosts" # no final newline
}

@test "happy path: waits for cloud-init, checks the apt locks, sets the hostname, says ready" {
  run_script wait-boot
  assert_success
  assert_output "boot: ready"
  assert_equal "$(cat "$STUB_STATE/calls.log")" "timeout --foreground --kill-after=10 5 cloud-init status --wait
cloud-init status --wait
fuser $FS_ROOT/var/lib/dpkg/lock-frontend
fuser $FS_ROOT/var/lib/dpkg/lock
fuser $FS_ROOT/var/lib/apt/lists/lock
hostname
hostnamectl set-hostname aws-105"
  assert_mutations <<<"hostnamectl set-hostname aws-105"
  assert_equal "$(cat "$FS_ROOT/etc/hosts")" $'127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n127.0.1.1 aws-105'
  assert_equal "$(cat "$FS_ROOT/etc/cloud/cloud.cfg.d/99-swarm-flocker-hostname.cfg")" \
    $'# Written by wait-boot.sh: Swarm and Flocker address this node by its hostname.\npreserve_hostname: true'
}

@test "second run changes nothing" {
  run_script wait-boot
  assert_success
  cp "$FS_ROOT/etc/hosts" "$BATS_TEST_TMPDIR/hosts.1"
  clear_logs
  run_script wait-boot
  assert_success
  assert_output "boot: ready"
  assert_no_mutations
  cmp "$FS_ROOT/etc/hosts" "$BATS_TEST_TMPDIR/hosts.1"
}

@test "an existing 127.0.1.1 line that already names the node is kept as it is" {
  printf '127.0.0.1 localhost\n127.0.1.1 aws-105.ec2.internal aws-105\n' >"$FS_ROOT/etc/hosts"
  stub_set hostname aws-105
  run_script wait-boot
  assert_success
  assert_equal "$(grep -c 127.0.1.1 "$FS_ROOT/etc/hosts")" 1
  refute_called_matching '^hostnamectl'
}

@test "cloud-init exit 2 (recoverable errors) is a warning, not a failure" {
  stub_set cloud-init/rc 2
  run_script wait-boot
  assert_success
  assert_output "boot: ready"
  assert_stderr_contains "WARNING: cloud-init finished with recoverable errors (exit 2"
}

@test "cloud-init failure (exit 1) stops the step with what to look at" {
  stub_set cloud-init/rc 1
  run_script wait-boot
  assert_failure 1
  assert_output ""
  assert_stderr_contains "cloud-init failed (exit 1): look at 'cloud-init status --long'"
  assert_no_mutations
}

@test "cloud-init still running at the bound: a clear timeout" {
  stub_fail timeout always
  run_script wait-boot
  assert_failure 1
  assert_stderr_contains "cloud-init did not finish within 5s"
  assert_no_mutations
}

@test "no cloud-init on the image: skipped with a note" {
  uninstall cloud-init
  run_script wait-boot
  assert_success
  assert_stderr_contains "cloud-init is not installed: nothing to wait for"
  refute_called_matching '^timeout'
}

@test "dpkg lock held for a few polls: waits, then goes on" {
  stub_fail fuser-lock-frontend 3
  run_script wait-boot
  assert_success
  assert_output "boot: ready"
  assert_stderr_contains "/var/lib/dpkg/lock-frontend is held"
  assert_equal "$(grep -c 'fuser .*/lock-frontend$' "$STUB_STATE/calls.log")" 4
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 2
}

@test "apt lock never released: fails at the bound saying what it waited for" {
  stub_fail fuser-lock always
  run_script wait-boot
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the apt/dpkg locks to be released: see who holds it with 'sudo fuser -v /var/lib/dpkg/lock'"
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 5
  assert_no_mutations
}

@test "NODE_NAME missing or not a hostname: a clear message, nothing done" {
  unset NODE_NAME
  run_script wait-boot
  assert_failure 1
  assert_stderr_contains "environment variable NODE_NAME is not set"
  NODE_NAME="aws_105;rm" run_script wait-boot
  assert_failure 1
  assert_stderr_contains "is not a valid hostname"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}
