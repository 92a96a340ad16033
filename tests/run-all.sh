#!/usr/bin/env bash
# The project's one test command (`npm test`): types, shell lint, the jest suites and the bats
# suite. bats runs in the background while the TypeScript checks run, and its report is printed
# after theirs; the command fails if any part fails. Missing Debian test tools are installed
# first where this user may (tests/ensure-tools.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tests/ensure-tools.sh

bats_log=$(mktemp)
trap 'rm -f "$bats_log"' EXIT
started=$SECONDS
bats tests/bats >"$bats_log" 2>&1 &
bats_pid=$!

status=0
echo "== shellcheck"; npm run --silent lint:scripts || status=1
echo "== tsc --noEmit"; npm run --silent typecheck || status=1
echo "== jest"; npx jest --silent || status=1

bats_status=0
wait "$bats_pid" || bats_status=$?
echo "== bats"; cat "$bats_log"
[ "$bats_status" -eq 0 ] || status=1

echo "== npm test: $([ "$status" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit "$status"
