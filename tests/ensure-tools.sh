#!/usr/bin/env bash
# The Debian packages the test suite needs (bats and its helpers, shellcheck, jq, a Docker CLI
# whose parser checks the scripts' docker commands). When one is missing and this user may
# install packages (root, or passwordless sudo), it is installed; otherwise the exact command to
# run is printed and the tests do not start.
set -euo pipefail

missing=()
command -v bats >/dev/null || missing+=(bats)
[[ -f /usr/lib/bats/bats-support/load.bash ]] || missing+=(bats-support)
[[ -f /usr/lib/bats/bats-assert/load.bash ]] || missing+=(bats-assert)
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v jq >/dev/null || missing+=(jq)
command -v docker >/dev/null || missing+=(docker.io)
((${#missing[@]} == 0)) && exit 0

install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "npm test needs these Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "npm test needs: ${missing[*]} (no apt-get here to install them)" >&2; exit 1; }
echo "== installing test tools: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} "${install[@]}" >/dev/null
