#!/usr/bin/env bash
# install-docker.sh: install Docker (plus jq and curl, which the later steps use), make sure the
# daemon is enabled and answering, and stop containers from reaching the EC2 metadata service.
#
# Why the metadata block: Flocker 1.15 reads the instance id with boto 2 over IMDSv1, so Flocker
# nodes must allow IMDSv1 (httpTokens: optional). IMDSv1 GETs ignore the hop limit, so without a
# firewall rule any container could read the instance's credentials. The rule lives in Docker's
# DOCKER-USER chain and is re-applied by a systemd drop-in every time Docker starts.
#
# Environment: DOCKER_PACKAGE (docker.io), DOCKER_VERSION (exact apt version; empty = any),
# BLOCK_CONTAINER_IMDS (1), WAIT_TIMEOUT (seconds for the daemon to answer, 120), RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

(($# == 0)) || usage_error "(no action)" "$1"
DOCKER_PACKAGE=${DOCKER_PACKAGE:-docker.io}
DOCKER_VERSION=${DOCKER_VERSION:-}
BLOCK_CONTAINER_IMDS=${BLOCK_CONTAINER_IMDS:-1}
WAIT_TIMEOUT=${WAIT_TIMEOUT:-120}
[[ "$BLOCK_CONTAINER_IMDS" == 0 || "$BLOCK_CONTAINER_IMDS" == 1 ]] ||
  die "BLOCK_CONTAINER_IMDS must be 0 or 1, not '$BLOCK_CONTAINER_IMDS'"
[[ "$DOCKER_PACKAGE" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "DOCKER_PACKAGE '$DOCKER_PACKAGE' is not a Debian package name: fix dockerPackage"
[[ -z "$DOCKER_VERSION" || "$DOCKER_VERSION" =~ ^[A-Za-z0-9.+~:-]+$ ]] || die "DOCKER_VERSION '$DOCKER_VERSION' is not a Debian version: fix dockerVersion"

IMDS_RULE=(DOCKER-USER -d 169.254.169.254/32 -j REJECT)
DROPIN=$(path /etc/systemd/system/docker.service.d/10-block-container-imds.conf)
DROPIN_CONTENT="[Service]
ExecStartPost=/bin/sh -c 'iptables -C DOCKER-USER -d 169.254.169.254/32 -j REJECT 2>/dev/null || iptables -I DOCKER-USER -d 169.254.169.254/32 -j REJECT'
"

# DPkg::Lock::Timeout makes apt >= 1.9.11 wait for the dpkg lock; older apt (16.04/18.04)
# ignores the option, and the retry around the install covers lock contention there.
APT_INSTALL=(apt-get install -y -o DPkg::Lock::Timeout=300)

install_packages() {
  local -a want=()
  local have
  have=$(pkg_installed_version "$DOCKER_PACKAGE" || true)
  if [[ -n "$have" && (-z "$DOCKER_VERSION" || "$have" == "$DOCKER_VERSION") ]]; then
    log "$DOCKER_PACKAGE $have is installed"
  else
    [[ -z "$have" ]] || log "$DOCKER_PACKAGE $have is installed but $DOCKER_VERSION is wanted"
    want+=("$DOCKER_PACKAGE${DOCKER_VERSION:+=$DOCKER_VERSION}")
  fi
  local p
  for p in jq curl; do
    pkg_installed_version "$p" >/dev/null || want+=("$p")
  done
  ((${#want[@]} > 0)) || return 0

  local -a opts=()
  [[ -z "$DOCKER_VERSION" ]] || opts+=(--allow-downgrades)
  _apt_install() {
    apt-get update >&2 || return 1
    "${APT_INSTALL[@]}" ${opts[@]+"${opts[@]}"} "${want[@]}" >&2 || return 1
  }
  log "installing ${want[*]}"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _apt_install ||
    die "could not install ${want[*]} after $RETRY_ATTEMPTS attempts: check the node's outbound access to the Ubuntu archive and 'apt-cache policy $DOCKER_PACKAGE' (is dockerVersion '${DOCKER_VERSION}' available?), then re-run pulumi up"
}

docker_answers() { docker info >/dev/null 2>&1; }

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
install_packages
systemd_ensure_running docker
WAIT_HINT="see 'systemctl status docker' and 'journalctl -u docker' on this node" \
  wait_for "$WAIT_TIMEOUT" "$WAIT_INTERVAL" "the Docker daemon to answer 'docker info'" docker_answers
block_metadata_service
log "docker is ready"
