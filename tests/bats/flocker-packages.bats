#!/usr/bin/env bats
# scripts/flocker-packages.sh

load helpers

SOURCE="deb [trusted=yes] https://repo.example.com/flocker/16.04 /"
PKGS="clusterhq-python-flocker clusterhq-flocker-node clusterhq-flocker-docker-plugin"

setup() {
  common_setup
  stub_set apt/flocker-repo "clusterhq-python-flocker 1.15.0-1
clusterhq-flocker-node 1.15.0-1
clusterhq-flocker-docker-plugin 1.15.0-1"
  DEBS=$BATS_TEST_TMPDIR/debs
  mkdir -p "$DEBS"
}

make_deb() { # make_deb FILE PACKAGE VERSION: a stand-in .deb the dpkg-deb/apt-get stubs read
  printf 'Package: %s\nVersion: %s\nArchitecture: amd64\n' "$2" "$3" >"$DEBS/$1"
}

# The temporary directory a probe used (from its -o Dir::State::Lists=… argument).
probe_dir() {
  grep -o 'Dir::State::Lists=[^ ]*' "$STUB_STATE/calls.log" | head -n 1 | sed 's|Dir::State::Lists=||; s|/lists$||'
}

@test "no package source configured: the error names both config keys" {
  run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "no Flocker package source is configured (neither flockerAptSource nor flockerDebDir)"
  assert_stderr_contains "pulumi config set flockerAptSource 'deb [trusted=yes] https://<host>/<path> /'"
  assert_stderr_contains "ClusterHQ's archive is gone, see README 'Flocker packages'"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "both sources configured: told to keep one" {
  FLOCKER_APT_SOURCE=$SOURCE FLOCKER_DEB_DIR=$DEBS run_script flocker-packages install
  assert_failure 1
  assert_stderr_contains "both flockerAptSource and flockerDebDir are set"
  assert_no_mutations
}

@test "apt preflight: probes the source in a temporary tree, changes nothing, cleans up" {
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages preflight
  assert_success
  assert_output ""
  local tmp
  tmp=$(probe_dir)
  [[ -n "$tmp" && "$tmp" != "$FS_ROOT"* ]]
  assert_equal "$(cat "$STUB_STATE/calls.log")" "apt-get -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root update
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-python-flocker
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-flocker-node
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-flocker-docker-plugin"
  assert_no_mutations
  [[ ! -e "$tmp" ]] || fail "temporary directory $tmp left behind"
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
  assert_stderr_contains "clusterhq-flocker-docker-plugin 1.15.0-1 is available"
}

@test "apt source unreachable: retried, then an error naming flockerAptSource; nothing left behind" {
  stub_fail apt-update always
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "Flocker package source '$SOURCE' (flockerAptSource) is unreachable (apt-get update failed): set a source that serves the Flocker 1.15 packages ($PKGS) with \`pulumi config set flockerAptSource"
  assert_equal "$(grep -c ' update$' "$STUB_STATE/calls.log")" 3
  [[ ! -e "$(probe_dir)" ]]
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
}

@test "apt source lacking a package: the error names the package and the key" {
  stub_set apt/flocker-repo "clusterhq-python-flocker 1.15.0-1
clusterhq-flocker-node 1.15.0-1"
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "(flockerAptSource) lacks package(s) clusterhq-flocker-docker-plugin: set a source"
  [[ ! -e "$(probe_dir)" ]]
}

@test "a source that is not one deb line is refused before apt runs" {
  FLOCKER_APT_SOURCE=$'deb [trusted=yes] https://a /\ndeb http://evil /' run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "flockerAptSource must be one apt source line starting with 'deb '"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "apt install: checks the source, adds it, installs, creates /etc/flocker 0700" {
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_success
  assert_mutations <<EOF2
apt-get update
apt-get install -y -o DPkg::Lock::Timeout=300 $PKGS
EOF2
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" "$SOURCE"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" 644
  assert_equal "$(stat -c %a "$FS_ROOT/etc/flocker")" 700
  assert_equal "$(cat "$STUB_STATE/dpkg/clusterhq-flocker-node")" 1.15.0-1
}

@test "apt install, second run: nothing changes and no source is asked" {
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_success
  clear_logs
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_success
  assert_no_mutations
  refute_called_matching '^apt-'
  assert_stderr_contains "all Flocker packages are installed"
}

@test "apt install of only the packages that are missing" {
  installed clusterhq-python-flocker 1.15.0-1
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_success
  assert_called "apt-get install -y -o DPkg::Lock::Timeout=300 clusterhq-flocker-node clusterhq-flocker-docker-plugin"
}

@test "apt install failing: the source file it added is removed again, the key is named" {
  stub_fail apt-install always
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_failure 1
  assert_stderr_contains "removed /etc/apt/sources.list.d/flocker.list again"
  assert_stderr_contains "(flockerAptSource) could not be installed from"
  assert_stderr_contains "pulumi config set flockerAptSource"
  [[ ! -e "$FS_ROOT/etc/apt/sources.list.d/flocker.list" ]]
  [[ ! -e "$FS_ROOT/etc/flocker" ]]
}

@test "apt install failing over an older source file: the old file is put back" {
  mkdir -p "$FS_ROOT/etc/apt/sources.list.d"
  echo "deb http://old.example.com/flocker /" >"$FS_ROOT/etc/apt/sources.list.d/flocker.list"
  stub_fail apt-install always
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_failure 1
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" "deb http://old.example.com/flocker /"
}

@test "apt install from an unreachable source: no source file, no install attempted" {
  stub_fail apt-update always
  FLOCKER_APT_SOURCE=$SOURCE run_script flocker-packages install
  assert_failure 1
  assert_stderr_contains "is unreachable"
  assert_no_mutations
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
}

@test "deb preflight: every package has a matching .deb" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb clusterhq-flocker-docker-plugin 1.15.0-1
  FLOCKER_DEB_DIR=$DEBS run_script flocker-packages preflight
  assert_success
  assert_no_mutations
  assert_stderr_contains "serves $PKGS"
}

@test "deb dir lacking a package (or holding a mislabelled file): error names flockerDebDir" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb something-else 1.0
  FLOCKER_DEB_DIR=$DEBS run_script flocker-packages install
  assert_failure 1
  assert_stderr_contains "Flocker package source '$DEBS' (flockerDebDir) lacks package(s) clusterhq-flocker-docker-plugin"
  assert_no_mutations
}

@test "deb dir missing on the node: error names flockerDebDir" {
  FLOCKER_DEB_DIR=/nonexistent/debs run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "'/nonexistent/debs' (flockerDebDir) is not a directory on this node"
}

@test "deb install: apt installs the missing .deb files (newest version) so dependencies resolve" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.14.0-1_all.deb clusterhq-flocker-node 1.14.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb clusterhq-flocker-docker-plugin 1.15.0-1
  installed clusterhq-python-flocker 1.15.0-1
  FLOCKER_DEB_DIR=$DEBS run_script flocker-packages install
  assert_success
  assert_mutations <<EOF2
apt-get update
apt-get install -y -o DPkg::Lock::Timeout=300 $DEBS/clusterhq-flocker-node_1.15.0-1_all.deb $DEBS/clusterhq-flocker-docker-plugin_1.15.0-1_all.deb
EOF2
  assert_equal "$(cat "$STUB_STATE/dpkg/clusterhq-flocker-node")" 1.15.0-1
  assert_equal "$(stat -c %a "$FS_ROOT/etc/flocker")" 700
  clear_logs
  FLOCKER_DEB_DIR=$DEBS run_script flocker-packages install
  assert_success
  assert_no_mutations
}
