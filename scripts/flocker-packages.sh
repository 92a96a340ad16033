#!/usr/bin/env bash
# flocker-packages.sh preflight|install: Flocker 1.15 from the package source the operator
# configured. ClusterHQ's apt archive has been gone since 2016, so there is no default source and
# no fallback: the source is either an apt source line (flockerAptSource) or a directory of .deb
# files copied to the node (flockerDebDir).
#
#   preflight  proves the source answers and serves every package, changing nothing on the host
#              (apt runs against a throw-away source list, credentials, package lists and status).
#   install    installs the packages that are not installed yet; apt mode also leaves the source
#              in /etc/apt/sources.list.d/flocker.list (0644) and its credentials, if any, in
#              /etc/apt/auth.conf.d/flocker.conf (0600), both removed or restored again when the
#              install fails. When every package is installed it only keeps those two files in
#              step with the configuration, without asking the source anything.
#
# Environment: FLOCKER_PACKAGE_SOURCE (apt or deb), FLOCKER_DEB_DIR (deb), FLOCKER_PACKAGES (space
# separated), FLOCKER_ETC (created 0700 by install), RETRY_*.
# stdin (apt): the source line without credentials, then the apt_auth.conf(5) entries that hold
# them ("machine HOST/PATH login USER password SECRET"). The source may be a Pulumi secret, so it
# never travels on the command line, and nothing here prints a credential.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

expect_action "preflight|install" "$@"
ACTION=$1
(($# == 1)) || die "usage: $SCRIPT_NAME.sh preflight|install (one action)"

require_env FLOCKER_PACKAGES
FLOCKER_PACKAGE_SOURCE=${FLOCKER_PACKAGE_SOURCE:-}
FLOCKER_DEB_DIR=${FLOCKER_DEB_DIR:-}
read -r -a PACKAGES <<<"$FLOCKER_PACKAGES"
((${#PACKAGES[@]} > 0)) || die "FLOCKER_PACKAGES is empty: name the Flocker packages to install"
for p in "${PACKAGES[@]}"; do
  [[ "$p" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "FLOCKER_PACKAGES holds '$p', which is not a Debian package name"
done
# A caller that still puts the source on the command line would leak its credentials there.
[[ -z "${FLOCKER_APT_SOURCE:-}" ]] ||
  die "FLOCKER_APT_SOURCE is not read: the apt source may hold credentials, so it comes on stdin (FLOCKER_PACKAGE_SOURCE=apt)"

HOWTO="set a source that serves the Flocker 1.15 packages (${PACKAGES[*]}) with \`pulumi config set flockerAptSource 'deb [trusted=yes] https://<host>/<path> /'\` (or copy .deb files with \`pulumi config set flockerDebDir <dir>\`); ClusterHQ's archive is gone, see README 'Flocker packages'"
APT_INSTALL=(apt-get install -y -o DPkg::Lock::Timeout=300)
SOURCES_LIST=/etc/apt/sources.list.d/flocker.list
AUTH_FILE=/etc/apt/auth.conf.d/flocker.conf

APT_LINE=""
APT_AUTH=()

# read_apt_source: APT_LINE and APT_AUTH from stdin, checked; no message repeats a credential.
read_apt_source() {
  local -a lines=()
  local line n=0
  mapfile -t lines
  APT_LINE=${lines[0]:-}
  [[ -n "$APT_LINE" ]] || die "flockerAptSource: no apt source line on stdin (the step passes it there): $HOWTO"
  [[ "$APT_LINE" =~ ^deb[[:space:]] ]] ||
    die "flockerAptSource must be one apt source line starting with 'deb ', e.g. 'deb [trusted=yes] https://<host>/<path> /'"
  [[ ! "$APT_LINE" =~ ://[^/[:space:]]*@ ]] ||
    die "flockerAptSource: the source line on stdin holds credentials in its URI; they belong in the auth.conf entries after it"
  for line in "${lines[@]:1}"; do
    n=$((n + 1))
    [[ -n "$line" ]] || continue
    [[ "$line" =~ ^machine[[:space:]]+[^[:space:]]+[[:space:]]+login[[:space:]]+[^[:space:]]+[[:space:]]+password[[:space:]]+[^[:space:]]+$ ]] ||
      die "flockerAptSource: line $((n + 1)) of stdin is not an apt auth.conf entry (machine HOST/PATH login USER password SECRET); a source is one line"
    APT_AUTH+=("$line")
  done
  check_apt_trust
}

# check_apt_trust: Flocker's packages are unsigned, and [trusted=yes] turns apt's signature check
# off: then only TLS keeps someone on the path from serving packages that run as root. Over plain
# http the repository must be signed and its key named ([signed-by=...], without trusted=yes).
check_apt_trust() {
  local rest=${APT_LINE#deb} options="" uri
  rest=${rest#"${rest%%[![:space:]]*}"}
  if [[ "$rest" == \[* ]]; then
    options=" ${rest%%]*} "
    options=${options/\[/}
    rest=${rest#*]}
  fi
  read -r uri _ <<<"$rest"
  [[ "${uri,,}" == http://* ]] || return 0
  [[ "$options" != *[[:space:]]trusted=yes[[:space:]]* ]] ||
    die "flockerAptSource turns off apt's signature check ([trusted=yes]) over plain http: use https://, or sign the repository and name its key with [signed-by=...]"
  [[ "$options" == *[[:space:]]signed-by=* ]] ||
    die "flockerAptSource is plain http without [signed-by=...]: sign the repository and name its key, or use https://"
  ((${#APT_AUTH[@]} == 0)) || die "flockerAptSource: credentials over plain http would travel in clear text; use https://"
}

case "$FLOCKER_PACKAGE_SOURCE" in
  apt)
    [[ -z "$FLOCKER_DEB_DIR" ]] ||
      die "both flockerAptSource and flockerDebDir are set (FLOCKER_PACKAGE_SOURCE=apt, FLOCKER_DEB_DIR): keep one, e.g. \`pulumi config rm flockerDebDir\`"
    MODE=apt
    read_apt_source
    SOURCE_DESC="'$APT_LINE' (flockerAptSource)"
    ;;
  deb)
    [[ -n "$FLOCKER_DEB_DIR" ]] || die "FLOCKER_PACKAGE_SOURCE=deb needs FLOCKER_DEB_DIR, the directory the .deb files were copied to"
    MODE=deb
    SOURCE_DESC="'$FLOCKER_DEB_DIR' (flockerDebDir)"
    ;;
  "") die "no Flocker package source is configured (neither flockerAptSource nor flockerDebDir): $HOWTO" ;;
  *) die "FLOCKER_PACKAGE_SOURCE is '$FLOCKER_PACKAGE_SOURCE': use apt (the source on stdin) or deb (FLOCKER_DEB_DIR)" ;;
esac

source_fail() { die "Flocker package source $SOURCE_DESC $1: $HOWTO"; }

# ---------------------------------------------------------------------------------------------
# apt mode

# apt_check: apt-get update and a candidate for every package, against a temporary source list,
# credentials, package lists, status file and cache, so that nothing on the host changes (and the
# host's own auth.conf cannot make a wrong password look right).
apt_check() {
  local tmp
  tmp=$(mktemp -d)
  cleanup_add "$tmp"
  mkdir -p "$tmp/lists/partial" "$tmp/auth.conf.d"
  : >"$tmp/status"
  printf '%s\n' "$APT_LINE" >"$tmp/flocker.list"
  (umask 077 && printf '%s\n' ${APT_AUTH[@]+"${APT_AUTH[@]}"} >"$tmp/auth.conf")
  local -a o=(
    -o "Dir::Etc::SourceList=$tmp/flocker.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::Etc::netrc=$tmp/auth.conf" -o "Dir::Etc::netrcparts=$tmp/auth.conf.d"
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

# Files changed by this run, and how to undo each: "path<TAB>backup" (no backup: remove it).
CHANGED=()

# keep_file DEST MODE [CONTENT...]: DEST holds the CONTENT lines with MODE, or is absent when no
# CONTENT is given; a change is remembered in CHANGED. Returns 0 when DEST changed.
keep_file() {
  local dest=$1 mode=$2 file bak=""
  shift 2
  file=$(path "$dest")
  if [[ -f "$file" ]]; then
    (($# > 0)) && printf '%s\n' "$@" | cmp -s - "$file" && { ensure_mode_owner "$file" "$mode"; return 1; }
    bak=$(mktemp)
    cleanup_add "$bak"
    cp -p -- "$file" "$bak"
  fi
  if (($# == 0)); then
    [[ -n "$bak" ]] || return 1
    rm -f -- "$file"
    log "removed $dest: the source needs no credentials"
  else
    write_if_changed "$file" "$mode" < <(printf '%s\n' "$@") || return 1
    log "wrote $dest"
  fi
  CHANGED+=("$dest"$'\t'"$bak")
}

# keep_source_files: the source list (world-readable, no credentials) and the credentials (0600).
keep_source_files() {
  keep_file "$SOURCES_LIST" 644 "$APT_LINE" || true
  keep_file "$AUTH_FILE" 600 ${APT_AUTH[@]+"${APT_AUTH[@]}"} || true
}

undo_changed_files() {
  local entry dest bak
  for entry in ${CHANGED[@]+"${CHANGED[@]}"}; do
    dest=${entry%%$'\t'*}
    bak=${entry#*$'\t'}
    if [[ -n "$bak" ]]; then
      mv -f -- "$bak" "$(path "$dest")"
      log "restored the previous $dest"
    else
      rm -f -- "$(path "$dest")"
      log "removed $dest again"
    fi
  done
}

apt_install() {
  apt_check
  keep_source_files
  _apt_install() {
    apt-get update >&2 || return 1
    "${APT_INSTALL[@]}" "${MISSING[@]}" >&2 || return 1
  }
  if ! retry "$RETRY_ATTEMPTS" "$RETRY_DELAY" _apt_install; then
    undo_changed_files
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
  # New credentials (or none any more) must reach apt even so: other steps run apt-get update.
  [[ "$MODE" != apt ]] || keep_source_files
else
  log "installing ${MISSING[*]} from $SOURCE_DESC"
  if [[ "$MODE" == apt ]]; then apt_install; else deb_install; fi
  for p in "${MISSING[@]}"; do
    pkg_installed_version "$p" >/dev/null || source_fail "did not install $p (apt reported success but dpkg does not list it)"
  done
fi
require_env FLOCKER_ETC
ensure_private_dir "$(path "$FLOCKER_ETC")"
