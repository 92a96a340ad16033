# shellcheck shell=bash
# Shared by the command stubs in this directory (each is symlinked into a test's bin directory
# under its command's name). State lives in files under $STUB_STATE:
#   calls.log      every call, one line, arguments shell-quoted
#   mutations.log  the calls that change state (what "a second run changes nothing" checks)
#   invalid.log    calls the stubs (or the real Docker CLI's parser) rejected; a test whose
#                  invalid.log is not empty fails in teardown
#   fail/<key>     failure injection: a number N (the next N checks of <key> fail) or "always"

S=${STUB_STATE:?STUB_STATE is not set: stubs run only under tests/bats}
STUB_NAME=${0##*/}

# stub_quote ARG...: the arguments as one shell-quoted line (plain words stay unquoted), in
# $QUOTED (no subshell: the stubs run thousands of times per suite).
stub_quote() {
  local a out=()
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=("$a")
    else
      out+=("'${a//\'/\'\\\'\'}'")
    fi
  done
  QUOTED="${out[*]}"
}

stub_record() { stub_quote "$STUB_NAME" "$@"; printf '%s\n' "$QUOTED" >>"$S/calls.log"; }
stub_mutation() { stub_quote "$STUB_NAME" "$@"; printf '%s\n' "$QUOTED" >>"$S/mutations.log"; }

# stub_fail KEY: succeeds when this check of KEY must fail (and counts it down).
stub_fail() {
  local f="$S/fail/$1" n
  [[ -f "$f" ]] || return 1
  n=$(<"$f")
  [[ "$n" == always ]] && return 0
  ((n > 0)) || return 1
  printf '%s\n' "$((n - 1))" >"$f"
  return 0
}

# stub_invalid MESSAGE: record a call the stub cannot or must not accept, and fail it.
stub_invalid() {
  stub_quote "$STUB_NAME" "${STUB_ARGS[@]}"
  printf '%s: %s\n' "$QUOTED" "$1" >>"$S/invalid.log"
  printf 'stub %s: %s\n' "$STUB_NAME" "$1" >&2
  exit 99
}

# stub_get FILE DEFAULT / stub_put FILE VALUE: small state files under $S.
stub_get() { if [[ -f "$S/$1" ]]; then printf '%s\n' "$(<"$S/$1")"; else printf '%s\n' "${2:-}"; fi; }
stub_put() {
  [[ "$1" != */* || -d "$S/${1%/*}" ]] || mkdir -p "$S/${1%/*}"
  printf '%s\n' "$2" >"$S/$1"
}

STUB_ARGS=("$@")
stub_record "$@"
