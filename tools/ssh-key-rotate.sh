#!/usr/bin/env bash
# The SSH-key step of one node (`nodes-<node>-ssh-key`, components/sshKeyStep.ts), run by Pulumi on
# the operator's machine before any other step reaches the node. It makes the node's login user
# accept the stack's current key generation and nothing else, logging in with the current or the
# previous generation, whichever the node still takes:
#   1. waits (bounded) until the node accepts one of the two keys, and through it adds the current
#      public key to ~/.ssh/authorized_keys;
#   2. logs in again with the current key alone (proof that it works) and makes the file exactly
#      that key, which revokes the previous generation.
# The node's half is scripts/bootstrap/ssh-authorized-key.sh, sent on ssh's stdin. A second run
# changes nothing. Host keys are not checked, as pulumi-command does not check them (docs/security.md).
#
# Environment: NODE_NAME, SSH_HOST (the node's public address), SSH_USER, KEY_GENERATION (the
#   current generation), PREVIOUS_KEY_GENERATION (empty for generation 1), PUBLIC_KEY (the current
#   generation's, OpenSSH format); bounds SSH_KEY_ATTEMPTS (40 tries), SSH_KEY_RETRY_SECONDS (15
#   between tries), SSH_KEY_WAIT_SECONDS (600: no new try after that).
# Stdin: the current generation's private key, then the previous generation's (OpenSSH format).
#   They go to files in a private temporary directory (0700, files 0600) that is removed when the
#   script ends (done, failed, INT or TERM); they are never on a command line and never printed.
# Stdout: what changed on the node.
# Runs on the operator's machine: bash 3.2 or later (macOS's), OpenSSH's ssh, awk, mktemp.
set -euo pipefail
set +o xtrace # private keys pass through this script

die() {
  printf '[ssh-key-rotate] ERROR: %s\n' "$*" >&2
  exit 1
}

NODE_SCRIPT="$(dirname "${BASH_SOURCE[0]}")/../scripts/bootstrap/ssh-authorized-key.sh"
SSH_KEY_ATTEMPTS=${SSH_KEY_ATTEMPTS:-40}
SSH_KEY_RETRY_SECONDS=${SSH_KEY_RETRY_SECONDS:-15}
SSH_KEY_WAIT_SECONDS=${SSH_KEY_WAIT_SECONDS:-600}
# Once the node has answered, a later login only has to ride out a dropped packet.
CONFIRM_ATTEMPTS=3

for variable in NODE_NAME SSH_HOST SSH_USER KEY_GENERATION PUBLIC_KEY; do
  [[ -n "${!variable:-}" ]] || die "environment variable $variable is not set (the Pulumi program passes it: components/sshKeyStep.ts)"
done
PREVIOUS_KEY_GENERATION=${PREVIOUS_KEY_GENERATION:-}
[[ "$KEY_GENERATION" =~ ^[1-9][0-9]*$ ]] || die "KEY_GENERATION '$KEY_GENERATION' is not an integer >= 1"
if [[ -n "$PREVIOUS_KEY_GENERATION" ]] && ((PREVIOUS_KEY_GENERATION != KEY_GENERATION - 1)); then
  die "PREVIOUS_KEY_GENERATION '$PREVIOUS_KEY_GENERATION' is not KEY_GENERATION - 1 ($((KEY_GENERATION - 1)))"
fi
[[ "$SSH_HOST" =~ ^[A-Za-z0-9][A-Za-z0-9.:-]*$ ]] || die "SSH_HOST '$SSH_HOST' is not an address"
[[ "$SSH_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "SSH_USER '$SSH_USER' is not a login name"
for bound in SSH_KEY_ATTEMPTS SSH_KEY_RETRY_SECONDS SSH_KEY_WAIT_SECONDS; do
  [[ "${!bound}" =~ ^[0-9]+$ ]] || die "$bound '${!bound}' is not a whole number"
done
((SSH_KEY_ATTEMPTS >= 1)) || die "SSH_KEY_ATTEMPTS must be at least 1"
[[ -f "$NODE_SCRIPT" ]] || die "the node's half is missing: $NODE_SCRIPT"
# The line the node keeps: type and body of the current key, and a comment naming its generation.
PUBLIC_KEY=${PUBLIC_KEY%$'\n'}
[[ "$PUBLIC_KEY" =~ ^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521)\ ([A-Za-z0-9+/]+=*)(\ .*)?$ ]] ||
  die "PUBLIC_KEY is not a one-line OpenSSH public key"
KEY_LINE="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} swarm-flocker-generation-$KEY_GENERATION"

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/swarm-flocker-ssh-key.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Stdin, one key per file: "current", then "previous" (anything after that is an error).
awk -v dir="$work" '
  /^-----BEGIN / { n++; file = dir "/" (n == 1 ? "current" : n == 2 ? "previous" : "extra-" n) }
  n > 0 { print > file }
  /^-----END / && n > 0 { close(file) }
  END { if (n == 0) exit 3 }
' || die "stdin holds no private key (the Pulumi program sends the current and the previous generation's)"
keys=(current)
expected="generation $KEY_GENERATION"
[[ -z "$PREVIOUS_KEY_GENERATION" ]] || {
  keys+=(previous)
  expected+=" and $PREVIOUS_KEY_GENERATION"
}
for key in "${keys[@]}"; do
  [[ -s "$work/$key" ]] || die "stdin holds fewer private keys than the ${#keys[@]} expected ($expected)"
done
if [[ -z "$PREVIOUS_KEY_GENERATION" && -e "$work/previous" ]] || compgen -G "$work/extra-*" >/dev/null; then
  die "stdin holds more private keys than the ${#keys[@]} expected ($expected)"
fi

generation_of() { if [[ "$1" == current ]]; then echo "$KEY_GENERATION"; else echo "$PREVIOUS_KEY_GENERATION"; fi; }

SSH_OPTIONS=(
  -F /dev/null # the operator's ssh_config could offer other keys (IdentitiesOnly keeps those) or route elsewhere
  -T
  -o IdentitiesOnly=yes
  -o BatchMode=yes
  -o ConnectTimeout=15
  -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR
  -o ServerAliveInterval=15
  -o ServerAliveCountMax=4
)
printf -v quoted_line '%q' "$KEY_LINE"

# on_node ACTION ATTEMPTS KEY...: runs the node's half with ACTION through the first of the
# keys the node accepts, trying again (bounded) while it does not answer or refuses them all, as
# a booting instance does until cloud-init has installed its key. Sets $accepted (the key)
# and $answer (the node's stdout); returns 1 when the tries are used up, $last_error saying why.
on_node() {
  local action=$1 attempts=$2 attempt=1 key rc
  shift 2
  last_error=""
  while true; do
    for key in "$@"; do
      rc=0
      answer=$(ssh "${SSH_OPTIONS[@]}" -i "$work/$key" -l "$SSH_USER" "$SSH_HOST" \
        "bash -s -- $action $quoted_line" <"$NODE_SCRIPT" 2>"$work/ssh.err") || rc=$?
      if ((rc == 0)); then
        accepted=$key
        return 0
      fi
      last_error=$(tail -n 1 "$work/ssh.err")
      if ((rc != 255)); then
        cat "$work/ssh.err" >&2
        die "$NODE_NAME ($SSH_HOST): the node's half of the key change failed (exit $rc): ${last_error:-no message}"
      fi
      # Not answering is not a refusal: the other key would not fare better now.
      [[ "$last_error" == *"Permission denied"* ]] || break
    done
    if ((attempt >= attempts || SECONDS >= deadline)); then
      tries=$attempt
      return 1
    fi
    attempt=$((attempt + 1))
    sleep "$SSH_KEY_RETRY_SECONDS"
  done
}

deadline=$((SECONDS + SSH_KEY_WAIT_SECONDS))
if ! on_node add "$SSH_KEY_ATTEMPTS" "${keys[@]}"; then
  waited="$tries tries over ${SECONDS}s; last answer: ${last_error:-none}"
  if [[ "$last_error" != *"Permission denied"* ]]; then
    die "$NODE_NAME ($SSH_HOST) did not answer SSH ($waited): is the instance running, and does adminCidrs hold this machine's public address?"
  elif [[ -n "$PREVIOUS_KEY_GENERATION" ]]; then
    die "$NODE_NAME ($SSH_HOST) accepts neither generation $KEY_GENERATION nor $PREVIOUS_KEY_GENERATION of the stack's key ($waited): raise sshKeyGeneration one step at a time (pulumi config set sshKeyGeneration $PREVIOUS_KEY_GENERATION, pulumi up, then $KEY_GENERATION); a node that no generation the stack still holds opens must be replaced (pulumi up --replace <URN of nodes-$NODE_NAME-instance>)"
  else
    die "$NODE_NAME ($SSH_HOST) does not accept generation $KEY_GENERATION of the stack's key ($waited): its authorized_keys was changed by hand or it was launched with another key pair; replace it (pulumi up --replace <URN of nodes-$NODE_NAME-instance>)"
  fi
fi
printf '%s: %s (logged in with generation %s)\n' "$NODE_NAME" "$answer" "$(generation_of "$accepted")"

deadline=$((SECONDS + SSH_KEY_WAIT_SECONDS))
if ! on_node only "$CONFIRM_ATTEMPTS" current; then
  die "$NODE_NAME ($SSH_HOST) took generation $KEY_GENERATION of the key but does not accept it alone (${last_error:-no answer}): the previous generation was kept; look at sshd's AuthorizedKeysFile on the node, then run pulumi up again"
fi
printf '%s: %s (generation %s)\n' "$NODE_NAME" "$answer" "$KEY_GENERATION"
