#!/usr/bin/env bats
# scripts/flocker-files.sh

load helpers

SECRET_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
KEY_BODY="MIIEpAIBAAKCAQEA7SECRETRSAKEYMATERIALxyz"

setup() {
  common_setup
  IN=$BATS_TEST_TMPDIR/in
  mkdir -p "$IN"
  printf -- '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUClusterCA\n-----END CERTIFICATE-----\n' >"$IN/cluster.crt"
  printf -- '-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----\n' "$KEY_BODY" >"$IN/plugin.key"
  cat >"$IN/agent.yml" <<EOF2
version: 1
control-service:
  hostname: 172.31.10.104
  port: 4524
dataset:
  backend: aws
  region: us-east-1
  zone: us-east-1a
  access_key_id: AKIAIOSFODNN7EXAMPLE
  secret_access_key: $SECRET_KEY
EOF2
  # no final newline, quotes, $, backquotes, backslashes, a tab, non-ASCII
  printf '%s' $'odd \'single\' "double" $HOME `tick` \\back\ttab é' >"$IN/odd.txt"
  printf 'two newlines\n\n' >"$IN/trail.txt"
}

# payload FILE...: the stdin JSON for the named files of $IN.
payload() {
  local f args=()
  for f in "$@"; do args+=(--rawfile "$f" "$IN/$f"); done
  jq -n "${args[@]}" '{files: $ARGS.named}' >"$BATS_TEST_TMPDIR/payload.json"
  : >"$STUB_STATE/calls.log"
}

ALL=(agent.yml cluster.crt odd.txt plugin.key trail.txt)
ETC() { printf '%s' "$FS_ROOT/etc/flocker"; }

@test "writes every file byte-exact, dir 0700, files 0600, prints the changed names" {
  payload "${ALL[@]}"
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  assert_output $'agent.yml\ncluster.crt\nodd.txt\nplugin.key\ntrail.txt'
  assert_equal "$(stat -c %a "$(ETC)")" 700
  local f
  for f in "${ALL[@]}"; do
    cmp "$IN/$f" "$(ETC)/$f" || fail "$f differs"
    assert_equal "$(stat -c %a "$(ETC)/$f")" 600
  done
  # nothing else in the directory (no temporary or input copies left)
  assert_equal "$(ls -A "$(ETC)" | tr '\n' ' ')" "agent.yml cluster.crt odd.txt plugin.key trail.txt "
  # agent.yml parses back with its keys
  grep -qx 'version: 1' "$(ETC)/agent.yml"
  grep -qx '  hostname: 172.31.10.104' "$(ETC)/agent.yml"
  grep -qx '  backend: aws' "$(ETC)/agent.yml"
  grep -qx "  secret_access_key: $SECRET_KEY" "$(ETC)/agent.yml"
}

@test "secrets never reach stdout, stderr or any command line (jq included)" {
  payload "${ALL[@]}"
  spy jq
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  # jq was spied on: it got the file name and the input file, never the content
  grep -qxF "jq -j --arg n agent.yml '.files[\$n]'" "$STUB_STATE/calls.log" ||
    fail "jq call not as expected: $(grep '^jq -j' "$STUB_STATE/calls.log")"
  refute_anywhere "$SECRET_KEY"
  refute_anywhere "$KEY_BODY"
}

@test "second run: prints nothing and leaves the files alone" {
  payload "${ALL[@]}"
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  local before
  before=$(stat -c '%i %Y %a' "$(ETC)"/*)
  clear_logs
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  assert_output ""
  assert_no_mutations
  assert_equal "$(stat -c '%i %Y %a' "$(ETC)"/*)" "$before"
}

@test "only a changed file is rewritten and named; files not in the input are kept" {
  payload "${ALL[@]}"
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  echo "kept" >"$(ETC)/node.crt"
  chmod 600 "$(ETC)/node.crt"
  printf 'version: 1\n' >"$IN/agent.yml"
  payload agent.yml cluster.crt
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  assert_output "agent.yml"
  assert_equal "$(cat "$(ETC)/agent.yml")" "version: 1"
  assert_equal "$(cat "$(ETC)/node.crt")" "kept"
}

@test "file names that could escape the directory are refused and nothing is written" {
  jq -n '{files: {"good.crt": "ok", "../evil": "x", "a/b": "x", ".": "x", "..": "x", "x\ny": "x", "": "x", ".hidden/x": "x"}}' \
    >"$BATS_TEST_TMPDIR/payload.json"
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_failure 1
  assert_output ""
  assert_stderr_contains 'refusing file name(s) "", ".", "..", "../evil", ".hidden/x", "a/b", "x\ny": names may hold only'
  [[ -z "$(ls -A "$(ETC)")" ]] || fail "files written: $(ls -A "$(ETC)")"
  [[ ! -e "$FS_ROOT/etc/evil" ]]
}

@test "stdin that is not the expected JSON is refused" {
  printf 'not json' >"$BATS_TEST_TMPDIR/bad.json"
  run_script_stdin "$BATS_TEST_TMPDIR/bad.json" flocker-files
  assert_failure 1
  assert_stderr_contains 'stdin is not JSON of the form {"files": {"<name>": "<content>"}}'
  echo '{"files": {"a.crt": 42}}' >"$BATS_TEST_TMPDIR/bad.json"
  run_script_stdin "$BATS_TEST_TMPDIR/bad.json" flocker-files
  assert_failure 1
  [[ -z "$(ls -A "$(ETC)")" ]]
}

@test "wrong modes are repaired: dir 0755 -> 0700, unchanged file 0644 -> 0600" {
  payload cluster.crt
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  chmod 755 "$(ETC)"
  chmod 644 "$(ETC)/cluster.crt"
  run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  assert_output ""
  assert_equal "$(stat -c %a "$(ETC)")" 700
  assert_equal "$(stat -c %a "$(ETC)/cluster.crt")" 600
}

@test "files and directory are given to root (FILE_OWNER) when owned by someone else" {
  payload cluster.crt
  FILE_OWNER=4242:4242 run_script_stdin "$BATS_TEST_TMPDIR/payload.json" flocker-files
  assert_success
  assert_equal "$(grep -c '^chown 4242:4242 ' "$STUB_STATE/mutations.log")" 2
  grep -q "^chown 4242:4242 $(ETC)\$" "$STUB_STATE/mutations.log"
}
