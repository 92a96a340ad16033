#!/usr/bin/env bats
# tools/ssh-key-rotate.sh (on the operator's machine) with scripts/bootstrap/ssh-authorized-key.sh
# (on the node), against the ssh stub: a host whose login user's home is a temporary directory.

load helpers

REAL_SLEEP=$(PATH=/usr/bin:/bin command -v sleep)

setup() {
  common_setup
  ln -s "$STUB_DIR/ssh" "$BIN/ssh"
  # The rotation's temporary directory lands here, so a test can see that nothing is left.
  export TMPDIR=$BATS_TEST_TMPDIR/tmp
  NODE_HOME=$BATS_TEST_TMPDIR/home
  KEYS=$BATS_TEST_TMPDIR/keys
  mkdir -p "$TMPDIR" "$NODE_HOME" "$KEYS"
  stub_set ssh/home "$NODE_HOME"
  : >"$STUB_STATE/ssh/identities"
  export NODE_NAME=aws-105 SSH_HOST=54.12.34.56 SSH_USER=ubuntu
  export SSH_KEY_ATTEMPTS=3 SSH_KEY_RETRY_SECONDS=15 SSH_KEY_WAIT_SECONDS=600
  for n in 1 2 3; do make_key "$n"; done
}

# make_key N: a private key file private-N (what Pulumi sends on stdin) and its public key public-N,
# registered with the stub as "key-N".
make_key() {
  printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-material-%s\n-----END OPENSSH PRIVATE KEY-----\n' "$1" >"$KEYS/private-$1"
  printf 'ssh-ed25519 AAAAC3NzaMockKey%sQ==\n' "$1" >"$KEYS/public-$1"
  printf '%s ssh-ed25519 AAAAC3NzaMockKey%sQ== key-%s\n' "$(sha256sum <"$KEYS/private-$1" | cut -d' ' -f1)" "$1" "$1" \
    >>"$STUB_STATE/ssh/identities"
}

# node_has LINE...: the node's authorized_keys, as EC2 and cloud-init leave it.
node_has() {
  mkdir -p "$NODE_HOME/.ssh"
  chmod 700 "$NODE_HOME/.ssh"
  printf '%s\n' "$@" >"$NODE_HOME/.ssh/authorized_keys"
  chmod 600 "$NODE_HOME/.ssh/authorized_keys"
}

# rotate CURRENT [PREVIOUS]: the step as Pulumi runs it for generation CURRENT.
rotate() {
  export KEY_GENERATION=$1 PREVIOUS_KEY_GENERATION=${2:-}
  PUBLIC_KEY=$(cat "$KEYS/public-$1")$'\n' # as @pulumi/tls gives it
  export PUBLIC_KEY
  cat "$KEYS/private-$1" ${2:+"$KEYS/private-$2"} >"$BATS_TEST_TMPDIR/stdin"
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" <"$BATS_TEST_TMPDIR/stdin"
}

line_of() { printf 'ssh-ed25519 AAAAC3NzaMockKey%sQ== swarm-flocker-generation-%s' "$1" "$1"; }
ssh_calls() { grep -c '^ssh ' "$STUB_STATE/calls.log" || true; }
# key_file_of current|previous: the identity file the ssh calls named (in the rotation's temporary directory).
key_file_of() { grep -o -m 1 -- "-i [^ ]*/$1 " "$STUB_STATE/calls.log" | cut -d' ' -f2; }
# assert_ssh_calls "current|previous ACTION"...: the logins tried, in order: the generation offered, the node action.
assert_ssh_calls() {
  local got
  got=$(sed -n 's|^ssh .* -i [^ ]*/\([a-z]*\) .*bash -s -- \([a-z]*\) .*|\1 \2|p' "$STUB_STATE/calls.log")
  assert_equal "$got" "$(printf '%s\n' "$@")"
  # every key offered from the rotation's own directory under TMPDIR
  assert_equal "$(grep -o -- ' -i [^ ]*' "$STUB_STATE/calls.log" | grep -cv -- "^ -i $TMPDIR/swarm-flocker-ssh-key\.[A-Za-z0-9]\{6\}/\(current\|previous\)\$")" 0
}
logins() { paste -sd' ' "$STUB_STATE/ssh/logins" 2>/dev/null || true; }

# No private key anywhere it could be read back; no temporary directory left.
assert_keys_stayed_private() {
  local n
  for n in 1 2 3; do refute_anywhere "mock-private-material-$n"; done
  refute_anywhere "PRIVATE KEY"
  assert_equal "$(find "$TMPDIR" -mindepth 1 | wc -l)" 0
  if [[ -s "$STUB_STATE/ssh/identity-modes" ]]; then
    assert_equal "$(sort -u "$STUB_STATE/ssh/identity-modes")" "700 600"
  fi
}

@test "rotation 1 -> 2: logs in with key 1, adds key 2, then proves key 2 alone and revokes key 1" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q== nodes-key-pair-4f1c2a9"
  rotate 2 1
  assert_success
  assert_equal "$output" "aws-105: authorized_keys: key added (logged in with generation 1)
aws-105: authorized_keys: now this key alone (every other key revoked) (generation 2)"
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "$(line_of 2)"
  assert_equal "$(stat -c %a "$NODE_HOME/.ssh/authorized_keys")" 600
  # key 2 is offered first and refused, key 1 opens, then key 2 alone opens
  assert_equal "$(logins)" "key-1 key-2"
  assert_equal "$(ssh_calls)" 3
  assert_ssh_calls "current add" "previous add" "current only"
  assert_called "ssh -F /dev/null -T -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -i $(key_file_of previous) -l ubuntu 54.12.34.56 'bash -s -- add ssh-ed25519\\ AAAAC3NzaMockKey2Q==\\ swarm-flocker-generation-2'"
  assert_keys_stayed_private
}

@test "a second run changes nothing: the node already holds key 2 alone" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q=="
  rotate 2 1
  assert_success
  # an old mtime: a rewrite would show as a new one
  touch -d '2001-01-01 00:00:00' "$NODE_HOME/.ssh/authorized_keys"
  local before
  before=$(stat -c '%i %Y %a' "$NODE_HOME/.ssh/authorized_keys")
  : >"$STUB_STATE/ssh/logins"
  rotate 2 1
  assert_success
  assert_equal "$output" "aws-105: authorized_keys: the key is already there (logged in with generation 2)
aws-105: authorized_keys: already this key alone (generation 2)"
  assert_equal "$(stat -c '%i %Y %a' "$NODE_HOME/.ssh/authorized_keys")" "$before"
  assert_equal "$(logins)" "key-2 key-2"
  assert_keys_stayed_private
}

@test "a new instance, launched with key pair 2, needs no previous key; its file is made the stack's line" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey2Q== nodes-key-pair-77aa01"
  rotate 2 1
  assert_success
  assert_line --index 0 "aws-105: authorized_keys: the key is already there (logged in with generation 2)"
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "$(line_of 2)"
  assert_equal "$(logins)" "key-2 key-2"
  assert_keys_stayed_private
}

@test "generation 1 (a first deployment): one key on stdin, no previous generation to try" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q== nodes-key-pair-4f1c2a9"
  rotate 1
  assert_success
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "$(line_of 1)"
  assert_equal "$(ssh_calls)" 2
  assert_keys_stayed_private
}

@test "rotation 2 -> 3 leaves exactly key 3; keys added by hand are revoked too" {
  node_has "$(line_of 2)" "ssh-rsa AAAAB3NzaHandMadeKey== someone@laptop"
  rotate 3 2
  assert_success
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "$(line_of 3)"
  assert_keys_stayed_private
}

@test "a booting instance: unanswered tries, then key 2 refused and key 1 taken (bounded tries, 15 s apart)" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q=="
  stub_fail ssh-connect 2
  export SSH_KEY_ATTEMPTS=5
  rotate 2 1
  assert_success
  # an unanswered try offers one key only: the other would not fare better
  assert_ssh_calls "current add" "current add" "current add" "previous add" "current only"
  assert_equal "$(paste -sd' ' "$STUB_STATE/sleep.log")" "15 15"
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "$(line_of 2)"
  assert_keys_stayed_private
}

@test "neither key accepted: 3 tries, then the error says what to do; nothing changed, nothing left" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey3Q== someone-else"
  rotate 2 1
  assert_failure 1
  assert_output ""
  assert_stderr_contains "aws-105 (54.12.34.56) accepts neither generation 2 nor 1 of the stack's key (3 tries over"
  assert_stderr_contains "last answer: ubuntu@54.12.34.56: Permission denied (publickey).): raise sshKeyGeneration one step at a time (pulumi config set sshKeyGeneration 1, pulumi up, then 2)"
  assert_stderr_contains "pulumi up --replace <URN of nodes-aws-105-instance>"
  assert_equal "$(ssh_calls)" 6
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 2
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "ssh-ed25519 AAAAC3NzaMockKey3Q== someone-else"
  assert_keys_stayed_private
}

@test "generation 1 refused: the node was changed by hand or launched with another key pair" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey3Q=="
  rotate 1
  assert_failure 1
  assert_stderr_contains "aws-105 (54.12.34.56) does not accept generation 1 of the stack's key (3 tries"
  assert_stderr_contains "launched with another key pair; replace it"
  assert_keys_stayed_private
}

@test "a host that never answers: the error names the network, not the key" {
  stub_fail ssh-connect always
  rotate 2 1
  assert_failure 1
  assert_stderr_contains "aws-105 (54.12.34.56) did not answer SSH (3 tries over"
  assert_stderr_contains "Connection refused): is the instance running, and does adminCidrs hold this machine's public address?"
  assert_equal "$(ssh_calls)" 3
  assert_keys_stayed_private
}

@test "the wall-clock bound stops the tries before the attempt count does" {
  stub_fail ssh-connect always
  export SSH_KEY_ATTEMPTS=40 SSH_KEY_WAIT_SECONDS=0
  rotate 2 1
  assert_failure 1
  assert_stderr_contains "did not answer SSH (1 tries over"
  assert_equal "$(ssh_calls)" 1
  assert_keys_stayed_private
}

@test "the node's half failing (a full disk) stops the step with its message; key 1 still opens the node" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q=="
  # mktemp on the node cannot create the new authorized_keys
  real_mktemp=$(PATH=/usr/bin:/bin command -v mktemp)
  printf '#!/usr/bin/env bash\nif [[ "$*" == *.authorized_keys.* ]]; then echo "mktemp: failed to create file via template: No space left on device" >&2; exit 1; fi\nexec %q "$@"\n' \
    "$real_mktemp" >"$BIN/mktemp"
  chmod +x "$BIN/mktemp"
  rotate 2 1
  assert_failure 1
  assert_stderr_contains "aws-105 (54.12.34.56): the node's half of the key change failed (exit 1): mktemp: failed to create file via template: No space left on device"
  assert_equal "$(cat "$NODE_HOME/.ssh/authorized_keys")" "ssh-ed25519 AAAAC3NzaMockKey1Q=="
  assert_equal "$(find "$NODE_HOME/.ssh" -mindepth 1 | wc -l)" 1
  assert_keys_stayed_private
}

@test "stdin with a key missing or one too many is refused before any connection" {
  export KEY_GENERATION=2 PREVIOUS_KEY_GENERATION=1 PUBLIC_KEY="ssh-ed25519 AAAAC3NzaMockKey2Q=="
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" <"$KEYS/private-2"
  assert_failure 1
  assert_stderr_contains "stdin holds fewer private keys than the 2 expected (generation 2 and 1)"
  cat "$KEYS/private-2" "$KEYS/private-1" "$KEYS/private-3" >"$BATS_TEST_TMPDIR/three"
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" <"$BATS_TEST_TMPDIR/three"
  assert_failure 1
  assert_stderr_contains "stdin holds more private keys than the 2 expected"
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" </dev/null
  assert_stderr_contains "stdin holds no private key"
  assert_equal "$(ssh_calls)" 0
  assert_keys_stayed_private
}

@test "bad parameters are named, with the value" {
  export KEY_GENERATION=3 PREVIOUS_KEY_GENERATION=1 PUBLIC_KEY="ssh-ed25519 AAAAC3NzaMockKey3Q=="
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" </dev/null
  assert_failure 1
  assert_stderr_contains "PREVIOUS_KEY_GENERATION '1' is not KEY_GENERATION - 1 (2)"
  export PREVIOUS_KEY_GENERATION=2 PUBLIC_KEY="-----BEGIN OPENSSH PRIVATE KEY-----"
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" </dev/null
  assert_stderr_contains "PUBLIC_KEY is not a one-line OpenSSH public key"
  unset NODE_NAME
  run --separate-stderr bash "$REPO_ROOT/tools/ssh-key-rotate.sh" </dev/null
  assert_stderr_contains "environment variable NODE_NAME is not set"
}

@test "TERM while a login hangs: the private keys are removed all the same" {
  node_has "ssh-ed25519 AAAAC3NzaMockKey1Q=="
  # an ssh that hangs until it is stopped
  printf '#!/usr/bin/env bash\nexec %q 30\n' "$REAL_SLEEP" >"$BIN/ssh.hang"
  chmod +x "$BIN/ssh.hang"
  ln -sf "$BIN/ssh.hang" "$BIN/ssh"
  export KEY_GENERATION=2 PREVIOUS_KEY_GENERATION=1 PUBLIC_KEY="ssh-ed25519 AAAAC3NzaMockKey2Q=="
  cat "$KEYS/private-2" "$KEYS/private-1" >"$BATS_TEST_TMPDIR/stdin"
  setsid bash "$REPO_ROOT/tools/ssh-key-rotate.sh" <"$BATS_TEST_TMPDIR/stdin" 3>&- &
  local pid=$! waited=0
  until [[ -n "$(find "$TMPDIR" -name previous)" ]] || ((waited++ > 50)); do "$REAL_SLEEP" 0.1; done
  kill -TERM -- "-$pid"
  local rc=0
  wait "$pid" || rc=$?
  assert_equal "$rc" 143
  assert_equal "$(find "$TMPDIR" -mindepth 1 | wc -l)" 0
}
