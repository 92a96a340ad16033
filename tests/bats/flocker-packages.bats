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

# apt_stdin LINE...: what the step sends on stdin in apt mode (the source, then auth.conf entries).
apt_stdin() { printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/stdin"; }
# run_apt ACTION: the script in apt mode, with the stdin apt_stdin wrote (by default: $SOURCE,
# trusted=yes over https, hence FLOCKER_APT_ALLOW_UNSIGNED=true unless the test says otherwise).
run_apt() {
  [[ -f "$BATS_TEST_TMPDIR/stdin" ]] || apt_stdin "$SOURCE"
  FLOCKER_PACKAGE_SOURCE=apt FLOCKER_APT_KEYRING=$KEYRING FLOCKER_APT_KEY=${FLOCKER_APT_KEY:-} \
    FLOCKER_APT_ALLOW_UNSIGNED=${FLOCKER_APT_ALLOW_UNSIGNED:-true} \
    run_script_stdin "$BATS_TEST_TMPDIR/stdin" flocker-packages "$@"
}
KEYRING=/etc/apt/keyrings/flocker.gpg
# A stand-in for flockerAptKey's bytes (the script only stores them), base64 as the step sends it.
KEY_B64=$(printf '\x99\x01\x0dstand-in key' | base64 -w0)
run_deb() { FLOCKER_PACKAGE_SOURCE=deb FLOCKER_DEB_DIR=${1:?} run_script flocker-packages "${@:2}"; }

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
  assert_stderr_contains "pulumi config set flockerAptSource 'deb [signed-by=<keyring>] https://<host>/<path> /'\` and flockerAptKey"
  assert_stderr_contains "ClusterHQ's archive is gone, see docs/flocker.md, 'packages'"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "both sources configured: told to keep one" {
  apt_stdin "$SOURCE"
  FLOCKER_DEB_DIR=$DEBS run_apt install
  assert_failure 1
  assert_stderr_contains "both flockerAptSource and flockerDebDir are set"
  assert_no_mutations
}

@test "apt preflight: probes the source in a temporary tree, changes nothing, cleans up" {
  run_apt preflight
  assert_success
  assert_output ""
  local tmp
  tmp=$(probe_dir)
  [[ -n "$tmp" && "$tmp" != "$FS_ROOT"* ]]
  assert_equal "$(cat "$STUB_STATE/calls.log")" "apt-get -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::netrc=$tmp/auth.conf -o Dir::Etc::netrcparts=$tmp/auth.conf.d -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root update
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::netrc=$tmp/auth.conf -o Dir::Etc::netrcparts=$tmp/auth.conf.d -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-python-flocker
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::netrc=$tmp/auth.conf -o Dir::Etc::netrcparts=$tmp/auth.conf.d -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-flocker-node
apt-cache -o Dir::Etc::SourceList=$tmp/flocker.list -o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::netrc=$tmp/auth.conf -o Dir::Etc::netrcparts=$tmp/auth.conf.d -o Dir::State::Lists=$tmp/lists -o Dir::State::status=$tmp/status -o Dir::Cache::pkgcache=$tmp/pkgcache.bin -o Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin -o APT::Sandbox::User=root policy clusterhq-flocker-docker-plugin"
  assert_no_mutations
  [[ ! -e "$tmp" ]] || fail "temporary directory $tmp left behind"
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
  assert_stderr_contains "clusterhq-flocker-docker-plugin 1.15.0-1 is available"
}

@test "apt source unreachable: retried, then an error naming flockerAptSource; nothing left behind" {
  stub_fail apt-update always
  run_apt preflight
  assert_failure 1
  assert_stderr_contains "Flocker package source '$SOURCE' (flockerAptSource) is unreachable (apt-get update failed): set a source that serves the Flocker 1.15 packages ($PKGS) with \`pulumi config set flockerAptSource"
  assert_equal "$(grep -c ' update$' "$STUB_STATE/calls.log")" 3
  [[ ! -e "$(probe_dir)" ]]
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
}

@test "apt source lacking a package: the error names the package and the key" {
  stub_set apt/flocker-repo "clusterhq-python-flocker 1.15.0-1
clusterhq-flocker-node 1.15.0-1"
  run_apt preflight
  assert_failure 1
  assert_stderr_contains "(flockerAptSource) lacks package(s) clusterhq-flocker-docker-plugin: set a source"
  [[ ! -e "$(probe_dir)" ]]
}

@test "a second source smuggled in after the first is refused before apt runs" {
  apt_stdin "deb [trusted=yes] https://a /" "deb [trusted=yes] http://evil /"
  run_apt preflight
  assert_failure 1
  assert_stderr_contains "flockerAptSource: line 2 of stdin is not an apt auth.conf entry (machine HOST/PATH login USER password SECRET); a source is one line"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "a source that is not a deb line is refused before apt runs" {
  apt_stdin "rpm https://a /"
  run_apt preflight
  assert_failure 1
  assert_stderr_contains "flockerAptSource must be one apt source line starting with 'deb '"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "apt install: checks the source, adds it, installs, creates /etc/flocker 0700" {
  run_apt install
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
  run_apt install
  assert_success
  clear_logs
  run_apt install
  assert_success
  assert_no_mutations
  refute_called_matching '^apt-'
  assert_stderr_contains "all Flocker packages are installed"
}

@test "apt install of only the packages that are missing" {
  installed clusterhq-python-flocker 1.15.0-1
  run_apt install
  assert_success
  assert_called "apt-get install -y -o DPkg::Lock::Timeout=300 clusterhq-flocker-node clusterhq-flocker-docker-plugin"
}

@test "apt install failing: the source file it added is removed again, the key is named" {
  stub_fail apt-install always
  run_apt install
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
  run_apt install
  assert_failure 1
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" "deb http://old.example.com/flocker /"
}

@test "apt install from an unreachable source: no source file, no install attempted" {
  stub_fail apt-update always
  run_apt install
  assert_failure 1
  assert_stderr_contains "is unreachable"
  assert_no_mutations
  assert_equal "$(find "$FS_ROOT" -mindepth 1 | sed "s|$FS_ROOT||")" "/etc"
}

@test "deb preflight: every package has a matching .deb" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb clusterhq-flocker-docker-plugin 1.15.0-1
  run_deb "$DEBS" preflight
  assert_success
  assert_no_mutations
  assert_stderr_contains "serves $PKGS"
}

@test "deb dir lacking a package (or holding a mislabelled file): error names flockerDebDir" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb something-else 1.0
  run_deb "$DEBS" install
  assert_failure 1
  assert_stderr_contains "Flocker package source '$DEBS' (flockerDebDir) lacks package(s) clusterhq-flocker-docker-plugin"
  assert_no_mutations
}

@test "deb dir missing on the node: error names flockerDebDir" {
  run_deb /nonexistent/debs preflight
  assert_failure 1
  assert_stderr_contains "'/nonexistent/debs' (flockerDebDir) is not a directory on this node"
}

@test "deb install: apt installs the missing .deb files (newest version) so dependencies resolve" {
  make_deb clusterhq-python-flocker_1.15.0-1_amd64.deb clusterhq-python-flocker 1.15.0-1
  make_deb clusterhq-flocker-node_1.14.0-1_all.deb clusterhq-flocker-node 1.14.0-1
  make_deb clusterhq-flocker-node_1.15.0-1_all.deb clusterhq-flocker-node 1.15.0-1
  make_deb clusterhq-flocker-docker-plugin_1.15.0-1_all.deb clusterhq-flocker-docker-plugin 1.15.0-1
  installed clusterhq-python-flocker 1.15.0-1
  run_deb "$DEBS" install
  assert_success
  assert_mutations <<EOF2
apt-get update
apt-get install -y -o DPkg::Lock::Timeout=300 $DEBS/clusterhq-flocker-node_1.15.0-1_all.deb $DEBS/clusterhq-flocker-docker-plugin_1.15.0-1_all.deb
EOF2
  assert_equal "$(cat "$STUB_STATE/dpkg/clusterhq-flocker-node")" 1.15.0-1
  assert_equal "$(stat -c %a "$FS_ROOT/etc/flocker")" 700
  clear_logs
  run_deb "$DEBS" install
  assert_success
  assert_no_mutations
}

# ---------------------------------------------------------------------------------------------
# The source may be a Pulumi secret: stdin only, credentials in a 0600 auth.conf, never printed.

CREDS_SOURCE="deb [trusted=yes] https://repo.example.com/flocker/16.04 /"
CREDS_AUTH="machine repo.example.com/flocker/16.04 login deploy password s3cr3t-Pa55"

@test "the apt source on the command line (FLOCKER_APT_SOURCE) is refused: it may hold credentials" {
  FLOCKER_APT_SOURCE=$SOURCE FLOCKER_PACKAGE_SOURCE=apt run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "FLOCKER_APT_SOURCE is not read: the apt source may hold credentials, so it comes on stdin"
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "apt mode with nothing on stdin names the key" {
  FLOCKER_PACKAGE_SOURCE=apt run_script flocker-packages preflight
  assert_failure 1
  assert_stderr_contains "flockerAptSource: no apt source line on stdin"
}

@test "credentials go to /etc/apt/auth.conf.d/flocker.conf (0600), the source list (0644) holds none, nothing prints them" {
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt install
  assert_success
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" "$CREDS_SOURCE"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" 644
  assert_equal "$(cat "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" "$CREDS_AUTH"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" 600
  # shellcheck disable=SC2154 # $stderr is set by run_script's `run --separate-stderr`
  [[ "$stderr$output" != *s3cr3t* ]] || fail "a credential was printed"
  ! grep -rq s3cr3t "$FS_ROOT/etc/apt/sources.list.d" || fail "a credential is in a world-readable file"
  ! grep -q s3cr3t "$STUB_STATE/calls.log" || fail "a credential was on a command line"
}

@test "the preflight hands apt the credentials in a private temporary auth.conf, not the host's" {
  # Wrap the apt-get stub: keep a copy of what its netrc option points to, before the cleanup.
  rm "$BIN/apt-get"
  cat >"$BIN/apt-get" <<STUB
#!/usr/bin/env bash
for a in "\$@"; do
  case "\$a" in Dir::Etc::netrc=*) f=\${a#*=}; cp -p "\$f" "$STUB_STATE/netrc-seen"; stat -c %a "\$f" >"$STUB_STATE/netrc-mode" ;; esac
done
exec "$STUB_DIR/apt-get" "\$@"
STUB
  chmod +x "$BIN/apt-get"
  mkdir -p "$FS_ROOT/etc/apt/auth.conf.d"
  echo "machine repo.example.com login old password stale" >"$FS_ROOT/etc/apt/auth.conf.d/flocker.conf"
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt preflight
  assert_success
  assert_equal "$(cat "$STUB_STATE/netrc-seen")" "$CREDS_AUTH"
  assert_equal "$(cat "$STUB_STATE/netrc-mode")" 600
  assert_equal "$(cat "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" "machine repo.example.com login old password stale"
  [[ "$stderr" != *s3cr3t* ]]
}

@test "install, second run: the credentials file is left alone; rotated credentials are rewritten without asking the source" {
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt install
  assert_success
  clear_logs
  run_apt install
  assert_success
  assert_no_mutations
  refute_called_matching '^apt-'
  apt_stdin "$CREDS_SOURCE" "machine repo.example.com/flocker/16.04 login deploy password rotated-1"
  run_apt install
  assert_success
  refute_called_matching '^apt-'
  assert_equal "$(cat "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" "machine repo.example.com/flocker/16.04 login deploy password rotated-1"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" 600
}

@test "a source that needs no credentials any more: the old credentials file is removed" {
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt install
  assert_success
  apt_stdin "$CREDS_SOURCE"
  run_apt install
  assert_success
  [[ ! -e "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf" ]]
  assert_stderr_contains "removed /etc/apt/auth.conf.d/flocker.conf: the source needs no credentials"
}

@test "apt install failing: the credentials file it wrote is removed again with the source list" {
  stub_fail apt-install always
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt install
  assert_failure 1
  assert_stderr_contains "removed /etc/apt/auth.conf.d/flocker.conf again"
  assert_stderr_contains "removed /etc/apt/sources.list.d/flocker.list again"
  [[ ! -e "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf" ]]
  [[ "$stderr" != *s3cr3t* ]]
}

@test "apt install failing over older credentials: they are put back" {
  mkdir -p "$FS_ROOT/etc/apt/auth.conf.d"
  (umask 077 && echo "machine repo.example.com login old password before" >"$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")
  stub_fail apt-install always
  apt_stdin "$CREDS_SOURCE" "$CREDS_AUTH"
  run_apt install
  assert_failure 1
  assert_equal "$(cat "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" "machine repo.example.com login old password before"
  assert_equal "$(stat -c %a "$FS_ROOT/etc/apt/auth.conf.d/flocker.conf")" 600
}

@test "credentials inside the source line itself are refused, and not printed" {
  apt_stdin "deb [trusted=yes] https://deploy:s3cr3t-Pa55@repo.example.com/flocker /"
  run_apt preflight
  assert_failure 1
  assert_stderr_contains "the source line on stdin holds credentials in its URI; they belong in the auth.conf entries after it"
  [[ "$stderr" != *s3cr3t* ]]
  assert_equal "$(cat "$STUB_STATE/calls.log")" ""
}

@test "the trust rule of tests/fixtures/apt-sources.tsv, the table the validator's tests read: same verdicts, same first reason" {
  local expect allow key line n=0 failures=""
  while IFS=$'\t' read -r expect allow key line; do
    [[ -n "$expect" && "$expect" != \#* ]] || continue
    n=$((n + 1))
    rm -f "$BATS_TEST_TMPDIR/stdin"
    apt_stdin "$line"
    if [[ "$key" == yes ]]; then FLOCKER_APT_KEY=$KEY_B64; else FLOCKER_APT_KEY=""; fi
    FLOCKER_APT_ALLOW_UNSIGNED=$allow run_apt preflight
    if [[ "$expect" == accept ]]; then
      ((status == 0)) || failures+=$'\n'"accept expected: $line -> $stderr"
    else
      ((status == 1)) && [[ "$stderr" == *"flockerAptSource: '$line' "*"$expect"* ]] ||
        failures+=$'\n'"refusal expected ($expect): $line -> status $status: $stderr"
      [[ "$status" != 1 ]] || [[ "$(grep -c ' update$' "$STUB_STATE/calls.log")" == 0 ]] ||
        failures+=$'\n'"apt ran before the refusal: $line"
    fi
    : >"$STUB_STATE/calls.log"
  done <"$REPO_ROOT/tests/fixtures/apt-sources.tsv"
  ((n >= 35)) || fail "only $n rows read from the table"
  [[ -z "$failures" ]] || fail "$failures"
}

@test "a signed source: install writes the key to the keyring (0644), beside the source list" {
  apt_stdin "deb [signed-by=$KEYRING] https://repo.example.com/flocker /"
  FLOCKER_APT_KEY=$KEY_B64 FLOCKER_APT_ALLOW_UNSIGNED=false run_apt install
  assert_success
  cmp "$FS_ROOT$KEYRING" <(base64 -d <<<"$KEY_B64")
  assert_equal "$(stat -c %a "$FS_ROOT$KEYRING")" 644
  assert_equal "$(cat "$FS_ROOT/etc/apt/sources.list.d/flocker.list")" "deb [signed-by=$KEYRING] https://repo.example.com/flocker /"
}

@test "the probe's list names the key written beside it, not the host's keyring" {
  # apt-get as the stub, after keeping a copy of the list and key the probe hands it.
  rm "$BIN/apt-get"
  printf '%s\n' '#!/usr/bin/env bash' \
    'for a in "$@"; do case $a in Dir::Etc::SourceList=*) l=${a#*=}; cp "$l" "$BATS_TEST_TMPDIR/probe.list"; cp "${l%/*}/flocker.gpg" "$BATS_TEST_TMPDIR/probe.gpg" ;; esac; done' \
    'exec "$STUB_DIR/apt-get" "$@"' >"$BIN/apt-get"
  chmod +x "$BIN/apt-get"
  apt_stdin "deb [signed-by=$KEYRING] https://repo.example.com/flocker /"
  FLOCKER_APT_KEY=$KEY_B64 FLOCKER_APT_ALLOW_UNSIGNED=false BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR run_apt preflight
  assert_success
  local tmp
  tmp=$(probe_dir)
  assert_equal "$(cat "$BATS_TEST_TMPDIR/probe.list")" "deb [signed-by=$tmp/flocker.gpg] https://repo.example.com/flocker /"
  cmp "$BATS_TEST_TMPDIR/probe.gpg" <(base64 -d <<<"$KEY_B64")
  [[ ! -e "$FS_ROOT$KEYRING" ]]
}

@test "without flockerAptKey any more, install removes the keyring it wrote" {
  mkdir -p "$FS_ROOT/etc/apt/keyrings"
  base64 -d <<<"$KEY_B64" >"$FS_ROOT$KEYRING"
  for p in $PKGS; do stub_set "dpkg/$p" "1.15.0-1"; done
  run_apt install
  assert_success
  [[ ! -e "$FS_ROOT$KEYRING" ]]
  assert_stderr_contains "removed $KEYRING: flockerAptKey is not set"
}

@test "credentials over plain http are refused" {
  apt_stdin "deb [signed-by=$KEYRING] http://repo.example.com/flocker /" "machine repo.example.com/flocker login u password p"
  FLOCKER_APT_KEY=$KEY_B64 run_apt preflight
  assert_failure 1
  assert_stderr_contains "carries credentials in a plain http URI: apt would send them in clear text"
}
