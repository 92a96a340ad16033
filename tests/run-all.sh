#!/usr/bin/env bash
# The project's one test command (`npm test`): types, shell lint, eslint, formatting, unused
# code, the jest suites and the bats suite, without root. bats runs in the background while the TypeScript checks run, and its
# report is printed after theirs; the command fails if any part fails.
#
# Tools that only exist as system packages are looked for first (tests/ensure-tools.sh): when one
# is missing, the steps that need it are skipped and reported together, once, with the command
# that installs it. With CI=true a missing tool fails instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node tools/checkInstall.js # a missing `npm ci` is named as such, not as "tsc: not found"

missing_tools=$(bash tests/ensure-tools.sh)
lacks() { grep -qx "$1" <<<"$missing_tools"; }
skipped=()

started=$SECONDS
bats_log=$(mktemp)
trap 'rm -f "$bats_log"' EXIT
bats_pid=""
if lacks docker || lacks jq; then
  skipped+=(bats)
else
  # The npm package's bin is not linked into node_modules/.bin (its package.json names no "bin").
  node_modules/bats/bin/bats tests/bats >"$bats_log" 2>&1 &
  bats_pid=$!
fi

status=0
if lacks shellcheck; then
  skipped+=(shellcheck)
else
  echo "== shellcheck"; npm run --silent lint:scripts || status=1
fi
echo "== tsc --noEmit"; npm run --silent typecheck || status=1
echo "== eslint"; npx eslint --max-warnings 0 . || status=1
echo "== prettier --check"; npx prettier --check --log-level warn . || status=1
echo "== knip (unused files, exports, dependencies)"; npx knip --no-progress || status=1
echo "== jest"; npx jest --silent || status=1

if [[ -n "$bats_pid" ]]; then
  bats_status=0
  wait "$bats_pid" || bats_status=$?
  echo "== bats"; cat "$bats_log"
  [ "$bats_status" -eq 0 ] || status=1
fi

summary="$([ "$status" -eq 0 ] && echo passed || echo FAILED)"
if ((${#skipped[@]} > 0)); then
  packages=$(sed 's/^docker$/docker.io/' <<<"$missing_tools" | tr '\n' ' ')
  echo "== SKIPPED: ${skipped[*]} — this machine lacks $(tr '\n' ' ' <<<"$missing_tools")"
  echo "   install with: sudo apt-get update && sudo apt-get install -y ${packages% }"
  echo "   (CI=true turns a missing tool into a failure)"
  summary+=" with ${#skipped[@]} step(s) SKIPPED"
fi
echo "== npm test: $summary in $((SECONDS - started)) s"
exit "$status"
