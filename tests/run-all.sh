#!/usr/bin/env bash
# The project's tests without root, in two tiers (tests/slow-tier.txt says which suite is where):
#
#   bash tests/run-all.sh              npm test: the fast tier — types, shell lint, eslint, formatting,
#                                      unused code, and every jest and bats suite not in the slow tier
#   bash tests/run-all.sh --tier slow  npm run test:slow: the suites in tests/slow-tier.txt
#   bash tests/run-all.sh --tier all   npm run test:all: both (what CI runs, as two commands)
#   ... --dry-run                      prints each part's command instead of running it
#
# The parts run at the same time (the machines it runs on have two cores, and no part uses both all
# the time); each one's output is printed whole when all are done, with its time; the command fails
# if any part fails.
#
# Tools that npm does not install are looked for first (tests/ensure-tools.sh): when one is
# missing, exactly the steps that need it are skipped and reported together, once, with the
# command line that provides it. With CI=true a missing tool fails instead.
#
# What is kept between runs is in one directory, $SWARM_FLOCKER_TEST_CACHE (default
# $TMPDIR/swarm-flocker-test-cache-<uid>): jest's transform cache, the shared program runs, the
# incremental type-check, eslint's and prettier's caches, the fetched Docker CLI. Everything else a
# run writes to a temporary directory goes under one of its own, removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: bash tests/run-all.sh [--tier fast|slow|all] [--dry-run]${1:+ ($1)}" >&2
  exit 2
}
tier=fast
dry_run=false
while (($# > 0)); do
  case $1 in
    --tier)
      (($# >= 2)) || usage "--tier needs a value"
      tier=$2
      shift 2
      ;;
    --tier=*)
      tier=${1#--tier=}
      shift
      ;;
    --dry-run)
      dry_run=true
      shift
      ;;
    *) usage "unknown argument: $1" ;;
  esac
done
case $tier in fast | slow | all) ;; *) usage "--tier is fast, slow or all, got: $tier" ;; esac

# The slow tier's suites, each checked to exist (a renamed suite must not fall out of both tiers).
slow_jest=()
slow_bats=()
while read -r entry; do
  [[ -e "$entry" ]] || {
    echo "tests/slow-tier.txt names $entry, which does not exist: fix or remove the line" >&2
    exit 2
  }
  if [[ "$entry" == tests/bats/* ]]; then
    if [[ -d "$entry" ]]; then slow_bats+=("${entry%/}"/*.bats); else slow_bats+=("$entry"); fi
  else
    slow_jest+=("$entry")
  fi
done < <(grep -Ev '^[[:space:]]*(#|$)' tests/slow-tier.txt)
fast_bats=()
for file in tests/bats/*.bats; do
  [[ " ${slow_bats[*]} " == *" $file "* ]] || fast_bats+=("$file")
done

node tools/dev/checkInstall.js # a missing `npm ci` is named as such, not as "tsc: not found"

missing_tools=$(bash tests/ensure-tools.sh)
lacks() { grep -qx "$1" <<<"$missing_tools"; }

export SWARM_FLOCKER_TEST_CACHE=${SWARM_FLOCKER_TEST_CACHE:-${TMPDIR:-/tmp}/swarm-flocker-test-cache-$EUID}
mkdir -p "$SWARM_FLOCKER_TEST_CACHE"
if ! lacks docker; then
  REAL_DOCKER=$(bash tests/docker-cli.sh) # a fetched CLI is not on PATH: the stubs get it by name
  export REAL_DOCKER
fi
# Every part's temporary files go under run_tmp (the tools' and the tests' alike), the parts' output
# beside it in logs: both are removed however the run ends.
run_tmp=$(mktemp -d)
logs=$(mktemp -d)
trap 'rm -rf "$run_tmp" "$logs"' EXIT
export TMPDIR=$run_tmp

skipped=()
started=$SECONDS

# part NAME COMMAND...: runs in the background, output to its log, status and seconds beside it.
# Under --dry-run it prints the command instead.
part_pids=()
part_names=()
part() {
  local name=$1
  shift
  part_names+=("$name")
  if $dry_run; then
    echo "$name: $*"
    return
  fi
  (
    set +e
    begun=$SECONDS
    "$@" >"$logs/$name.log" 2>&1
    echo "$? $((SECONDS - begun))" >"$logs/$name.status"
  ) &
  part_pids+=($!)
}

# The static checks, in two parts that run beside jest: on two cores a single chain of them
# outlasts jest and leaves a core idle.
type_checks() {
  local status=0 cache=$SWARM_FLOCKER_TEST_CACHE
  echo "== tsc --noEmit (incremental: $cache/tsc)"
  # --incremental keeps each project's state in a build-info file: an unchanged tree is checked
  # in seconds, and any change to a file or a dependency's typings is checked again in full.
  local project
  for project in root policy examples/consumer; do
    npx tsc --noEmit -p "${project/#root/.}" --incremental --tsBuildInfoFile "$cache/tsc/${project//\//-}.tsbuildinfo" || status=1
  done
  echo "== knip (unused files, exports, dependencies)"
  npx knip --no-progress || status=1
  return "$status"
}

lint_checks() {
  local status=0 cache=$SWARM_FLOCKER_TEST_CACHE
  if ! lacks shellcheck; then
    echo "== shellcheck"
    npm run --silent lint:scripts || status=1
  fi
  echo "== eslint (cache: $cache/eslint-cache)"
  # The cache keys each file on its content and the config: a fresh clone lints everything.
  npx eslint --max-warnings 0 --cache --cache-strategy content --cache-location "$cache/eslint-cache" . || status=1
  echo "== prettier --check"
  npx prettier --check --log-level warn --cache --cache-location "$cache/prettier-cache" . || status=1
  return "$status"
}

run_fast=false
run_slow=false
[[ $tier == slow ]] || run_fast=true
[[ $tier == fast ]] || run_slow=true
in_list() {
  local item=$1 entry
  shift
  for entry in "$@"; do [[ $entry == "$item" ]] && return 0; done
  return 1
}

# The rehearsal suite runs the node scripts with the bats stubs: it needs what bats needs.
rehearsal=tests/rehearsal.test.ts
node_script_tools=true
if lacks docker || lacks jq; then node_script_tools=false; fi

bats_files=()
$run_fast && bats_files+=(${fast_bats[@]+"${fast_bats[@]}"})
$run_slow && bats_files+=(${slow_bats[@]+"${slow_bats[@]}"})
if ! $node_script_tools && ((${#bats_files[@]} > 0)); then
  skipped+=("bats")
  bats_files=()
fi

# jest: the fast tier is every suite but the slow ones (jest.config.js's own ignores first:
# tests/engine/ is a tier of its own); the slow tier names its suites; all is both.
escape() { sed 's/[.]/\\./g' <<<"$1"; }
jest_args=(--testPathIgnorePatterns '/node_modules/' '<rootDir>/tests/engine/')
jest_runs=true
if $run_fast && ! $run_slow; then
  for suite in ${slow_jest[@]+"${slow_jest[@]}"}; do jest_args+=("<rootDir>/$(escape "$suite")\$"); done
elif $run_slow && ! $run_fast; then
  jest_args=(--runTestsByPath)
  for suite in ${slow_jest[@]+"${slow_jest[@]}"}; do
    $node_script_tools || [[ $suite != "$rehearsal" ]] || continue
    jest_args+=("$suite")
  done
  ((${#jest_args[@]} > 1)) || jest_runs=false
fi
if ! $node_script_tools; then
  if { $run_slow && in_list "$rehearsal" ${slow_jest[@]+"${slow_jest[@]}"}; } ||
    { $run_fast && ! in_list "$rehearsal" ${slow_jest[@]+"${slow_jest[@]}"}; }; then
    skipped+=("jest $rehearsal")
  fi
  [[ ${jest_args[0]} == --runTestsByPath ]] || jest_args+=("<rootDir>/$(escape "$rehearsal")\$")
fi

# bats runs its files one after another: in two halves (alternate files), so that the second core
# has work once jest is done. (bats --jobs would need GNU parallel, which npm does not provide.)
bats_halves=([0]="" [1]="")
for i in "${!bats_files[@]}"; do bats_halves[i % 2]+="${bats_files[i]} "; done
for half in 0 1; do
  read -r -a half_files <<<"${bats_halves[half]}"
  ((${#half_files[@]} > 0)) || continue
  # The npm package's bin is not linked into node_modules/.bin (its package.json names no "bin").
  part "bats-$((half + 1))" node_modules/bats/bin/bats "${half_files[@]}"
done
! $jest_runs || part jest npx jest --silent "${jest_args[@]}"
if $run_fast; then
  if lacks shellcheck; then skipped+=(shellcheck); fi
  if $dry_run; then
    echo "types: tsc knip"
    echo "lint: shellcheck eslint prettier"
  else
    part types type_checks
    part lint lint_checks
  fi
fi
if $dry_run; then
  ((${#skipped[@]} == 0)) || echo "skipped: ${skipped[*]}"
  exit 0
fi

wait "${part_pids[@]}" || true
status=0
for name in types lint jest bats-1 bats-2; do
  [[ -f "$logs/$name.status" ]] || continue
  read -r part_status seconds <"$logs/$name.status"
  echo "==== $name: $([ "$part_status" -eq 0 ] && echo passed || echo FAILED) in $seconds s"
  cat "$logs/$name.log"
  [ "$part_status" -eq 0 ] || status=1
done

summary="$([ "$status" -eq 0 ] && echo passed || echo FAILED)"
if ((${#skipped[@]} > 0)); then
  echo "== SKIPPED: $(printf '%s, ' "${skipped[@]}" | sed 's/, $//') — this machine lacks $(tr '\n' ' ' <<<"$missing_tools")"
  echo "   provide them with: $(bash tests/ensure-tools.sh --install)"
  echo "   (CI=true turns a missing tool into a failure)"
  summary+=" with ${#skipped[@]} step(s) SKIPPED"
fi
echo "== the $tier tier: $summary in $((SECONDS - started)) s"
exit "$status"
