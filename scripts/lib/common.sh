# shellcheck shell=bash
# Helpers shared by the node scripts (see ../README.md). Sourced, never executed:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
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
# Docker and Swarm.

docker_installed() { command -v docker >/dev/null 2>&1; }

# docker_cli ARGS...: the docker CLI, stopped after DOCKER_CLI_TIMEOUT seconds (KILL 10 s later):
# a daemon that hangs instead of refusing would otherwise hold the step until its own bound.
# --foreground keeps it in the step's process group, so the step's own bound stops it too.
# Returns the CLI's status, or 124 when it was stopped, and says so on the script's stderr even
# when the caller silences the call's (only the subcommand is named: arguments may hold secrets).
docker_cli() {
  local rc=0
  timeout --foreground --kill-after=10 "$DOCKER_CLI_TIMEOUT" docker "$@" || rc=$?
  if ((rc == 124 || rc == 137)); then
    log "'docker ${1:-}' did not return within ${DOCKER_CLI_TIMEOUT}s: the Docker daemon is hung (see 'systemctl status docker' and 'journalctl -u docker'; 'systemctl restart docker' usually clears it)" 2>&"$SCRIPT_STDERR"
    return 124
  fi
  return "$rc"
}

# swarm_state: this node's LocalNodeState (inactive|pending|active|error|locked).
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

# swarm_is_manager: true when this node is a manager that can serve the control API.
swarm_is_manager() { [[ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" == true ]]; }

# swarm_state_or_die: the state, or a clear error when the daemon does not answer.
swarm_state_or_die() {
  local state
  docker_installed || die "docker is not installed on this node: the install-docker step must run first"
  state=$(swarm_state) || die "the Docker daemon does not answer 'docker info': check 'systemctl status docker' (the install-docker step must have run)"
  printf '%s\n' "$state"
}

# require_manager: this node must be an active manager (commands below talk to the swarm API).
require_manager() {
  local state
  state=$(swarm_state_or_die)
  [[ "$state" == active ]] && swarm_is_manager && return 0
  die "this node is not an active swarm manager (swarm state: $state): run this step on the first manager, after swarm-init"
}

# swarm_leave_if_member: the delete side of swarm-init/swarm-join. Never fails: a node that is
# gone, has no Docker, or has already left is fine.
swarm_leave_if_member() {
  local state id managers err
  if ! docker_installed; then
    log "docker is not installed: nothing to leave"
    return 0
  fi
  if ! state=$(swarm_state); then
    warn "the Docker daemon does not answer: cannot leave the swarm from here; remove this node on a manager with 'docker node rm --force <name>'"
    return 0
  fi
  if [[ "$state" == inactive ]]; then
    log "not in a swarm: nothing to do"
    return 0
  fi
  # A manager leaving with --force does not shrink the raft group: unless it is the last manager,
  # demote it first (it can demote itself while the others keep quorum) so that removing
  # managers one by one never costs the remaining ones their quorum.
  managers=0
  if [[ "$state" == active ]] && swarm_is_manager; then
    managers=$(docker info --format '{{.Swarm.Managers}}' 2>/dev/null || true)
    [[ "$managers" =~ ^[0-9]+$ ]] || managers=0
  fi
  if ((managers > 1)); then
    id=$(docker info --format '{{.Swarm.NodeID}}' 2>/dev/null || true)
    if [[ -n "$id" ]]; then
      log "demoting this manager ($id) before leaving"
      if ! err=$(docker node demote "$id" 2>&1 >/dev/null); then
        # Leaving after a quorum refusal would take the swarm's quorum (or its raft data) with it.
        [[ "$err" != *quorum* && "$err" != *"does not have a leader"* ]] || swarm_api_die "demoting this manager before it leaves" "$err"
        warn "could not demote this manager ($err); leaving anyway (check 'docker node ls' on another manager)"
      fi
    fi
  fi
  log "leaving the swarm (state was $state)"
  docker swarm leave --force >&2 || warn "'docker swarm leave --force' failed; remove this node on a manager with 'docker node rm --force <name>'"
  return 0
}

# swarm_api_die WHAT ERROR: a call to the swarm's managers failed. Says so plainly when the
# managers have lost quorum (Docker: "The swarm does not have a leader"), else shows Docker's text.
swarm_api_die() {
  if [[ "$2" == *"does not have a leader"* ]]; then
    die "$1 failed: the swarm has lost quorum (no leader: fewer than half of its managers are reachable), so nothing in it can change. Start the managers that are down; if they are lost for good, run 'docker swarm init --force-new-cluster --advertise-addr <this node's private ip>' on one surviving manager (docs/operations.md, 'A swarm that lost quorum'), then re-run pulumi up"
  fi
  if [[ "$2" == *"loss of quorum"* ]]; then
    die "$1 refused by Docker: it would leave the swarm's managers without quorum. Bring the unreachable managers back (or remove them first), then re-run pulumi up"
  fi
  die "$1 failed: ${2:-Docker gave no reason} (see 'docker info' and 'docker node ls' on a manager)"
}

# swarm_read VAR CMD...: run a read-only Docker call answered by the swarm's managers and put its
# stdout in VAR; on failure die with swarm_api_die (stderr is kept apart from the output).
swarm_read() {
  local into=$1 out
  shift
  if [[ -z "${SWARM_ERR_FILE:-}" ]]; then
    SWARM_ERR_FILE=$(mktemp) || die "cannot create a temporary file"
    cleanup_add "$SWARM_ERR_FILE"
  fi
  out=$("$@" 2>"$SWARM_ERR_FILE") || swarm_api_die "'$1 $2 $3'" "$(<"$SWARM_ERR_FILE")"
  printf -v "$into" '%s' "$out"
}

# swarm_prune_stale NAME KEEP_ID: remove the entries a replaced host left behind under hostname
# NAME (every Down entry but KEEP_ID; a Down manager is demoted first), so that `docker node ls`
# shows each node once. Entries that are not Down are left alone with a warning. Runs on a manager.
swarm_prune_stale() {
  local name=$1 keep=$2 rows id status role err
  swarm_read rows docker node ls --filter "name=$name" --format '{{.ID}} {{.Hostname}} {{.Status}}'
  while read -r id status; do
    [[ -n "$id" && "$id" != "$keep" ]] || continue
    if [[ "$status" != Down ]]; then
      warn "node $id also has the hostname $name and is $status, not Down: left alone (remove it with 'docker node rm --force $id' once its host is gone)"
      continue
    fi
    role=$(docker node inspect -f '{{.Spec.Role}}' "$id" 2>/dev/null) || continue
    if [[ "$role" == manager ]]; then
      log "demoting the old entry $id of $name (Down)"
      err=$(docker node demote "$id" 2>&1 >/dev/null) || swarm_api_die "demoting the old entry $id of $name" "$err"
    fi
    log "removing the old entry $id of $name (Down) from the swarm"
    if ! err=$(docker node rm --force "$id" 2>&1 >/dev/null) && docker node inspect "$id" >/dev/null 2>&1; then
      swarm_api_die "removing the old entry $id of $name" "$err"
    fi
  done < <(awk -v n="$name" '$2 == n { print $1, $3 }' <<<"$rows")
}

# ---------------------------------------------------------------------------------------------
# Swarm services (swarm-service.sh).

# image_key REF: REF without a digest, with the implicit registry and :latest made explicit in
# Docker's familiar form, so that "img" matches the "img:latest@sha256:…" a service spec stores.
image_key() {
  local ref=${1%%@*} last
  ref=${ref#docker.io/}
  ref=${ref#index.docker.io/}
  ref=${ref#library/}
  last=${ref##*/}
  [[ "$last" == *:* ]] || ref="$ref:latest"
  printf '%s\n' "$ref"
}

# image_matches WANTED CURRENT: same repository and tag; same digest too when WANTED pins one.
image_matches() {
  [[ "$(image_key "$1")" == "$(image_key "$2")" ]] || return 1
  [[ "$1" != *@* ]] || [[ "${1#*@}" == "${2#*@}" ]]
}

# service_exists NAME
service_exists() { docker service inspect "$1" >/dev/null 2>&1; }

# service_running_tasks NAME: number of tasks that should run and do.
service_running_tasks() {
  local states
  states=$(docker service ps "$1" --filter desired-state=running --format '{{.CurrentState}}') || return 1
  grep -c '^Running' <<<"$states" || true
}

# service_converge NAME REPLICAS ENV...: bring an existing service to IMAGE/REPLICAS/ENV with one
# `docker service update` carrying only what differs; nothing when all match. (jq 1.5: no --args.)
service_converge() {
  local name=$1 replicas=$2 spec i
  shift 2
  local -a args=() fields=()
  spec=$(docker service inspect --format '{{json .Spec}}' "$name") || die "cannot inspect service $name"
  # line 1: image, line 2: replicas, then every wanted VAR=value the service does not have
  mapfile -t fields < <(jq -r --arg want "$(printf '%s\n' "$@")" '
    ((.TaskTemplate.ContainerSpec.Env // []) as $have
      | (.TaskTemplate.ContainerSpec.Image // ""),
        ((.Mode.Replicated.Replicas // "") | tostring),
        ($want | split("\n")[] | select(. != "") | select(. as $e | ($have | map(select(. == $e)) | length) == 0)))' <<<"$spec")
  ((${#fields[@]} >= 2)) || die "cannot read the spec of service $name"
  if ! image_matches "$IMAGE" "${fields[0]}"; then
    log "image: ${fields[0]} -> $IMAGE"
    args+=(--image "$IMAGE")
  fi
  if [[ "${fields[1]}" != "$replicas" ]]; then
    log "replicas: ${fields[1]:-none} -> $replicas"
    args+=(--replicas "$replicas")
  fi
  for ((i = 2; i < ${#fields[@]}; i++)); do
    log "env: set ${fields[i]%%=*}"
    args+=(--env-add "${fields[i]}")
  done
  if ((${#args[@]} == 0)); then
    log "service $name is up to date"
    return 0
  fi
  docker service update --detach "${args[@]}" "$name" >/dev/null || die "docker service update of $name failed: see 'docker service inspect $name' and 'docker service ps --no-trunc $name'"
}

# service_wait_running NAME REPLICAS: bounded wait until REPLICAS tasks run.
service_wait_running() {
  local name=$1 replicas=$2
  _tasks_running() { [[ "$(service_running_tasks "$name")" == "$replicas" ]]; }
  WAIT_HINT="see why with 'docker service ps --no-trunc $name' on a manager (image pull, placement constraint, volume plugin), fix it, then re-run pulumi up" \
    wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "$replicas running task(s) of service $name" _tasks_running
}

# service_remove NAME: scale to zero and wait until no task is left running (so a Flocker volume
# is released), then remove the service. Tolerates a service that is already gone.
service_remove() {
  local name=$1
  if ! docker_installed; then
    log "docker is not installed: no service to remove"
    return 0
  fi
  local state
  state=$(swarm_state) || die "the Docker daemon does not answer 'docker info': start it ('systemctl start docker') and re-run the destroy"
  if [[ "$state" == inactive ]]; then
    warn "this node is not in a swarm any more: service $name went with the swarm, nothing to remove"
    return 0
  fi
  if [[ "$state" != active ]] || ! swarm_is_manager; then
    die "this node is not an active swarm manager (state: $state): cannot remove service $name from here"
  fi
  local err
  if ! err=$(docker service inspect "$name" 2>&1 >/dev/null); then
    if [[ "${err,,}" == *"no such service"* || "${err,,}" == *"not found"* ]]; then
      log "service $name does not exist: nothing to do"
      return 0
    fi
    swarm_api_die "inspecting service $name" "$err"
  fi
  local spec
  spec=$(docker service inspect --format '{{json .Spec}}' "$name" 2>/dev/null) || spec='{}'
  if jq -e '.Mode.Replicated != null' <<<"$spec" >/dev/null; then
    log "scaling service $name to 0"
    if ! docker service update --detach --replicas 0 "$name" >/dev/null; then
      service_exists "$name" || return 0
      die "could not scale service $name to 0: see 'docker service inspect $name'"
    fi
    _tasks_stopped() {
      local states
      states=$(docker service ps "$name" --format '{{.CurrentState}}' 2>/dev/null) || return 0
      ! grep -Eq '^(New|Allocated|Pending|Assigned|Accepted|Preparing|Ready|Starting|Running)' <<<"$states"
    }
    WAIT_HINT="see 'docker service ps --no-trunc $name'; a task stuck on a dead node can be cleared by removing that node" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the tasks of service $name to stop" _tasks_stopped
  fi
  log "removing service $name"
  if ! docker service rm "$name" >/dev/null; then
    service_exists "$name" || return 0
    die "docker service rm $name failed: see 'docker service inspect $name'"
  fi
}

# ---------------------------------------------------------------------------------------------
# Flocker's control service (flocker-volume.sh, flocker-test.sh, flocker-status.sh,
# flocker-containers.sh). Callers set FLOCKER_CONTROL_HOST, FLOCKER_ETC and the ports,
# FLOCKER_API_PORT and FLOCKER_AGENT_PORT (lib/ports.ts). Calls authenticate as the plugin user, whose certificate every node has.

# flocker_control_listens: one `ss -ltn`, both ports in its local-address column (*:PORT, [::]:PORT…).
flocker_control_listens() {
  local listening
  listening=$(ss -ltn) || return 1
  awk -v api="$FLOCKER_API_PORT" -v agent="$FLOCKER_AGENT_PORT" \
    '{ n = split($4, a, ":"); seen[a[n]] = 1 } END { exit !(seen[api] && seen[agent]) }' <<<"$listening"
}

# flocker_orphan_hint: how to find an EBS volume Flocker may have left behind.
flocker_orphan_hint() {
  printf '%s' "its EBS volume may be left behind: find it with 'aws ec2 describe-volumes --filters Name=tag-key,Values=flocker-dataset-id' (Flocker names its volumes Name=flocker-<dataset id>) and delete it once detached"
}

# flocker_api METHOD PATH: one call, the body on stdout. The certificate is checked against the
# name every Flocker client uses, control-service (mandatory in its SAN), mapped to the control
# host's address.
flocker_api() {
  local method=$1 api_path=$2 etc
  etc=$(path "$FLOCKER_ETC")
  local -a target=(--url "https://$FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT$api_path")
  if [[ "$FLOCKER_CONTROL_HOST" =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
    target=(--resolve "control-service:$FLOCKER_API_PORT:$FLOCKER_CONTROL_HOST" --url "https://control-service:$FLOCKER_API_PORT$api_path")
  fi
  curl --silent --show-error --fail --max-time "${CURL_MAX_TIME:-30}" --connect-timeout 10 \
    --cacert "$etc/cluster.crt" --cert "$etc/plugin.crt" --key "$etc/plugin.key" \
    -X "$method" "${target[@]}"
}

# flocker_api_retry METHOD PATH: flocker_api with bounded retries; prints the body.
flocker_api_retry() {
  local body
  _flocker_api_call() { body=$(flocker_api "$@") || return 1; }
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _flocker_api_call "$@" || return 1
  printf '%s\n' "$body"
}

# flocker_dataset_gone ID: the cluster state no longer lists dataset ID.
flocker_dataset_gone() {
  local state
  state=$(flocker_api GET /v1/state/datasets) || return 1
  jq -e --arg id "$1" 'map(select(.dataset_id == $id)) | length == 0' <<<"$state" >/dev/null
}

# flocker_delete_datasets_named NAME: delete, through the control service, every dataset whose
# metadata name is NAME (the name Docker's plugin gave it), then wait — at most WAIT_TIMEOUT
# seconds each — until Flocker has deleted it and its EBS volume. Docker's `volume rm` never does
# this: the plugin leaves the dataset alone. Dies with how to find a left-over volume.
flocker_delete_datasets_named() {
  local name=$1 datasets ids id
  datasets=$(flocker_api_retry GET /v1/configuration/datasets) ||
    die "the Flocker control service at $FLOCKER_CONTROL_HOST:$FLOCKER_API_PORT did not answer after $RETRY_ATTEMPTS attempts, so the dataset of volume $name was not deleted and $(flocker_orphan_hint). Start the control service and re-run, or let a destroy go on with 'pulumi destroy --continue-on-error'"
  ids=$(jq -r --arg n "$name" '.[] | select((.deleted // false) == false and (.metadata.name // "") == $n) | .dataset_id' <<<"$datasets") ||
    die "unexpected answer from the Flocker control service (GET /v1/configuration/datasets)"
  if [[ -z "$ids" ]]; then
    log "Flocker has no dataset named $name: nothing to delete"
    return 0
  fi
  for id in $ids; do
    log "deleting Flocker dataset $id ($name)"
    flocker_api_retry DELETE "/v1/configuration/datasets/$id" >/dev/null ||
      die "could not delete Flocker dataset $id ($name): $(flocker_orphan_hint)"
    WAIT_HINT="the dataset agent holding it may be down (see 'docker logs flocker-dataset-agent' or 'journalctl -u flocker-dataset-agent' on the node that had it); Flocker deletes it once that agent runs, otherwise $(flocker_orphan_hint)" \
      wait_for "${WAIT_TIMEOUT:-300}" "$WAIT_INTERVAL" "Flocker to delete dataset $id and its EBS volume" flocker_dataset_gone "$id"
    log "dataset $id is deleted"
  done
}
