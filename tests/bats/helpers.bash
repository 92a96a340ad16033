# shellcheck shell=bash
# Shared set-up for the node scripts' bats tests: no Docker daemon, no AWS, no real host.
#
# Each test gets, under $BATS_TEST_TMPDIR:
#   root/   FS_ROOT, the tree the scripts read and write instead of /
#   state/  the stubs' simulated state, calls.log, mutations.log, invalid.log (see stubs/)
#   bin/    the stubs (symlinks to stubs/), first on PATH
# and PATH = bin + the host's PATH. `uninstall CMD` removes a stub and replaces the host's
# directories holding a HIDEABLE command by copies without it: the command is really absent.
# Bounds are shortened (WAIT_INTERVAL=1 with a no-op sleep, small WAIT_TIMEOUT, RETRY_*).

bats_require_minimum_version 1.5.0
# The libraries' load.bash files run `dirname` once per sourced file, for every test: a
# fork-free stand-in while they load saves about a quarter of the suite's processes.
dirname() { local d=${1%/*}; [[ "$1" == */* ]] || d=.; printf '%s\n' "${d:-/}"; }
# The pinned npm copies (package.json devDependencies), so that no system package is needed.
load "$BATS_TEST_DIRNAME/../../node_modules/bats-support/load.bash"
load "$BATS_TEST_DIRNAME/../../node_modules/bats-assert/load.bash"
unset -f dirname

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SCRIPTS=$REPO_ROOT/scripts
export STUB_DIR=$BATS_TEST_DIRNAME/stubs
STUBS=(docker apt-get apt-cache dpkg dpkg-deb systemctl cloud-init curl hostnamectl hostname
  iptables fuser ss timeout sleep chown journalctl modprobe)

# The real Docker CLI validates the stub's mutating calls. It is looked up here, before a test
# puts the stubs on PATH; CI installs one (without it every docker mutation fails the test).
if [[ -z "${REAL_DOCKER:-}" ]]; then
  REAL_DOCKER=$(command -v docker || true)
fi
case "$REAL_DOCKER" in "$STUB_DIR"/* | "${BATS_RUN_TMPDIR:-/nonexistent}"/*) REAL_DOCKER="" ;; esac
export REAL_DOCKER
REAL_BASH=$(command -v bash)

# Commands a test may make absent (uninstall): PATH directories of the host that hold one of
# them are replaced by a per-run copy (symlinks) without it; the other directories stay as they
# are (the stubs in bin/ shadow the host's copies anyway).
HIDEABLE=(docker cloud-init systemctl curl jq fuser)

# test_path: the PATH tests use after bin/. Runs as a separate bash: under bats' per-command
# tracing the loops would take seconds.
test_path() {
  # shellcheck disable=SC2016 # the script is single-quoted on purpose
  bash -c '
    set -eu
    farm_root=$1
    shift
    declare -A seen=() hide=()
    for c in "$@"; do hide[$c]=1; done
    out=""
    IFS=: read -r -a dirs <<<"$PATH"
    for d in "${dirs[@]}"; do
      [[ "$d" == /* && -d "$d" ]] || continue
      real=$(cd -P "$d" && pwd)
      [[ -z "${seen[$real]:-}" ]] || continue
      seen[$real]=1
      holds=0
      for c in "$@"; do [[ ! -e "$real/$c" ]] || holds=1; done
      if ((holds)); then
        farm=$farm_root/${#seen[@]}
        if [[ ! -d "$farm" ]]; then
          links=()
          for f in "$real"/*; do
            [[ -n "${hide[${f##*/}]:-}" ]] || links+=("$f")
          done
          mkdir -p "$farm"
          ln -s "${links[@]}" "$farm/"
        fi
        real=$farm
      fi
      out+=":$real"
    done
    printf "%s\n" "${out#:}"
  ' _ "$1" "${HIDEABLE[@]}"
}

common_setup() {
  if [[ ! -e "$BATS_RUN_TMPDIR/stubs-checked" ]]; then
    local s
    for s in "${STUBS[@]}"; do
      [[ -x "$STUB_DIR/$s" ]] || fail "stub $STUB_DIR/$s is missing or not executable (chmod +x tests/bats/stubs/*)"
    done
    touch "$BATS_RUN_TMPDIR/stubs-checked"
  fi
  export STUB_STATE=$BATS_TEST_TMPDIR/state
  export FS_ROOT=$BATS_TEST_TMPDIR/root
  BIN=$BATS_TEST_TMPDIR/bin
  mkdir -p "$STUB_STATE/fail" "$FS_ROOT/etc" "$BIN"
  touch "$STUB_STATE/calls.log" "$STUB_STATE/mutations.log" "$STUB_STATE/invalid.log"
  # bash first on PATH too: every `#!/usr/bin/env bash` stub start finds it at once
  ln -s "${STUBS[@]/#/$STUB_DIR/}" "$REAL_BASH" "$BIN/"
  PATH="$BIN:$PATH"
  export WAIT_INTERVAL=1 WAIT_TIMEOUT=5 RETRY_ATTEMPTS=3 RETRY_DELAY=2
  # What the program gives the steps (lib/nodeParameters.ts, lib/flockerPackages.ts): the scripts
  # hold no port, path or package list of their own.
  export FLOCKER_ETC=/etc/flocker FLOCKER_API_PORT=4523 FLOCKER_AGENT_PORT=4524
  export PLUGIN_SOCKET=/run/docker/plugins/flocker/flocker.sock
  export KERNEL_MODULES="overlay br_netfilter vxlan ip_vs ip_vs_rr xt_ipvs" MODULES_LOAD_FILE=/etc/modules-load.d/swarm-flocker.conf
  export FLOCKER_PACKAGES="clusterhq-python-flocker clusterhq-flocker-node clusterhq-flocker-docker-plugin"
  if ((EUID != 0)); then
    FILE_OWNER="$(id -u):$(id -g)"
    export FILE_OWNER
  fi
}

common_teardown() {
  if [[ -s "$STUB_STATE/invalid.log" ]]; then
    echo "# calls rejected by the stubs or by the real Docker CLI:" >&3
    sed 's/^/#   /' "$STUB_STATE/invalid.log" >&3
    return 1
  fi
}

setup() { common_setup; }
teardown() { common_teardown; }

# ------------------------------------------------------------------------------------ running

# run_script NAME [ARG...]: run scripts/<NAME>.sh with stdin from /dev/null; stdout in $output,
# stderr in $stderr.
run_script() {
  local name=$1
  shift
  run --separate-stderr bash "$SCRIPTS/$name.sh" "$@" </dev/null
}

# run_script_stdin FILE NAME [ARG...]: the same, with stdin from FILE.
run_script_stdin() {
  local input=$1 name=$2
  shift 2
  run --separate-stderr bash "$SCRIPTS/$name.sh" "$@" <"$input"
}

# ------------------------------------------------------------------------------------ stub state

stub_set() { # stub_set FILE VALUE: a state file under state/
  [[ "$1" != */* || -d "$STUB_STATE/${1%/*}" ]] || mkdir -p "$STUB_STATE/${1%/*}"
  printf '%s\n' "$2" >"$STUB_STATE/$1"
}
stub_fail() { stub_set "fail/$1" "$2"; } # stub_fail KEY N|always
uninstall() { # uninstall CMD: the command is absent
  # the PATH without the host's copies is computed once per bats run (copying a big bin
  # directory's entries takes about a second)
  if [[ ! -s "$BATS_RUN_TMPDIR/test-path" ]]; then
    PATH=${PATH#"$BIN:"} test_path "$BATS_RUN_TMPDIR/hostbin" >"$BATS_RUN_TMPDIR/test-path"
  fi
  PATH="$BIN:$(<"$BATS_RUN_TMPDIR/test-path")"
  rm -f "$BIN/$1"
  if command -v "$1" >/dev/null; then fail "cannot hide $1 (add it to HIDEABLE in helpers.bash)"; fi
}

swarm_is() { # swarm_is STATE [manager|worker]
  stub_set docker/swarm "$1"
  stub_set docker/manager "$([[ "${2:-worker}" == manager ]] && echo true || echo false)"
  [[ "$1" != active ]] || stub_set docker/self selfnode01
}

add_node() { # add_node ID HOSTNAME STATUS ROLE [TASKS]
  local n=$STUB_STATE/docker/nodes/$1
  mkdir -p "$n"
  echo "$2" >"$n/hostname"
  echo "$3" >"$n/status"
  echo "$4" >"$n/role"
  echo active >"$n/availability"
  echo "${5:-0}" >"$n/tasks"
}

installed() { # installed PKG VERSION
  stub_set "dpkg/$1" "$2"
}

clear_logs() { : >"$STUB_STATE/calls.log"; : >"$STUB_STATE/mutations.log"; }

# ------------------------------------------------------------------------------------ assertions

# assert_mutations: the state-changing calls equal stdin, line for line.
assert_mutations() {
  local want got
  want=$(cat)
  got=$(cat "$STUB_STATE/mutations.log")
  if [[ "$got" != "$want" ]]; then
    batslib_print_kv_single_or_multi 8 expected "$want" actual "$got" | batslib_decorate "state-changing calls differ" | fail
  fi
}

assert_no_mutations() {
  if [[ -s "$STUB_STATE/mutations.log" ]]; then
    batslib_print_kv_single_or_multi 8 mutations "$(cat "$STUB_STATE/mutations.log")" | batslib_decorate "expected no state-changing call" | fail
  fi
}

# assert_called LINE: calls.log holds exactly this line.
assert_called() {
  grep -qxF -- "$1" "$STUB_STATE/calls.log" ||
    batslib_print_kv_single_or_multi 8 wanted "$1" calls "$(cat "$STUB_STATE/calls.log")" | batslib_decorate "call not made" | fail
}

refute_called_matching() { # refute_called_matching REGEX
  if grep -qE -- "$1" "$STUB_STATE/calls.log"; then
    batslib_print_kv_single_or_multi 8 pattern "$1" calls "$(cat "$STUB_STATE/calls.log")" | batslib_decorate "unexpected call" | fail
  fi
}

assert_stderr_contains() {
  # shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`
  [[ "$stderr" == *"$1"* ]] ||
    batslib_print_kv_single_or_multi 8 wanted "$1" stderr "$stderr" | batslib_decorate "stderr lacks text" | fail
}

refute_anywhere() { # refute_anywhere TEXT: not in stdout, stderr, or any call the stubs saw
  local where
  for where in output stderr; do
    [[ "${!where}" != *"$1"* ]] || fail "secret text found in $where"
  done
  ! grep -rqF -- "$1" "$STUB_STATE/calls.log" "$STUB_STATE/mutations.log" || fail "secret text found in the call log"
}

# spy CMD: put a wrapper for the real CMD first on PATH that records its arguments in calls.log
# (to prove, e.g., that secret content never reaches jq's command line).
spy() {
  local real
  real=$(PATH=${PATH#*:} command -v "$1") || fail "no real $1 to spy on"
  printf '#!/usr/bin/env bash\nsource "$STUB_DIR/_stublib.bash"\nexec %q "$@"\n' "$real" >"$BIN/$1"
  chmod +x "$BIN/$1"
}
