#!/usr/bin/env bats
# scripts/install-docker.sh

load helpers

DROPIN_REL=etc/systemd/system/docker.service.d/10-block-container-imds.conf

setup() {
  common_setup
  # A kernel that has Swarm's modules loaded already (the kernel module tests below start without).
  local m
  for m in $KERNEL_MODULES; do mkdir -p "$FS_ROOT/sys/module/$m"; done
}

no_modules_loaded() { rm -rf "$FS_ROOT/sys/module"; }

# ------------------------------------------------------------------------------------ kernel modules
@test "kernel modules: each one loaded before Docker is installed, and persisted for every boot; a second run loads nothing" {
  no_modules_loaded
  run_script install-docker
  assert_success
  assert_equal "$(head -n 7 "$STUB_STATE/mutations.log")" "modprobe overlay
modprobe br_netfilter
modprobe vxlan
modprobe ip_vs
modprobe ip_vs_rr
modprobe xt_ipvs
apt-get update"
  assert_equal "$(grep -v '^#' "$FS_ROOT/etc/modules-load.d/swarm-flocker.conf")" "overlay
br_netfilter
vxlan
ip_vs
ip_vs_rr
xt_ipvs"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/modules-load.d/swarm-flocker.conf")" 644
  clear_logs
  run_script install-docker
  assert_success
  assert_no_mutations
  refute_called_matching '^modprobe'
}

@test "kernel modules: one the kernel does not have -> stops before Docker, naming it and the package to install" {
  no_modules_loaded
  stub_fail modprobe-ip_vs always
  run_script install-docker
  assert_failure 1
  assert_stderr_contains "kernel module ip_vs cannot be loaded on this node (kernel $(uname -r)): modprobe: FATAL: Module ip_vs not found"
  assert_stderr_contains "ip_vs, ip_vs_rr and xt_ipvs: service VIPs and the routing mesh"
  assert_stderr_contains "apt-get install linux-modules-extra-$(uname -r)"
  refute_called_matching '^apt-get'
  [[ ! -e "$FS_ROOT/etc/modules-load.d/swarm-flocker.conf" ]]
}

@test "kernel modules: the list is the program's (an encrypted overlay adds xt_u32); a module name that is not one is refused" {
  KERNEL_MODULES="ip_vs xt_u32" run_script install-docker
  assert_success
  grep -qx "modprobe xt_u32" "$STUB_STATE/mutations.log"
  assert_equal "$(grep -v '^#' "$FS_ROOT/etc/modules-load.d/swarm-flocker.conf")" "ip_vs
xt_u32"
  KERNEL_MODULES="ip_vs; reboot" run_script install-docker
  assert_failure 1
  assert_stderr_contains "KERNEL_MODULES holds 'ip_vs;', which is not a kernel module name"
}

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

# ---------------------------------------------------------------------------------- Ubuntu archive

XENIAL_SOURCES="deb http://us-east-1.ec2.archive.ubuntu.com/ubuntu/ xenial main restricted
deb-src http://us-east-1.ec2.archive.ubuntu.com/ubuntu/ xenial main restricted
deb http://us-east-1.ec2.archive.ubuntu.com/ubuntu/ xenial-updates main restricted universe
deb http://security.ubuntu.com/ubuntu xenial-security main restricted
# deb http://archive.canonical.com/ubuntu xenial partner
deb [arch=amd64] https://download.docker.com/linux/ubuntu xenial stable"

OLD_RELEASES_SOURCES="deb http://old-releases.ubuntu.com/ubuntu/ xenial main restricted
deb-src http://old-releases.ubuntu.com/ubuntu/ xenial main restricted
deb http://old-releases.ubuntu.com/ubuntu/ xenial-updates main restricted universe
deb http://old-releases.ubuntu.com/ubuntu/ xenial-security main restricted
# deb http://archive.canonical.com/ubuntu xenial partner
deb [arch=amd64] https://download.docker.com/linux/ubuntu xenial stable"

image_sources() {
  mkdir -p "$FS_ROOT/etc/apt"
  printf '%s\n' "$XENIAL_SOURCES" >"$FS_ROOT/etc/apt/sources.list"
}

# run_mirror MIRROR [AUTH...]: the script with what the step sends on stdin: the mirror, then the
# auth.conf entry with its credentials.
run_mirror() {
  printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/mirror"
  run_script_stdin "$BATS_TEST_TMPDIR/mirror" install-docker
}

@test "a mirror: the Ubuntu lines of sources.list point at it, others stay; a second run changes nothing" {
  image_sources
  run_mirror http://old-releases.ubuntu.com/ubuntu/
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list")" "$OLD_RELEASES_SOURCES"
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.swarm-flocker-original")" "$XENIAL_SOURCES"
  assert_stderr_contains "apt now uses http://old-releases.ubuntu.com/ubuntu for the Ubuntu archive"
  clear_logs
  run_mirror http://old-releases.ubuntu.com/ubuntu
  assert_success
  assert_no_mutations
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list")" "$OLD_RELEASES_SOURCES"
}

@test "a changed mirror is applied to the image's own file; no mirror restores it" {
  image_sources
  run_mirror http://mirror.one.internal/ubuntu
  assert_success
  run_mirror http://old-releases.ubuntu.com/ubuntu
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list")" "$OLD_RELEASES_SOURCES"
  clear_logs
  run_script install-docker
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list")" "$XENIAL_SOURCES"
  [[ ! -e "$FS_ROOT/etc/apt/sources.list.swarm-flocker-original" ]]
  # Docker is installed already: the restored archive is still proven by an update.
  assert_mutations <<<"apt-get update"
}

@test "the release has left the image's archive: fails on the first apt run naming ubuntuArchiveMirror and old-releases" {
  image_sources
  stub_set apt/gone-archives "http://us-east-1.ec2.archive.ubuntu.com/ubuntu"
  run_script install-docker
  assert_failure 1
  assert_stderr_contains "the Ubuntu archive http://us-east-1.ec2.archive.ubuntu.com/ubuntu no longer serves xenial (apt: no dists/xenial/Release there; an end-of-life release moves to old-releases): pulumi config set ubuntuArchiveMirror http://old-releases.ubuntu.com/ubuntu, then run pulumi up again"
  # No retry: a 404 Release file does not come back.
  assert_mutations <<<"apt-get update"
}

@test "a mirror that does not serve the release is named as the cause" {
  image_sources
  stub_set apt/gone-archives "http://mirror.one.internal/ubuntu"
  run_mirror http://mirror.one.internal/ubuntu
  assert_failure 1
  assert_stderr_contains "ubuntuArchiveMirror http://mirror.one.internal/ubuntu does not serve xenial (apt: no dists/xenial/Release there): set it to an archive that holds this release"
  refute_called_matching '^apt-get install'
}

@test "old-releases as the mirror gets past an archive that dropped the release" {
  image_sources
  stub_set apt/gone-archives "http://us-east-1.ec2.archive.ubuntu.com/ubuntu
http://security.ubuntu.com/ubuntu"
  run_mirror http://old-releases.ubuntu.com/ubuntu
  assert_success
  assert_called "apt-get install -y -o DPkg::Lock::Timeout=300 docker.io jq curl"
}

@test "a mirror with no Ubuntu line to replace is an error, not a silent no-op" {
  mkdir -p "$FS_ROOT/etc/apt"
  echo "deb https://download.docker.com/linux/ubuntu xenial stable" >"$FS_ROOT/etc/apt/sources.list"
  run_mirror http://old-releases.ubuntu.com/ubuntu
  assert_failure 1
  assert_stderr_contains "ubuntuArchiveMirror is set, but no line of $FS_ROOT/etc/apt/sources.list names an Ubuntu archive to replace"
  assert_no_mutations
}

# ---------------------------------------------------------------------------------- Docker floor

@test "floor: the archive's candidate older than MIN_DOCKER_VERSION is refused before it is installed" {
  stub_set apt/archive "docker.io 20.10.21-0ubuntu1~18.04.3
jq 1.5
curl 7.58"
  MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_failure 1
  assert_stderr_contains "docker.io 20.10.21-0ubuntu1~18.04.3 (the archive's candidate) is older than 20.10.24, and overlayEncrypted is true"
  assert_stderr_contains "Pin a newer engine with dockerVersion"
  refute_called_matching '^apt-get install'
}

@test "floor: a pinned older version and an installed older engine are refused" {
  MIN_DOCKER_VERSION=20.10.24 DOCKER_VERSION=18.09.7-0ubuntu1~16.04.7 run_script install-docker
  assert_failure 1
  assert_stderr_contains "docker.io 18.09.7-0ubuntu1~16.04.7 (pinned by dockerVersion) is older than 20.10.24"
  assert_no_mutations

  installed docker.io 18.09.7-0ubuntu1~16.04.5
  MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_failure 1
  assert_stderr_contains "docker.io 18.09.7-0ubuntu1~16.04.5 (installed on this node) is older than 20.10.24"
  assert_no_mutations
}

@test "floor: versions at or above it install, Docker's own epoch-and-tilde form included" {
  stub_set apt/archive "docker-ce 5:20.10.24~3-0~ubuntu-bionic
jq 1.5
curl 7.58"
  DOCKER_PACKAGE=docker-ce MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_success
  assert_equal "$(cat "$STUB_STATE/dpkg/docker-ce")" "5:20.10.24~3-0~ubuntu-bionic"
  clear_logs
  DOCKER_PACKAGE=docker-ce MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_success
  assert_no_mutations
}

# Ubuntu 24.04's docker.io is 29.x (the current platform): an Ubuntu revision and a backport
# suffix on a two-digit major, which the floor compares as numbers, not as text ("29" < "3").
@test "floor: Ubuntu 24.04's docker.io 29.x installs over the floor, and is accepted once installed" {
  stub_set apt/archive "docker.io 29.1.3-0ubuntu3~24.04.1
jq 1.7.1-3build1
curl 8.5.0-2ubuntu10.6"
  MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_success
  assert_called "apt-get install -y -o DPkg::Lock::Timeout=300 docker.io jq curl"
  assert_equal "$(cat "$STUB_STATE/dpkg/docker.io")" "29.1.3-0ubuntu3~24.04.1"
  clear_logs
  MIN_DOCKER_VERSION=20.10.24 run_script install-docker
  assert_success
  assert_no_mutations
  assert_stderr_contains "docker.io 29.1.3-0ubuntu3~24.04.1 is installed"
  # a floor above it is still enforced on the two-digit major
  MIN_DOCKER_VERSION=29.2 run_script install-docker
  assert_failure 1
  assert_stderr_contains "docker.io 29.1.3-0ubuntu3~24.04.1 (installed on this node) is older than 29.2"
}

# ---------------------------------------------------------------------------------- bounds

@test "a daemon that hangs: each docker call is cut off at DOCKER_CLI_TIMEOUT and the wait fails with what hung" {
  stub_fail docker-hang always
  local started=$SECONDS
  DOCKER_CLI_TIMEOUT=1 WAIT_TIMEOUT=2 run_script install-docker
  assert_failure 1
  assert_stderr_contains "'docker info' did not return within 1s: the Docker daemon is hung"
  assert_stderr_contains "timed out after 2s waiting for the Docker daemon to answer 'docker info'"
  assert_called "timeout --foreground --kill-after=10 1 docker info"
  # The stub daemon sleeps 30 s per call: only the bound ends the script this soon.
  ((SECONDS - started < 15))
  refute_called_matching '^iptables -I'
}

@test "the step's own bound: TERM from timeout stops the script with a message, exit 124" {
  stub_fail docker-hang always
  local started=$SECONDS
  run --separate-stderr timeout --kill-after=5 2 env DOCKER_CLI_TIMEOUT=30 bash "$SCRIPTS/install-docker.sh" </dev/null
  assert_failure 124
  assert_stderr_contains "[install-docker] ERROR: stopped by SIGTERM, most likely because this step ran past its wall-clock bound"
  ((SECONDS - started < 15))
}

# ------------------------------------------------------------------------- mirror credentials

MIRROR_AUTH="machine mirror.corp.example/ubuntu login deploy password s3cr3t-Pa55"

@test "a mirror's credentials go to a 0600 auth.conf file, never sources.list or the output; dropped when no longer given" {
  image_sources
  run_mirror https://mirror.corp.example/ubuntu "$MIRROR_AUTH"
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/apt/auth.conf.d/ubuntu-archive-mirror.conf")" "$MIRROR_AUTH"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/auth.conf.d/ubuntu-archive-mirror.conf")" 600
  grep -q "https://mirror.corp.example/ubuntu/ xenial main" "$FS_ROOT/etc/apt/sources.list"
  if grep -rq s3cr3t "$FS_ROOT/etc/apt/sources.list"; then fail "the password is in sources.list"; fi
  # shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr` (run_script_stdin)
  [[ "$output$stderr" != *s3cr3t* ]]
  clear_logs
  run_mirror https://mirror.corp.example/ubuntu "$MIRROR_AUTH"
  assert_success
  assert_no_mutations
  run_mirror https://mirror.corp.example/ubuntu
  assert_success
  [[ ! -e "$FS_ROOT/etc/apt/auth.conf.d/ubuntu-archive-mirror.conf" ]]
  assert_stderr_contains "removed /etc/apt/auth.conf.d/ubuntu-archive-mirror.conf"
}

@test "the mirror in the environment (the command line), credentials in its URL or over http are refused, unprinted" {
  image_sources
  UBUNTU_ARCHIVE_MIRROR=https://mirror.corp.example/ubuntu run_script install-docker
  assert_failure 1
  assert_stderr_contains "UBUNTU_ARCHIVE_MIRROR is not read: ubuntuArchiveMirror may hold credentials, so it comes on stdin"
  run_mirror https://deploy:s3cr3t-Pa55@mirror.corp.example/ubuntu
  assert_failure 1
  assert_stderr_contains "holds credentials in its URL; they belong in the auth.conf entry after it"
  [[ "$stderr" != *s3cr3t* ]]
  run_mirror http://mirror.corp.example/ubuntu "$MIRROR_AUTH"
  assert_failure 1
  assert_stderr_contains "credentials over plain http would travel in clear text"
  [[ "$stderr" != *s3cr3t* ]]
  assert_no_mutations
}
