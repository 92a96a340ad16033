#!/usr/bin/env bash
# flocker-files.sh: write Flocker's certificates, keys and agent.yml into FLOCKER_ETC.
#
# Stdin: JSON {"files": {"<name>": "<content>", ...}} (content is secret: keys, agent.yml's AWS
# secret key). The content never reaches a command line, a log or any file but its target: stdin
# is held in a variable and piped (bash's builtin printf, no exec, no here-string temp file) into
# `jq --arg n NAME`, whose output goes to a 0600 temporary file next to the target, renamed into
# place. Files whose content is unchanged are left alone, and so are files not in the input.
#
# Environment: FLOCKER_ETC.
# Stdout: the name of every file whose content changed, one a line.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

(($# == 0)) || usage_error "(no action; the files come on stdin)" "$1"
require_env FLOCKER_ETC
[[ "$FLOCKER_ETC" == /* ]] || die "FLOCKER_ETC must be an absolute path, not '$FLOCKER_ETC'"
require_cmd jq "the install-docker step installs it"

DIR=$(path "$FLOCKER_ETC")
umask 077
ensure_private_dir "$DIR"

INPUT=$(cat)
# input_jq ARGS...: jq over the input, fed through a pipe.
input_jq() { printf '%s' "$INPUT" | jq "$@"; }

input_jq -e '(.files | type) == "object" and ([.files[] | type == "string"] | all)' >/dev/null 2>&1 ||
  die 'stdin is not JSON of the form {"files": {"<name>": "<content>"}} with string contents (the Pulumi program sends it)'

# Names are checked inside jq, before they are split into lines: a name with a newline or a
# slash must never become a path.
BAD=$(input_jq -r '[.files | keys[] | select((test("^[A-Za-z0-9._-]+$") and . != "." and . != "..") | not)] | map(@json) | join(", ")')
[[ -z "$BAD" ]] || die "refusing file name(s) $BAD: names may hold only letters, digits, '.', '_' and '-' (no '/', not '.' or '..')"

mapfile -t NAMES < <(input_jq -r '.files | keys[]')
for name in ${NAMES[@]+"${NAMES[@]}"}; do
  tmp=$(mktemp "$DIR/.$name.XXXXXX")
  cleanup_add "$tmp"
  # -j: raw output without the newline -r would add, so the file is byte-exact.
  input_jq -j --arg n "$name" '.files[$n]' >"$tmp" || die "could not extract $name from stdin"
  if install_if_changed "$tmp" "$DIR/$name" 600; then
    log "wrote $FLOCKER_ETC/$name"
    printf '%s\n' "$name"
  fi
done
log "${#NAMES[@]} file(s) in $FLOCKER_ETC checked"
