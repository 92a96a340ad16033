#!/usr/bin/env bash
# ssh-authorized-key.sh: the node's half of an SSH key rotation. tools/ssh-key-rotate.sh, on the
# operator's machine, feeds it to `ssh … bash -s -- ACTION 'PUBLIC KEY'` before any other step
# reaches the node, so it arrives alone on stdin: the node's copy of scripts/ does not exist yet on
# a new node, and scripts/lib/core.sh cannot be sourced (hence its own die).
#
# Actions, on ~/.ssh/authorized_keys of the login user (the stack owns that file):
#   add   the key is in the file (appended when missing; every other line kept)
#   only  the file is exactly that key: every other key is revoked
# Each writes only when the file would change (a new file, 0600, renamed over the old one), and
# prints what it did on stdout.
set -euo pipefail

die() {
  printf '[ssh-authorized-key] ERROR: %s\n' "$*" >&2
  exit 1
}

(($# == 2)) || die "usage: ssh-authorized-key.sh add|only 'KEYTYPE BASE64 [COMMENT]'"
action=$1
key=$2
[[ "$action" == add || "$action" == only ]] || die "unknown action '$action': usage: ssh-authorized-key.sh add|only 'KEY'"
# One line, the key's type and body, an optional comment without quotes: nothing that could turn
# into an option or a second entry of authorized_keys.
[[ "$key" =~ ^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521)\ ([A-Za-z0-9+/]+=*)(\ [A-Za-z0-9._@:-]+)?$ ]] ||
  die "not a one-line OpenSSH public key: '${key:0:40}…'"
body=${BASH_REMATCH[2]}

[[ -n "${HOME:-}" && -d "$HOME" ]] || die "the login user has no home directory (HOME='${HOME:-}')"
ssh_dir=$HOME/.ssh
file=$ssh_dir/authorized_keys

# has_key FILE: a line of FILE carries this key's body (options and comments aside).
has_key() {
  [[ -f "$1" ]] && awk -v body="$body" '{ for (i = 1; i <= NF; i++) if ($i == body) found = 1 } END { exit !found }' "$1"
}

# replace_with CONTENT: the file becomes CONTENT, atomically (sshd never reads half a file).
tmp_file=""
trap '[[ -z "$tmp_file" ]] || rm -f "$tmp_file"' EXIT
replace_with() {
  tmp_file=$(mktemp "$ssh_dir/.authorized_keys.XXXXXX")
  printf '%s' "$1" >"$tmp_file"
  chmod 600 "$tmp_file"
  mv -f "$tmp_file" "$file"
  tmp_file=""
}

if [[ ! -d "$ssh_dir" ]]; then
  mkdir -m 700 "$ssh_dir"
fi

case "$action" in
  add)
    if has_key "$file"; then
      echo "authorized_keys: the key is already there"
      exit 0
    fi
    current=""
    if [[ -f "$file" ]]; then
      current=$(cat "$file")
      [[ -z "$current" ]] || current+=$'\n'
    fi
    replace_with "$current$key"$'\n'
    echo "authorized_keys: key added"
    ;;
  only)
    if [[ -f "$file" && "$(cat "$file")" == "$key" && "$(stat -c %a "$file")" == 600 ]]; then
      echo "authorized_keys: already this key alone"
      exit 0
    fi
    replace_with "$key"$'\n'
    echo "authorized_keys: now this key alone (every other key revoked)"
    ;;
esac
