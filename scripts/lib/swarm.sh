# shellcheck shell=bash
# This node's Swarm state and the manager-side calls to the Swarm API (the swarm-*.sh steps).
# Sourced after core.sh, never executed.

# swarm_state: this node's LocalNodeState (inactive|pending|active|error|locked).
swarm_state() { docker_cli info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }

# swarm_is_manager: true when this node is a manager that can serve the control API.
swarm_is_manager() { [[ "$(docker_cli info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" == true ]]; }

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

# swarm_read VAR docker_cli ARGS...: run a read-only Docker call answered by the swarm's managers
# and put its stdout in VAR; on failure die with swarm_api_die (stderr is kept apart from the
# output).
swarm_read() {
  local into=$1 out
  shift
  if [[ -z "${SWARM_ERR_FILE:-}" ]]; then
    SWARM_ERR_FILE=$(mktemp) || die "cannot create a temporary file"
    cleanup_add "$SWARM_ERR_FILE"
  fi
  out=$("$@" 2>"$SWARM_ERR_FILE") || swarm_api_die "'${1/#docker_cli/docker} $2 $3'" "$(<"$SWARM_ERR_FILE")"
  printf -v "$into" '%s' "$out"
}

# swarm_require_quorum_without ID NAME: removing manager ID (hostname NAME) must leave a majority
# of the other managers reachable (Leader or Reachable); otherwise refuse with the counts. A Down
# node counts as unreachable whatever raft last said of it, so removing one never lowers the
# reachable count: it is refused only when the swarm has already lost quorum.
swarm_require_quorum_without() {
  local id=$1 name=$2 rows nid status manager_status total=0 reachable=0 its=0 after need
  swarm_read rows docker_cli node ls --format '{{.ID}} {{.Status}} {{.ManagerStatus}}'
  while read -r nid status manager_status; do
    [[ -n "${manager_status:-}" ]] || continue
    total=$((total + 1))
    [[ "$status" != Down ]] || continue
    if [[ "$manager_status" == Leader || "$manager_status" == Reachable ]]; then
      reachable=$((reachable + 1))
      [[ "$nid" != "$id" ]] || its=1
    fi
  done <<<"$rows"
  if ((its == 0)); then
    need=$((total / 2 + 1))
    ((reachable >= need)) ||
      die "cannot remove manager $name ($id, not reachable): the swarm has $total managers of which $reachable are reachable, below the quorum of $need, so it has already lost quorum and no manager can be demoted or removed. Start the managers that are down; if they are lost for good, see docs/operations.md, 'A swarm that lost quorum', then re-run pulumi up"
    return 0
  fi
  after=$((total - 1))
  need=$((after / 2 + 1))
  if ((after > 0 && reachable - 1 < need)); then
    die "refusing to remove manager $name ($id): the swarm has $total managers of which $reachable are reachable; without it $((reachable - 1)) of $after would be, below the quorum of $need. Bring the unreachable managers back ('docker node ls' shows them), or remove them first, then re-run pulumi up"
  fi
}

# swarm_prune_stale NAME KEEP_ID: remove the entries a replaced host left behind under hostname
# NAME (every Down entry but KEEP_ID, and a manager entry that is Unknown and Unreachable: a real
# engine shows a replaced manager's old entry so, not Down; a manager is demoted first, within
# quorum), so that `docker node ls` shows each node once. Other entries are left alone with a
# warning. Runs on a manager.
swarm_prune_stale() {
  local name=$1 keep=$2 rows id status manager role err
  swarm_read rows docker_cli node ls --filter "name=$name" --format '{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}'
  while read -r id status manager; do
    [[ -n "$id" && "$id" != "$keep" ]] || continue
    if [[ "$status" == Unknown && "$manager" == Unreachable ]]; then
      status=Down
    fi
    if [[ "$status" != Down ]]; then
      warn "node $id also has the hostname $name and is $status, not Down: left alone (remove it with 'docker node rm --force $id' once its host is gone)"
      continue
    fi
    role=$(docker_cli node inspect -f '{{.Spec.Role}}' "$id" 2>/dev/null) || continue
    if [[ "$role" == manager ]]; then
      swarm_require_quorum_without "$id" "$name"
      log "demoting the old entry $id of $name (Down)"
      err=$(docker_cli node demote "$id" 2>&1 >/dev/null) || swarm_api_die "demoting the old entry $id of $name" "$err"
    fi
    log "removing the old entry $id of $name (Down) from the swarm"
    if ! err=$(docker_cli node rm --force "$id" 2>&1 >/dev/null) && docker_cli node inspect "$id" >/dev/null 2>&1; then
      swarm_api_die "removing the old entry $id of $name" "$err"
    fi
  done < <(awk -v n="$name" '$2 == n { print $1, $3, $4 }' <<<"$rows")
}

# swarm_join_attempt TOKEN MANAGER:PORT: one join attempt, advertising $ADVERTISE_ADDR; first
# clears what a failed earlier attempt left behind (a node stuck 'pending' or 'error' cannot join).
# For retry: returns non-zero on failure instead of dying.
swarm_join_attempt() {
  local token=$1 manager=$2 state
  state=$(swarm_state) || return 1
  case "$state" in
    active) return 0 ;;
    pending | error)
      log "an earlier join attempt left the state '$state': leaving before trying again"
      docker_cli swarm leave --force >/dev/null 2>&1 || return 1
      ;;
  esac
  docker_cli swarm join --token "$token" --advertise-addr "$ADVERTISE_ADDR" "$manager" >&2 || return 1
}
