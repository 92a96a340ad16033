#!/usr/bin/env bash
# install-docker.sh: load the kernel modules Swarm needs, point apt at the configured Ubuntu
# archive, install Docker (plus jq and curl, which the later steps use), make sure the daemon is
# enabled and answering, and stop containers from reaching the EC2 metadata service.
#
# The kernel modules (KERNEL_MODULES, from lib/kernelModules.ts: overlay, br_netfilter, vxlan,
# ip_vs, ip_vs_rr, xt_ipvs, and xt_u32 with an encrypted overlay) are loaded and checked before
# Docker is installed (and so started), and listed in MODULES_LOAD_FILE so that every boot loads
# them before Docker. Without IPVS the tasks run but service VIPs and published ports time out,
# which nothing would report: a module the kernel cannot load stops the step, naming it.
#
# The archive: an end-of-life release leaves archive.ubuntu.com for old-releases.ubuntu.com some
# time after its support ends. UBUNTU_ARCHIVE_MIRROR rewrites the Ubuntu lines of
# /etc/apt/sources.list to it (from a copy of the image's own file, so that a changed or removed
# mirror is applied exactly); an archive that no longer serves the release fails here, on the first
# apt run, with what to set.
#
# The Docker floor: with an encrypted overlay, Docker older than MIN_DOCKER_VERSION (20.10.24)
# may send the overlay's traffic unencrypted (CVE-2023-28840/28841/28842); the engine to install
# (pinned, already installed, or the archive's candidate) is refused below it.
#
# Why the metadata block: Flocker 1.15 reads the instance id with boto 2 over IMDSv1, so Flocker
# nodes must allow IMDSv1 (httpTokens: optional). IMDSv1 GETs ignore the hop limit, so without a
# firewall rule any container could read the instance's credentials. The rule lives in Docker's
# DOCKER-USER chain and is re-applied by a systemd drop-in every time Docker starts.
#
# Environment: DOCKER_PACKAGE (docker.io), DOCKER_VERSION (exact apt version; empty = any),
# MIN_DOCKER_VERSION (e.g. 20.10.24; empty = no floor), KERNEL_MODULES (space separated),
# MODULES_LOAD_FILE, BLOCK_CONTAINER_IMDS (1), WAIT_TIMEOUT (seconds for the daemon to answer,
# 120), DOCKER_CLI_TIMEOUT (seconds one docker call may take, 60), RETRY_*.
# stdin: ubuntuArchiveMirror (empty or none: the image's own archive), then the apt_auth.conf(5)
# entry with its credentials, if any ("machine HOST/PATH login USER password SECRET"). The mirror
# may be a Pulumi secret with credentials in its URL, so it never travels on the command line;
# the credentials go to /etc/apt/auth.conf.d/ubuntu-archive-mirror.conf (0600), never into the
# world-readable sources.list, and nothing here prints them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

(($# == 0)) || usage_error "(no action)" "$1"
DOCKER_PACKAGE=${DOCKER_PACKAGE:-docker.io}
DOCKER_VERSION=${DOCKER_VERSION:-}
BLOCK_CONTAINER_IMDS=${BLOCK_CONTAINER_IMDS:-1}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-120}
# A caller that still puts the mirror on the command line would leak its credentials there.
[[ -z "${UBUNTU_ARCHIVE_MIRROR:-}" ]] ||
  die "UBUNTU_ARCHIVE_MIRROR is not read: ubuntuArchiveMirror may hold credentials, so it comes on stdin"
MIRROR_INPUT=()
[[ -t 0 ]] || mapfile -t MIRROR_INPUT
UBUNTU_ARCHIVE_MIRROR=${MIRROR_INPUT[0]:-}
UBUNTU_ARCHIVE_MIRROR=${UBUNTU_ARCHIVE_MIRROR%/}
MIRROR_AUTH=()
for line in ${MIRROR_INPUT[@]+"${MIRROR_INPUT[@]:1}"}; do
  [[ -n "$line" ]] || continue
  [[ "$line" =~ ^machine[[:space:]]+[^[:space:]]+[[:space:]]+login[[:space:]]+[^[:space:]]+[[:space:]]+password[[:space:]]+[^[:space:]]+$ ]] ||
    die "ubuntuArchiveMirror: a line after the mirror on stdin is not an apt auth.conf entry (machine HOST/PATH login USER password SECRET)"
  MIRROR_AUTH+=("$line")
done
[[ ! "$UBUNTU_ARCHIVE_MIRROR" =~ ://[^/]*@ ]] ||
  die "ubuntuArchiveMirror: the mirror on stdin holds credentials in its URL; they belong in the auth.conf entry after it"
[[ "$UBUNTU_ARCHIVE_MIRROR" == https://* ]] || ((${#MIRROR_AUTH[@]} == 0)) ||
  die "ubuntuArchiveMirror: credentials over plain http would travel in clear text; use https://"
MIN_DOCKER_VERSION=${MIN_DOCKER_VERSION:-}
[[ "$BLOCK_CONTAINER_IMDS" == 0 || "$BLOCK_CONTAINER_IMDS" == 1 ]] ||
  die "BLOCK_CONTAINER_IMDS must be 0 or 1, not '$BLOCK_CONTAINER_IMDS'"
[[ "$DOCKER_PACKAGE" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "DOCKER_PACKAGE '$DOCKER_PACKAGE' is not a Debian package name: fix dockerPackage"
[[ -z "$DOCKER_VERSION" || "$DOCKER_VERSION" =~ ^[A-Za-z0-9.+~:-]+$ ]] || die "DOCKER_VERSION '$DOCKER_VERSION' is not a Debian version: fix dockerVersion"
# No #, & or \ in the URL: it goes into a sed replacement.
[[ -z "$UBUNTU_ARCHIVE_MIRROR" || "$UBUNTU_ARCHIVE_MIRROR" =~ ^https?://[A-Za-z0-9.:%_~/+-]+$ ]] ||
  die "ubuntuArchiveMirror '$UBUNTU_ARCHIVE_MIRROR' is not an http(s) archive URL: fix ubuntuArchiveMirror"
[[ -z "$MIN_DOCKER_VERSION" || "$MIN_DOCKER_VERSION" =~ ^[0-9]+(\.[0-9]+)*$ ]] || die "MIN_DOCKER_VERSION '$MIN_DOCKER_VERSION' is not a version such as 20.10.24"
require_env KERNEL_MODULES MODULES_LOAD_FILE
read -r -a MODULES <<<"$KERNEL_MODULES"
for m in "${MODULES[@]}"; do
  [[ "$m" =~ ^[a-z0-9_]+$ ]] || die "KERNEL_MODULES holds '$m', which is not a kernel module name"
done

IMDS_RULE=(DOCKER-USER -d 169.254.169.254/32 -j REJECT)
DROPIN=$(path /etc/systemd/system/docker.service.d/10-block-container-imds.conf)
DROPIN_CONTENT="[Service]
ExecStartPost=/bin/sh -c 'iptables -C DOCKER-USER -d 169.254.169.254/32 -j REJECT 2>/dev/null || iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT'
"

# DPkg::Lock::Timeout makes apt >= 1.9.11 wait for the dpkg lock; older apt (16.04/18.04)
# ignores the option, and the retry around the install covers lock contention there.
APT_INSTALL=(apt-get install -y -o DPkg::Lock::Timeout=300)
OLD_RELEASES=http://old-releases.ubuntu.com/ubuntu
SOURCES_LIST=$(path /etc/apt/sources.list)
# The image's own sources.list, kept at the first rewrite (apt reads no file of this name).
SOURCES_ORIGINAL=$SOURCES_LIST.swarm-flocker-original
APT_SOURCES_CHANGED=0

MIRROR_AUTH_FILE=$(path /etc/apt/auth.conf.d/ubuntu-archive-mirror.conf)

# apply_mirror_credentials: the mirror's auth.conf entry in its own root-only file (apt reads
# auth.conf.d as root before it drops privileges); removed when the mirror needs none.
apply_mirror_credentials() {
  if ((${#MIRROR_AUTH[@]} == 0)); then
    [[ -e "$MIRROR_AUTH_FILE" ]] || return 0
    rm -f -- "$MIRROR_AUTH_FILE"
    log "removed /etc/apt/auth.conf.d/ubuntu-archive-mirror.conf: ubuntuArchiveMirror needs no credentials"
  elif write_if_changed "$MIRROR_AUTH_FILE" 600 < <(printf '%s\n' "${MIRROR_AUTH[@]}"); then
    log "wrote the credentials of ubuntuArchiveMirror to /etc/apt/auth.conf.d/ubuntu-archive-mirror.conf (0600)"
  else
    return 0
  fi
  APT_SOURCES_CHANGED=1
}

# apply_archive_mirror: sources.list = the image's file with its Ubuntu archive URLs (regional EC2
# mirrors, archive.ubuntu.com, security.ubuntu.com) replaced by UBUNTU_ARCHIVE_MIRROR; with no
# mirror, the image's file again.
apply_archive_mirror() {
  if [[ -z "$UBUNTU_ARCHIVE_MIRROR" ]]; then
    [[ -f "$SOURCES_ORIGINAL" ]] || return 0
    if write_if_changed "$SOURCES_LIST" 644 <"$SOURCES_ORIGINAL"; then
      log "ubuntuArchiveMirror is empty: apt uses the image's own archive again"
      APT_SOURCES_CHANGED=1
    fi
    rm -f -- "$SOURCES_ORIGINAL"
    return 0
  fi
  [[ -f "$SOURCES_LIST" ]] || die "cannot apply ubuntuArchiveMirror: $SOURCES_LIST does not exist on this node"
  [[ -f "$SOURCES_ORIGINAL" ]] || cp -p -- "$SOURCES_LIST" "$SOURCES_ORIGINAL" || die "cannot keep a copy of $SOURCES_LIST"
  if write_if_changed "$SOURCES_LIST" 644 < <(sed -E \
    "s#^(deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://([A-Za-z0-9.-]+\.)?(archive|security)\.ubuntu\.com/ubuntu/?([[:space:]])#\1$UBUNTU_ARCHIVE_MIRROR/\6#" \
    "$SOURCES_ORIGINAL"); then
    log "apt now uses $UBUNTU_ARCHIVE_MIRROR for the Ubuntu archive"
    APT_SOURCES_CHANGED=1
  fi
  grep -qF " $UBUNTU_ARCHIVE_MIRROR/ " "$SOURCES_LIST" ||
    die "ubuntuArchiveMirror is set, but no line of $SOURCES_LIST names an Ubuntu archive to replace (see the file on this node)"
}

# release_gone OUTPUT: apt said an Ubuntu archive of sources.list has no Release file for this
# release (404): the release has left that archive. Other repositories fail the ordinary way.
release_gone() {
  local repo uri suite
  repo=$(grep -oE "repository '[^']+' does not have a Release file" <<<"$1" | head -n 1 | cut -d "'" -f 2) || true
  [[ -n "$repo" ]] || return 1
  read -r uri suite _ <<<"$repo"
  grep -qE "^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?${uri//./\\.}/?[[:space:]]" "$SOURCES_LIST" 2>/dev/null || return 1
  if [[ -n "$UBUNTU_ARCHIVE_MIRROR" ]]; then
    die "ubuntuArchiveMirror $UBUNTU_ARCHIVE_MIRROR does not serve ${suite} (apt: no dists/${suite}/Release there): set it to an archive that holds this release (an end-of-life release is on $OLD_RELEASES: pulumi config set ubuntuArchiveMirror $OLD_RELEASES), then run pulumi up again"
  fi
  die "the Ubuntu archive $uri no longer serves ${suite} (apt: no dists/${suite}/Release there; an end-of-life release moves to old-releases): pulumi config set ubuntuArchiveMirror $OLD_RELEASES, then run pulumi up again"
}

# apt_update: apt-get update; an archive that dropped the release stops the script at once (no retry
# brings it back).
apt_update() {
  local out rc=0
  out=$(apt-get update 2>&1) || rc=$?
  printf '%s\n' "$out" >&2
  if [[ "$out" == *"does not have a Release file"* ]]; then release_gone "$out" || true; fi
  return "$rc"
}

# version_at_least VERSION FLOOR: the leading dotted numbers of VERSION's upstream part (no epoch,
# no revision) are at least FLOOR's, as config/checks/software.ts compares them.
version_at_least() {
  local version=${1#*:} have want i
  [[ "$1" == *:* ]] || version=$1
  version=${version%-*}
  [[ "$version" =~ ^[0-9]+(\.[0-9]+)* ]] || return 1
  IFS=. read -r -a have <<<"${BASH_REMATCH[0]}"
  IFS=. read -r -a want <<<"$2"
  for ((i = 0; i < ${#have[@]} || i < ${#want[@]}; i++)); do
    ((10#${have[i]:-0} == 10#${want[i]:-0})) || return $((10#${have[i]:-0} < 10#${want[i]:-0}))
  done
  return 0
}

# require_docker_floor VERSION WHAT: die when an encrypted overlay is wanted and VERSION is too old.
require_docker_floor() {
  [[ -n "$MIN_DOCKER_VERSION" ]] || return 0
  version_at_least "$1" "$MIN_DOCKER_VERSION" && return 0
  die "$DOCKER_PACKAGE $1 ($2) is older than $MIN_DOCKER_VERSION, and overlayEncrypted is true: Docker before $MIN_DOCKER_VERSION may send the encrypted overlay's traffic unencrypted (CVE-2023-28840/28841/28842). Pin a newer engine with dockerVersion (see 'apt-cache policy $DOCKER_PACKAGE' on this node), point ubuntuArchiveMirror at an archive that has one, or set overlayEncrypted to false"
}

# archive_candidate: the version apt would install now (after apt-get update).
archive_candidate() { apt-cache policy "$DOCKER_PACKAGE" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }

install_packages() {
  local -a want=()
  local have check_candidate=0
  have=$(pkg_installed_version "$DOCKER_PACKAGE" || true)
  [[ -z "$DOCKER_VERSION" ]] || require_docker_floor "$DOCKER_VERSION" "pinned by dockerVersion"
  if [[ -n "$have" && (-z "$DOCKER_VERSION" || "$have" == "$DOCKER_VERSION") ]]; then
    log "$DOCKER_PACKAGE $have is installed"
    require_docker_floor "$have" "installed on this node"
  else
    [[ -n "$DOCKER_VERSION" || -z "$MIN_DOCKER_VERSION" ]] || check_candidate=1
    [[ -z "$have" ]] || log "$DOCKER_PACKAGE $have is installed but $DOCKER_VERSION is wanted"
    want+=("$DOCKER_PACKAGE${DOCKER_VERSION:+=$DOCKER_VERSION}")
  fi
  local p
  for p in jq curl; do
    pkg_installed_version "$p" >/dev/null || want+=("$p")
  done
  if ((${#want[@]} == 0)); then
    # A new archive is proven at once, not at the next step's apt run.
    if ((APT_SOURCES_CHANGED)); then
      retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" apt_update || die "apt-get update failed after $RETRY_ATTEMPTS attempts: check the node's outbound access to the Ubuntu archive"
    fi
    return 0
  fi

  local -a opts=()
  [[ -z "$DOCKER_VERSION" ]] || opts+=(--allow-downgrades)
  _apt_install() {
    apt_update || return 1
    if ((check_candidate)); then
      local candidate
      candidate=$(archive_candidate)
      [[ -z "$candidate" || "$candidate" == "(none)" ]] || require_docker_floor "$candidate" "the archive's candidate"
    fi
    "${APT_INSTALL[@]}" ${opts[@]+"${opts[@]}"} "${want[@]}" >&2 || return 1
  }
  log "installing ${want[*]}"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _apt_install ||
    die "could not install ${want[*]} after $RETRY_ATTEMPTS attempts: check the node's outbound access to the Ubuntu archive and 'apt-cache policy $DOCKER_PACKAGE' (is dockerVersion '${DOCKER_VERSION}' available?), then re-run pulumi up"
}

# load_kernel_modules: every module of KERNEL_MODULES loaded (a loaded one is left alone), or an
# error naming the first that cannot be; then the list persisted for the next boots.
load_kernel_modules() {
  local m err
  require_cmd modprobe "install kmod (apt-get install kmod)"
  for m in "${MODULES[@]}"; do
    [[ ! -d "$(path "/sys/module/$m")" ]] || continue
    log "loading kernel module $m"
    err=$(modprobe "$m" 2>&1) ||
      die "kernel module $m cannot be loaded on this node (kernel $(uname -r)): ${err:-modprobe failed}. Swarm's overlay network needs it (ip_vs, ip_vs_rr and xt_ipvs: service VIPs and the routing mesh; vxlan: the overlay; br_netfilter, overlay: Docker itself). Install the kernel's extra modules ('apt-get install linux-modules-extra-$(uname -r)'; on Ubuntu 16.04 'linux-image-extra-$(uname -r)'), or use an image whose kernel has them, then re-run pulumi up"
  done
  if write_if_changed "$(path "$MODULES_LOAD_FILE")" 644 < <(printf '# Kernel modules Docker Swarm needs (written by the swarm-flocker stack).\n' && printf '%s\n' "${MODULES[@]}"); then
    log "wrote $MODULES_LOAD_FILE: the modules load at every boot"
  fi
}

docker_answers() { docker_cli info >/dev/null 2>&1; }

block_metadata_service() {
  if [[ "$BLOCK_CONTAINER_IMDS" == 1 ]]; then
    if write_if_changed "$DROPIN" 644 < <(printf '%s' "$DROPIN_CONTENT"); then
      log "wrote $DROPIN"
      systemctl daemon-reload || die "systemctl daemon-reload failed"
    fi
    if iptables -C "${IMDS_RULE[@]}" 2>/dev/null; then
      log "containers are already blocked from 169.254.169.254"
    else
      log "blocking containers from 169.254.169.254 (DOCKER-USER)"
      iptables -I "${IMDS_RULE[@]}" || die "could not add the DOCKER-USER rule: is Docker's iptables integration on? (see 'iptables -L DOCKER-USER')"
    fi
  else
    # Opting out undoes what an earlier run set up.
    if [[ -e "$DROPIN" ]]; then
      warn "BLOCK_CONTAINER_IMDS=0: containers will be able to reach the instance metadata service"
      rm -f -- "$DROPIN"
      systemctl daemon-reload || die "systemctl daemon-reload failed"
    fi
    while iptables -C "${IMDS_RULE[@]}" 2>/dev/null; do
      iptables -D "${IMDS_RULE[@]}" || die "could not delete the DOCKER-USER rule"
    done
  fi
}

require_cmd systemctl "this script needs systemd (Ubuntu 16.04 or later)"
load_kernel_modules
apply_mirror_credentials
apply_archive_mirror
install_packages
systemd_ensure_running docker
WAIT_HINT="see 'systemctl status docker' and 'journalctl -u docker' on this node" \
  wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the Docker daemon to answer 'docker info'" docker_answers
block_metadata_service
log "docker is ready"
