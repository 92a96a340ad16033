#!/usr/bin/env bash
# The test tools that only exist as system packages: shellcheck (the shell lint step), and for the
# bats step jq (the scripts use it) and a Docker CLI (its parser checks every docker command the
# scripts emit; tests/bats/stubs/docker). bats and its helpers come from node_modules.
#
# Prints the missing tools, one per line, and exits 0 so that npm test can skip the steps that
# need them (tests/run-all.sh). With CI=true a missing tool is an error instead: exit 1 with the
# command that installs it. Installs nothing: npm test needs no root.
set -euo pipefail

# tool → the Debian/Ubuntu package that provides it
declare -A package_of=([shellcheck]=shellcheck [jq]=jq [docker]=docker.io)

missing=()
for tool in shellcheck jq docker; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} > 0)) || exit 0

packages=()
for tool in "${missing[@]}"; do packages+=("${package_of[$tool]}"); done
install="sudo apt-get update && sudo apt-get install -y ${packages[*]}"

if [[ "${CI:-}" == "true" ]]; then
  echo "npm test under CI needs ${missing[*]}: install with: $install (.ci/run does)" >&2
  exit 1
fi
printf '%s\n' "${missing[@]}"
