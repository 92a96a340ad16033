#!/usr/bin/env bash
# flocker-packages.sh preflight|install: Flocker 1.15 from the package source the operator
# configured. ClusterHQ's apt archive has been gone since 2016, so there is no default source and
# no fallback: the source is either an apt source line (flockerAptSource) or a directory of .deb
# files copied to the node (flockerDebDir).
#
#   preflight  proves the source answers and serves every package, changing nothing on the host
#              (apt runs against a throw-away source list, credentials, package lists and status).
#   install    installs the packages that are not installed yet; apt mode also leaves the source
#              in /etc/apt/sources.list.d/flocker.list (0644), its credentials, if any, in
#              /etc/apt/auth.conf.d/flocker.conf (0600) and flockerAptKey, if set, in
#              FLOCKER_APT_KEYRING (0644), all removed or restored again when the install fails. When every package is installed it only keeps those two files in
#              step with the configuration, without asking the source anything.
#
# Environment: FLOCKER_PACKAGE_SOURCE (apt or deb), FLOCKER_DEB_DIR (deb), FLOCKER_PACKAGES (space
# separated), FLOCKER_ETC (created 0700 by install), RETRY_*; apt mode: FLOCKER_APT_KEYRING (where
# the key goes, the only signed-by allowed), FLOCKER_APT_KEY (flockerAptKey, base64, may be empty),
# FLOCKER_APT_ALLOW_UNSIGNED (true: trusted=yes over https is allowed).
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

HOWTO="set a source that serves the Flocker 1.15 packages (${PACKAGES[*]}) with \`pulumi config set flockerAptSource 'deb [signed-by=${FLOCKER_APT_KEYRING:-<keyring>}] https://<host>/<path> /'\` and flockerAptKey (or copy .deb files with \`pulumi config set flockerDebDir <dir>\`); ClusterHQ's archive is gone, see docs/flocker.md, 'packages'"
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
    die "flockerAptSource must be one apt source line starting with 'deb ', e.g. 'deb [signed-by=${FLOCKER_APT_KEYRING:-<keyring>}] https://<host>/<path> /'"
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

# The trust rule of lib/aptSource.ts, applied again here to what actually reached the node; the
# two are tested against one table (tests/fixtures/apt-sources.tsv). apt reads trusted= and the
# allow-* options with StringToBool (on, 1, 0x1, "yes", %79es all mean yes), so only the plain
# words yes and no are taken, unknown options are refused, and a signature can only come from the
# key the stack writes (FLOCKER_APT_KEYRING, from flockerAptKey). See docs/security.md.
APT_ACCEPTED_OPTIONS="arch arch+ arch- lang lang+ lang- target target+ target- pdiffs by-hash signed-by trusted allow-insecure allow-weak allow-downgrade-to-insecure"
APT_INSECURE_OPTIONS="allow-insecure allow-weak allow-downgrade-to-insecure"
APT_BOOLEAN_OPTIONS="trusted pdiffs $APT_INSECURE_OPTIONS"

# apt_source_problem LINE: prints the first reason not to trust LINE, in lib/aptSource.ts's order;
# prints nothing when it passes.
apt_source_problem() {
  local rest options="" uri opt name value
  local -a opts=()
  local -A seen=()
  local keyring=${FLOCKER_APT_KEYRING:-} key=${FLOCKER_APT_KEY:-} allow=${FLOCKER_APT_ALLOW_UNSIGNED:-false}
  [[ "$1" =~ ^[[:space:]]*deb[[:blank:]]+(.*)$ ]] ||
    { echo 'is not an apt source line: it must start with "deb" (binary packages)'; return; }
  rest=${BASH_REMATCH[1]}
  if [[ "$rest" == \[* ]]; then
    [[ "$rest" =~ ^\[([^]]*)\][[:blank:]](.*)$ ]] ||
      { echo "is not an apt source line: the [options] list must end with ] followed by a space"; return; }
    options=${BASH_REMATCH[1]}
    rest=${BASH_REMATCH[2]}
  fi
  read -r uri _ <<<"$rest"
  [[ "${uri,,}" =~ ^https?: ]] || {
    echo "is not an apt source line: the URI \"$uri\" must start with https:// or http:// (file:, cdrom:, copy: and other methods are not allowed)"
    return
  }
  [[ "$uri" =~ ^[A-Za-z]+://[^/[:space:]] ]] || { echo "is not an apt source line: the URI \"$uri\" has no host"; return; }
  read -r -a opts <<<"$options"
  for opt in ${opts[@]+"${opts[@]}"}; do
    [[ "$opt" =~ ^([A-Za-z][A-Za-z0-9-]*[+-]?)=(.+)$ ]] || { echo "has option \"$opt\", which is not key=value"; return; }
    name=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    if [[ ! "$value" =~ ^[A-Za-z0-9._,/:+~-]+$ ]]; then
      echo "has option \"$opt\", whose value holds a character apt decodes or reads specially (quotes, %, brackets, #, =)"
    elif [[ " $APT_ACCEPTED_OPTIONS " != *" $name "* ]]; then
      echo "has option \"$name\", which is not one the stack accepts (apt's option names are lower case; accepted: ${APT_ACCEPTED_OPTIONS// /, })"
    elif [[ -n "${seen[$name]+set}" ]]; then
      echo "sets $name more than once (apt keeps the last): write it once"
    elif [[ " $APT_BOOLEAN_OPTIONS " == *" $name "* && "$value" != yes && "$value" != no ]]; then
      echo "sets $name=$value, which is not written yes or no: write yes or no"
    elif [[ " $APT_INSECURE_OPTIONS " == *" $name "* && "$value" == yes ]]; then
      echo "sets $name=yes, which lets apt accept a repository without a valid signature: remove it"
    else
      seen[$name]=$value
      continue
    fi
    return
  done
  local trusted=${seen[trusted]:-} signed_by=${seen[signed-by]:-} https=0
  [[ "${uri,,}" != https:* ]] || https=1
  if [[ "$trusted" == no ]]; then
    echo "sets trusted=no, which makes apt refuse the repository even when it is signed: remove it"
  elif [[ "$trusted" == yes && -n "$signed_by" ]]; then
    echo "sets trusted=yes beside signed-by, which makes apt skip the signature check: keep signed-by only"
  elif [[ "$trusted" == yes ]] && ((!https)); then
    echo "sets trusted=yes over plain http: apt would install unsigned packages that anyone on the path can serve, as root on every node; use https://, or sign the repository and name its key (signed-by=$keyring with flockerAptKey)"
  elif [[ "$trusted" == yes && "$allow" != true ]]; then
    echo "sets trusted=yes, which turns off apt's signature check, and flockerAptAllowUnsigned is not true: sign the repository and name its key (signed-by=$keyring with flockerAptKey), or accept TLS as the packages' only check with pulumi config set flockerAptAllowUnsigned true"
  elif [[ -n "$signed_by" && -z "$key" ]]; then
    echo "sets signed-by, but flockerAptKey is not set: the only key a source may name is the one the stack writes to $keyring (pulumi config set flockerAptKey <path of the repository's public key>)"
  elif [[ -n "$signed_by" && "$signed_by" != "$keyring" ]]; then
    echo "sets signed-by=$signed_by, which is not the key the stack provides: write signed-by=$keyring"
  elif [[ -z "$signed_by" && -n "$key" ]]; then
    echo "does not name flockerAptKey's key: add signed-by=$keyring to its options"
  elif [[ -z "$signed_by" && -z "$trusted" ]]; then
    echo "names neither signed-by=$keyring (with flockerAptKey) nor trusted=yes (over https, with flockerAptAllowUnsigned): Flocker's packages are unsigned unless you sign the repository, and apt would refuse them"
  elif ((!https && ${#APT_AUTH[@]} > 0)); then
    echo "carries credentials in a plain http URI: apt would send them in clear text; use https://"
  fi
}

check_apt_trust() {
  [[ "${FLOCKER_APT_KEYRING:-}" == /* ]] || die "FLOCKER_APT_KEYRING must be the absolute path the stack writes flockerAptKey to"
  local problem
  problem=$(apt_source_problem "$APT_LINE")
  [[ -z "$problem" ]] || die "flockerAptSource: '$APT_LINE' $problem"
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
  # The key goes beside the probe's list, so that the host's keyring stays as it is.
  if [[ -n "${FLOCKER_APT_KEY:-}" ]]; then
    decode_apt_key >"$tmp/flocker.gpg"
    printf '%s\n' "${APT_LINE/signed-by=$FLOCKER_APT_KEYRING/signed-by=$tmp/flocker.gpg}" >"$tmp/flocker.list"
  else
    printf '%s\n' "$APT_LINE" >"$tmp/flocker.list"
  fi
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

# decode_apt_key: flockerAptKey's bytes (FLOCKER_APT_KEY is base64) on stdout.
decode_apt_key() {
  base64 -d <<<"$FLOCKER_APT_KEY" 2>/dev/null || die "FLOCKER_APT_KEY is not base64: the step passes flockerAptKey's bytes there"
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

# keep_keyring: FLOCKER_APT_KEYRING holds flockerAptKey (0644: apt reads it as _apt), or is
# absent without one; a change is remembered in CHANGED like keep_file's.
keep_keyring() {
  local file bak="" new
  file=$(path "$FLOCKER_APT_KEYRING")
  new=$(mktemp)
  cleanup_add "$new"
  [[ -z "${FLOCKER_APT_KEY:-}" ]] || decode_apt_key >"$new"
  if [[ -f "$file" ]]; then
    [[ -n "${FLOCKER_APT_KEY:-}" ]] && cmp -s "$new" "$file" && { ensure_mode_owner "$file" 644; return 0; }
    bak=$(mktemp)
    cleanup_add "$bak"
    cp -p -- "$file" "$bak"
  elif [[ -z "${FLOCKER_APT_KEY:-}" ]]; then
    return 0
  fi
  if [[ -z "${FLOCKER_APT_KEY:-}" ]]; then
    rm -f -- "$file"
    log "removed $FLOCKER_APT_KEYRING: flockerAptKey is not set"
  else
    write_if_changed "$file" 644 <"$new" || true
    log "wrote $FLOCKER_APT_KEYRING"
  fi
  CHANGED+=("$FLOCKER_APT_KEYRING"$'\t'"$bak")
}

# keep_source_files: the key, the source list (world-readable, no credentials) and the
# credentials (0600).
keep_source_files() {
  keep_keyring
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
