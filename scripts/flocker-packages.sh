#!/usr/bin/env bash
# flocker-packages.sh preflight|install: Flocker 1.15 from the package source the operator
# configured. ClusterHQ's apt archive has been gone since 2016, so there is no default source and
# no fallback: the source is either an apt source line (flockerAptSource) or a directory of .deb
# files copied to the node (flockerDebDir).
#
#   preflight  proves the source answers and serves every package, changing nothing on the host
#              (apt runs against a throw-away source list, package lists and status file).
#   install    installs the packages that are not installed yet; apt mode also leaves the source
#              in /etc/apt/sources.list.d/flocker.list (removed again when the install fails).
#              When every package is installed already it does nothing and asks no source.
#
# Environment: FLOCKER_APT_SOURCE or FLOCKER_DEB_DIR (exactly one), FLOCKER_PACKAGES (space
# separated), FLOCKER_ETC (/etc/flocker, created 0700 by install), RETRY_*.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

expect_action "preflight|install" "$@"
ACTION=$1
(($# == 1)) || die "usage: $SCRIPT_NAME.sh preflight|install (one action)"

FLOCKER_PACKAGES=${FLOCKER_PACKAGES:-clusterhq-python-flocker clusterhq-flocker-node clusterhq-flocker-docker-plugin}
FLOCKER_ETC=${FLOCKER_ETC:-/etc/flocker}
FLOCKER_APT_SOURCE=${FLOCKER_APT_SOURCE:-}
FLOCKER_DEB_DIR=${FLOCKER_DEB_DIR:-}
read -r -a PACKAGES <<<"$FLOCKER_PACKAGES"
((${#PACKAGES[@]} > 0)) || die "FLOCKER_PACKAGES is empty: name the Flocker packages to install"
for p in "${PACKAGES[@]}"; do
  [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "FLOCKER_PACKAGES holds '$p', which is not a Debian package name"
done

HOWTO="set a source that serves the Flocker 1.15 packages (${PACKAGES[*]}) with \`pulumi config set flockerAptSource 'deb [trusted=yes] https://<host>/<path> /'\` (or copy .deb files with \`pulumi config set flockerDebDir <dir>\`); ClusterHQ's archive is gone, see README 'Flocker packages'"
APT_INSTALL=(apt-get install -y -o DPkg::Lock::Timeout=300)

if [[ -n "$FLOCKER_APT_SOURCE" && -n "$FLOCKER_DEB_DIR" ]]; then
  die "both flockerAptSource and flockerDebDir are set (FLOCKER_APT_SOURCE, FLOCKER_DEB_DIR): keep one, e.g. \`pulumi config rm flockerDebDir\`"
elif [[ -n "$FLOCKER_APT_SOURCE" ]]; then
  MODE=apt
  SOURCE_DESC="'$FLOCKER_APT_SOURCE' (flockerAptSource)"
  if [[ "$FLOCKER_APT_SOURCE" == *$'\n'* || ! "$FLOCKER_APT_SOURCE" =~ ^deb[[:space:]] ]]; then
    die "flockerAptSource must be one apt source line starting with 'deb ', e.g. 'deb [trusted=yes] https://<host>/<path> /'; got $SOURCE_DESC"
  fi
elif [[ -n "$FLOCKER_DEB_DIR" ]]; then
  MODE=deb
  SOURCE_DESC="'$FLOCKER_DEB_DIR' (flockerDebDir)"
else
  die "no Flocker package source is configured (neither flockerAptSource nor flockerDebDir): $HOWTO"
fi

source_fail() { die "Flocker package source $SOURCE_DESC $1: $HOWTO"; }

# ---------------------------------------------------------------------------------------------
# apt mode

# apt_check: apt-get update and a candidate for every package, against a temporary source list,
# package lists, status file and cache, so that nothing on the host changes.
apt_check() {
  local tmp
  tmp=$(mktemp -d)
  cleanup_add "$tmp"
  mkdir -p "$tmp/lists/partial"
  : >"$tmp/status"
  printf '%s\n' "$FLOCKER_APT_SOURCE" >"$tmp/flocker.list"
  local -a o=(
    -o "Dir::Etc::SourceList=$tmp/flocker.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::State::status=$tmp/status"
    -o "Dir::Cache::pkgcache=$tmp/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$tmp/srcpkgcache.bin"
    -o APT::Sandbox::User=root
  )
  _probe_update() { apt-get "${o[@]}" update >&2 || return 1; }
  log "checking the Flocker package source $SOURCE_DESC"
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _probe_update || source_fail "is unreachable (apt-get update failed)"

  local -a missing=()
  local p cand
  for p in "${PACKAGES[@]}"; do
    cand=$(apt-cache "${o[@]}" policy "$p" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }') || cand=""
    if [[ -z "$cand" || "$cand" == "(none)" ]]; then
      missing+=("$p")
    else
      log "$p $cand is available"
    fi
  done
  ((${#missing[@]} == 0)) || source_fail "lacks package(s) ${missing[*]}"
}

apt_install() {
  local src bak="" changed=0
  apt_check
  src=$(path /etc/apt/sources.list.d/flocker.list)
  if [[ -f "$src" ]]; then
    bak=$(mktemp)
    cleanup_add "$bak"
    cp -p -- "$src" "$bak"
  fi
  write_if_changed "$src" 644 < <(printf '%s\n' "$FLOCKER_APT_SOURCE") && changed=1
  ((changed == 0)) || log "wrote /etc/apt/sources.list.d/flocker.list"

  _apt_install() {
    apt-get update >&2 || return 1
    "${APT_INSTALL[@]}" "${MISSING[@]}" >&2 || return 1
  }
  if ! retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _apt_install; then
    if ((changed)); then
      if [[ -n "$bak" ]]; then
        mv -f -- "$bak" "$src"
        log "restored the previous /etc/apt/sources.list.d/flocker.list"
      else
        rm -f -- "$src"
        log "removed /etc/apt/sources.list.d/flocker.list again"
      fi
    fi
    source_fail "could not be installed from (apt-get install ${MISSING[*]} failed; see the apt output above)"
  fi
}

# ---------------------------------------------------------------------------------------------
# deb mode

DEB_FILES=()

# deb_check: a <pkg>_*.deb whose Package field is <pkg>, for every package (the highest version
# when there are several). Fills DEB_FILES in PACKAGES order.
deb_check() {
  local dir p f name version best
  [[ -d "$FLOCKER_DEB_DIR" ]] || source_fail "is not a directory on this node (copy the .deb files there first)"
  dir=$(cd "$FLOCKER_DEB_DIR" && pwd)
  local -a missing=()
  DEB_FILES=()
  for p in "${PACKAGES[@]}"; do
    best=""
    for f in "$dir/${p}"_*.deb; do
      [[ -f "$f" ]] || continue
      name=$(dpkg-deb -f "$f" Package 2>/dev/null) || source_fail "holds $f, which is not a readable .deb"
      [[ "$name" == "$p" ]] || continue
      version=$(dpkg-deb -f "$f" Version 2>/dev/null) || version=0
      best+="$version"$'\t'"$f"$'\n'
    done
    if [[ -z "$best" ]]; then
      missing+=("$p")
      continue
    fi
    f=$(printf '%s' "$best" | sort -t $'\t' -k1,1V | tail -n 1 | cut -f 2-)
    log "$p: $f"
    DEB_FILES+=("$f")
  done
  ((${#missing[@]} == 0)) || source_fail "lacks package(s) ${missing[*]} (no matching <package>_<version>_<arch>.deb)"
}

deb_install() {
  local -a files=()
  local i j
  deb_check
  for i in "${!PACKAGES[@]}"; do
    for j in "${MISSING[@]}"; do
      [[ "${PACKAGES[$i]}" != "$j" ]] || files+=("${DEB_FILES[$i]}")
    done
  done
  # apt-get (not dpkg -i) so that the packages' dependencies come from the Ubuntu archive.
  _deb_install() {
    # The lists only serve the dependencies here: stale ones may do.
    apt-get update >&2 || warn "apt-get update failed; trying the install with the current package lists"
    "${APT_INSTALL[@]}" "${files[@]}" >&2 || return 1
  }
  retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _deb_install ||
    source_fail "could not be installed from (apt-get install of the .deb files failed; see the apt output above)"
}

# ---------------------------------------------------------------------------------------------

if [[ "$ACTION" == preflight ]]; then
  if [[ "$MODE" == apt ]]; then apt_check; else deb_check; fi
  log "Flocker package source $SOURCE_DESC serves ${PACKAGES[*]}"
  exit 0
fi

MISSING=()
for p in "${PACKAGES[@]}"; do
  if v=$(pkg_installed_version "$p"); then
    log "$p $v is installed"
  else
    MISSING+=("$p")
  fi
done

if ((${#MISSING[@]} == 0)); then
  log "all Flocker packages are installed"
else
  log "installing ${MISSING[*]} from $SOURCE_DESC"
  if [[ "$MODE" == apt ]]; then apt_install; else deb_install; fi
  for p in "${MISSING[@]}"; do
    pkg_installed_version "$p" >/dev/null || source_fail "did not install $p (apt reported success but dpkg does not list it)"
  done
fi
ensure_private_dir "$(path "$FLOCKER_ETC")"
