#!/usr/bin/env bash
# The project's one test command (`npm test`): types, shell lint, eslint, formatting, unused
# code, the jest suites and the bats suite, without root. The three parts run at the same time
# (the machines it runs on have two cores, and no part uses both all the time); each one's output
# is printed whole when all are done, with its time; the command fails if any part fails.
#
# Tools that npm does not install are looked for first (tests/ensure-tools.sh): when one is
# missing, exactly the steps that need it are skipped and reported together, once, with the
# command line that provides it. With CI=true a missing tool fails instead.
#
# What is kept between runs is in one directory, $SWARM_FLOCKER_TEST_CACHE (default
# $TMPDIR/swarm-flocker-test-cache-<uid>): jest's transform cache, the shared program runs, the
# incremental type-check and prettier's cache, the fetched Docker CLI. Everything else a run
# writes to a temporary directory goes under one of its own, removed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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
part_pids=()
part() {
  local name=$1
  shift
  (
    set +e
    begun=$SECONDS
    "$@" >"$logs/$name.log" 2>&1
    echo "$? $((SECONDS - begun))" >"$logs/$name.status"
  ) &
  part_pids+=($!)
}

static_checks() {
  local status=0 cache=$SWARM_FLOCKER_TEST_CACHE
  if ! lacks shellcheck; then
    echo "== shellcheck"
    npm run --silent lint:scripts || status=1
  fi
  echo "== tsc --noEmit (incremental: $cache/tsc)"
  # --incremental keeps each project's state in a build-info file: an unchanged tree is checked
  # in seconds, and any change to a file or a dependency's typings is checked again in full.
  local project
  for project in root policy examples/consumer; do
    npx tsc --noEmit -p "${project/#root/.}" --incremental --tsBuildInfoFile "$cache/tsc/${project//\//-}.tsbuildinfo" || status=1
  done
  echo "== eslint"
  npx eslint --max-warnings 0 . || status=1
  echo "== prettier --check"
  npx prettier --check --log-level warn --cache --cache-location "$cache/prettier-cache" . || status=1
  echo "== knip (unused files, exports, dependencies)"
  npx knip --no-progress || status=1
  return "$status"
}

# The rehearsal suite runs the node scripts with the bats stubs: it needs what bats needs.
jest_skip=()
if lacks docker || lacks jq; then
  skipped+=("bats" "jest tests/rehearsal.test.ts")
  jest_skip=(--testPathIgnorePatterns '/node_modules/' '<rootDir>/tests/engine/' '<rootDir>/tests/rehearsal\.test\.ts$')
else
  # The npm package's bin is not linked into node_modules/.bin (its package.json names no "bin").
  part bats node_modules/bats/bin/bats tests/bats
fi
if lacks shellcheck; then skipped+=(shellcheck); fi
part jest npx jest --silent ${jest_skip[@]+"${jest_skip[@]}"}
part static static_checks

wait "${part_pids[@]}" || true
status=0
for name in static jest bats; do
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
echo "== npm test: $summary in $((SECONDS - started)) s"
exit "$status"
