# shellcheck shell=bash
# The helpers every node script needs (see ../README.md): logging, errors, clean-up, bounded
# retries and waits, files, packages, systemd units, the docker CLI. Sourced first, never executed:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# The other files here are sourced after it by the scripts that need them (swarm.sh, services.sh
# after swarm.sh, flocker.sh); a step's digest covers only the files its script sources.
#
# Targets the bash of Ubuntu 16.04 (4.3): no ${x@Q}, and a possibly empty array is expanded as
# ${a[@]+"${a[@]}"} because 4.3 treats "${a[@]}" of an empty array as unbound under `set -u`.

# Secrets pass through variables of these scripts: tracing must never be on.
set +o xtrace

SCRIPT_NAME=${BASH_SOURCE[1]:-$0}
SCRIPT_NAME=${SCRIPT_NAME##*/}
SCRIPT_NAME=${SCRIPT_NAME%.sh}
FS_ROOT=${FS_ROOT:-}
WAIT_INTERVAL=${WAIT_INTERVAL:-5}
RETRY_ATTEMPTS=${RETRY_ATTEMPTS:-5}
RETRY_DELAY=${RETRY_DELAY:-10}
# Seconds a single docker CLI call may take (docker_cli); pulls and runs pass their own.
DOCKER_CLI_TIMEOUT=${DOCKER_CLI_TIMEOUT:-60}
# Owner ("uid:gid") of the files and directories the scripts create under /etc; tests that do
# not run as root point it at their own user.
FILE_OWNER=${FILE_OWNER:-0:0}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# ---------------------------------------------------------------------------------------------
# Logging: everything goes to stderr so that stdout carries only a script's documented output.

log() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
# The script's own stderr, for messages that must show where a caller silences a command's.
exec {SCRIPT_STDERR}>&2
warn() { log "WARNING: $*"; }
die() {
  log "ERROR: $*"
  exit 1
}

# usage_error ACTIONS GIVEN: an unknown or missing action (exit 2).
usage_error() {
  log "ERROR: unknown action '${2:-}': usage: $SCRIPT_NAME.sh ${1}"
  exit 2
}

# expect_action "a|b" "$@": the first argument must be one of the actions (a usage error, exit 2,
# otherwise). Scripts then read it as $1.
expect_action() {
  local allowed=$1 given=${2:-}
  [[ -n "$given" && "|$allowed|" == *"|$given|"* ]] || usage_error "$allowed" "$given"
}

# require_env VAR...: every VAR must be set and non-empty.
require_env() {
  local v
  for v in "$@"; do
    if [[ -z "${!v:-}" ]]; then
      die "environment variable $v is not set: run this script as 'sudo env $v=... bash $SCRIPT_NAME.sh' (the Pulumi program passes it; see scripts/README.md)"
    fi
  done
}

# require_cmd CMD HINT: CMD must be on PATH.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed on this node: $2"
}

# path /etc/x -> ${FS_ROOT}/etc/x (tests run against a temporary tree).
path() { printf '%s%s\n' "$FS_ROOT" "$1"; }

# ---------------------------------------------------------------------------------------------
# Clean-up of temporary files and directories, whatever way the script ends.

_CLEANUP=()
_cleanup() {
  local p
  for p in ${_CLEANUP[@]+"${_CLEANUP[@]}"}; do
    rm -rf -- "$p"
  done
}
trap _cleanup EXIT
trap 'exit 130' INT
# TERM is what the step's wall-clock bound sends (`timeout` on the command line, lib/scripts.ts):
# say so, since the step then only shows exit code 124.
_on_term() {
  log "ERROR: stopped by SIGTERM, most likely because this step ran past its wall-clock bound (the timeout on its command line): the lines above show what it was doing; fix that on the node and re-run pulumi up" 2>&"$SCRIPT_STDERR"
  exit 143
}
trap _on_term TERM
trap 'exit 143' HUP

cleanup_add() { _CLEANUP+=("$1"); }

# ---------------------------------------------------------------------------------------------
# Bounded retry and wait.
# Functions handed to retry/wait_for run in a condition, where bash ignores `set -e`: they must
# return non-zero themselves (`cmd || return 1`) when a step fails.

# retry ATTEMPTS DELAY cmd...: run cmd until it succeeds, at most ATTEMPTS times, DELAY seconds
# apart. Returns cmd's last status. Only the command's name is logged (never its arguments).
retry() {
  local attempts=$1 delay=$2 i=1 rc
  shift 2
  while true; do
    "$@" && return 0
    rc=$?
    if ((i >= attempts)); then
      log "$1 failed (exit $rc) on attempt $i of $attempts; giving up"
      return "$rc"
    fi
    log "$1 failed (exit $rc) on attempt $i of $attempts; retrying in ${delay}s"
    sleep "$delay"
    i=$((i + 1))
  done
}

# wait_for TIMEOUT INTERVAL "description" cmd...: poll cmd every INTERVAL seconds until it
# succeeds; after TIMEOUT seconds die saying what was waited for. The time counted is the larger
# of the wall clock and the sum of the intervals slept, so the bound holds when polls are slow and
# stays exact when a test turns `sleep` into a no-op. If WAIT_HINT is set it is appended to the
# message (what to check or do next).
wait_for() {
  local timeout=$1 interval=$2 what=$3 start=$SECONDS slept=0 elapsed
  shift 3
  while true; do
    "$@" && return 0
    elapsed=$((SECONDS - start))
    ((slept > elapsed)) && elapsed=$slept
    if ((elapsed >= timeout)); then
      die "timed out after ${timeout}s waiting for ${what}${WAIT_HINT:+: $WAIT_HINT}"
    fi
    sleep "$interval"
    slept=$((slept + interval))
  done
}

# ---------------------------------------------------------------------------------------------
# Files.

# install_if_changed SRC DEST MODE: move SRC over DEST unless DEST already holds the same bytes
# (then SRC is deleted). DEST ends with MODE (octal as `stat -c %a` prints it, e.g. 600) and
# FILE_OWNER. Returns 0 when DEST's content changed, 1 when it did not.
install_if_changed() {
  local src=$1 dest=$2 mode=$3
  if [[ -f "$dest" && ! -L "$dest" ]] && cmp -s "$src" "$dest"; then
    rm -f -- "$src"
    ensure_mode_owner "$dest" "$mode"
    return 1
  fi
  chmod "$mode" "$src" || die "cannot chmod $src"
  [[ "$(stat -c %u:%g "$src")" == "$FILE_OWNER" ]] || chown "$FILE_OWNER" "$src" || die "cannot chown $src"
  mv -f -- "$src" "$dest" || die "cannot move $src to $dest"
  return 0
}

# write_if_changed DEST MODE < content: install stdin as DEST (via a temporary file in DEST's
# directory, so the replacement is atomic). Returns 0 when DEST changed, 1 when it did not.
write_if_changed() {
  local dest=$1 mode=$2 dir tmp
  dir=$(dirname "$dest")
  mkdir -p -- "$dir" || die "cannot create $dir"
  tmp=$(mktemp "$dir/.$(basename "$dest").XXXXXX") || die "cannot create a temporary file in $dir"
  cleanup_add "$tmp"
  cat >"$tmp" || die "cannot write $tmp"
  install_if_changed "$tmp" "$dest" "$mode"
}

# ensure_mode_owner PATH MODE: chmod/chown PATH only where it differs.
ensure_mode_owner() {
  local p=$1 mode=$2
  if [[ "$(stat -c %a "$p")" != "$mode" ]]; then
    log "setting mode $mode on $p"
    chmod "$mode" "$p" || die "cannot chmod $p"
  fi
  if [[ "$(stat -c %u:%g "$p")" != "$FILE_OWNER" ]]; then
    log "setting owner $FILE_OWNER on $p"
    chown "$FILE_OWNER" "$p" || die "cannot chown $p"
  fi
}

# ensure_private_dir DIR: DIR exists, mode 0700, owned by FILE_OWNER.
ensure_private_dir() {
  if [[ ! -d "$1" ]]; then
    log "creating $1"
    mkdir -p -- "$(dirname "$1")" || die "cannot create $(dirname "$1")"
    mkdir -m 700 -- "$1" || die "cannot create $1"
  fi
  ensure_mode_owner "$1" 700
}

# ---------------------------------------------------------------------------------------------
# Packages and services.

# pkg_installed_version PKG: print PKG's installed version; fail when it is not installed.
pkg_installed_version() {
  local out
  out=$(dpkg -s "$1" 2>/dev/null) || return 1
  grep -qx 'Status: install ok installed' <<<"$out" || return 1
  sed -n 's/^Version: //p' <<<"$out"
}

# systemd_ensure_running UNIT: enable and start UNIT unless it already is both.
systemd_ensure_running() {
  local unit=$1
  if systemctl is-enabled --quiet "$unit" 2>/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
    log "$unit is enabled and running"
    return 0
  fi
  log "enabling and starting $unit"
  systemctl enable --now "$unit" >&2 ||
    die "could not start $unit: see 'systemctl status $unit' and 'journalctl -u $unit' on this node, fix the cause, then re-run pulumi up"
}

# systemd_restart UNIT: restart UNIT (after its configuration changed).
systemd_restart() {
  local unit=$1
  log "restarting $unit: its configuration changed"
  systemctl restart "$unit" >&2 ||
    die "could not restart $unit: see 'systemctl status $unit' and 'journalctl -u $unit' on this node, fix the cause, then re-run pulumi up"
}

# ---------------------------------------------------------------------------------------------
# Docker.

docker_installed() { command -v docker >/dev/null 2>&1; }

# docker_cli ARGS...: the docker CLI, stopped after DOCKER_CLI_TIMEOUT seconds (KILL 10 s later):
# a daemon that hangs instead of refusing would otherwise hold the step until its own bound.
# --foreground keeps it in the step's process group, so the step's own bound stops it too.
# Returns the CLI's status, or 124 when it was stopped, and says so on the script's stderr even
# when the caller silences the call's (only the subcommand is named: arguments may hold secrets).
# A call that may rightly take longer (a pull, a test container) sets its own bound for that call,
# below its step's wall-clock bound, and may say what else a stop can mean:
#   DOCKER_CLI_TIMEOUT=600 DOCKER_CLI_STALLED="the registry is slow or unreachable" docker_cli pull REF
docker_cli() {
  local rc=0 what=${1:-}
  case "$what" in
    node | service | swarm | volume | network | image | container | plugin) what+=" ${2:-}" ;;
  esac
  timeout --foreground --kill-after=10 "$DOCKER_CLI_TIMEOUT" docker "$@" || rc=$?
  if ((rc == 124 || rc == 137)); then
    log "'docker $what' did not return within ${DOCKER_CLI_TIMEOUT}s: ${DOCKER_CLI_STALLED:-the Docker daemon is hung} (see 'systemctl status docker' and 'journalctl -u docker'; 'systemctl restart docker' usually clears a hung daemon)" 2>&"$SCRIPT_STDERR"
    return 124
  fi
  return "$rc"
}
