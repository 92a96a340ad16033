#!/usr/bin/env bash
# wait-boot.sh: the first step on every node. Waits (bounded) until cloud-init has finished and
# nothing holds the apt/dpkg locks (unattended-upgrades runs on first boot), then gives the host
# its node name, as docker-machine did in the book: Swarm commands address nodes by hostname.
#
# Environment: NODE_NAME (the expected hostname), WAIT_TIMEOUT (seconds, default 600; bounds the
# cloud-init wait and, separately, the apt lock wait), WAIT_INTERVAL.
# Stdout: "boot: ready".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

(($# == 0)) || usage_error "(no action)" "$1"
require_env NODE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-600}

[[ "$NODE_NAME" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] ||
  die "NODE_NAME '$NODE_NAME' is not a valid hostname (letters, digits and '-', at most 63 characters): fix nodeNamePrefix"

APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)

wait_cloud_init() {
  if ! command -v cloud-init >/dev/null 2>&1; then
    log "cloud-init is not installed: nothing to wait for"
    return 0
  fi
  log "waiting up to ${WAIT_TIMEOUT}s for cloud-init to finish"
  local rc=0
  # --foreground: in the step's process group, so the step's own bound stops it too.
  timeout --foreground --kill-after=10 "$WAIT_TIMEOUT" cloud-init status --wait >&2 || rc=$?
  case $rc in
    0) log "cloud-init has finished" ;;
    2) warn "cloud-init finished with recoverable errors (exit 2, cloud-init >= 23.4); continuing. Details: 'cloud-init status --long' and /var/log/cloud-init.log on $NODE_NAME" ;;
    124 | 137) die "cloud-init did not finish within ${WAIT_TIMEOUT}s: look at 'cloud-init status --long' and /var/log/cloud-init-output.log on $NODE_NAME, then re-run pulumi up (a slow boot can be given more time with WAIT_TIMEOUT)" ;;
    *) die "cloud-init failed (exit $rc): look at 'cloud-init status --long' and /var/log/cloud-init-output.log on $NODE_NAME; replace the instance (pulumi up --replace <its urn>) if its first boot is broken" ;;
  esac
}

# apt_lock_holder: print the first apt/dpkg lock file some process holds; fail when none is held.
apt_lock_holder() {
  local f p
  for f in "${APT_LOCKS[@]}"; do
    p=$(path "$f")
    [[ -e "$p" ]] || continue
    if fuser "$p" >/dev/null 2>&1; then
      printf '%s\n' "$f"
      return 0
    fi
  done
  return 1
}

apt_locks_free() { ! apt_lock_holder >/dev/null; }

wait_apt_locks() {
  if ! command -v fuser >/dev/null 2>&1; then
    warn "fuser (psmisc) is not installed: cannot see apt/dpkg lock holders; apt's own lock timeout and retries will have to do"
    return 0
  fi
  local holder
  if holder=$(apt_lock_holder); then
    log "$holder is held (unattended-upgrades or cloud-init apt run); waiting up to ${WAIT_TIMEOUT}s"
    WAIT_HINT="see who holds it with 'sudo fuser -v $holder' on $NODE_NAME; unattended-upgrades can take a while on first boot, re-run pulumi up when it is done" \
      wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the apt/dpkg locks to be released" apt_locks_free
  fi
  log "apt/dpkg locks are free"
}

set_hostname() {
  local current
  current=$(hostname)
  if [[ "$current" != "$NODE_NAME" ]]; then
    log "setting hostname $NODE_NAME (was $current)"
    hostnamectl set-hostname "$NODE_NAME" || die "hostnamectl set-hostname $NODE_NAME failed: set the hostname by hand and re-run pulumi up"
  fi

  # Keep cloud-init from resetting the hostname to the EC2 default at the next boot.
  local cloud_dir
  cloud_dir=$(path /etc/cloud/cloud.cfg.d)
  if [[ -d "$cloud_dir" ]]; then
    if write_if_changed "$cloud_dir/99-swarm-flocker-hostname.cfg" 644 \
      < <(printf '# Written by wait-boot.sh: Swarm and Flocker address this node by its hostname.\npreserve_hostname: true\n'); then
      log "cloud-init told to preserve the hostname"
    fi
  fi

  # sudo resolves its own hostname: map it to 127.0.1.1 as Debian does.
  local hosts
  hosts=$(path /etc/hosts)
  if ! awk -v n="$NODE_NAME" '$1 == "127.0.1.1" { for (i = 2; i <= NF; i++) if ($i == n) found = 1 } END { exit !found }' "$hosts" 2>/dev/null; then
    log "adding '127.0.1.1 $NODE_NAME' to /etc/hosts"
    if [[ -s "$hosts" && -n "$(tail -c 1 "$hosts")" ]]; then
      printf '\n' >>"$hosts"
    fi
    printf '127.0.1.1 %s\n' "$NODE_NAME" >>"$hosts" || die "cannot update /etc/hosts"
  fi
}

wait_cloud_init
wait_apt_locks
set_hostname
printf 'boot: ready\n'
