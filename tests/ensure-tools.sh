#!/usr/bin/env bash
# The test tools that npm does not install: shellcheck (the shell lint step), and for the node
# scripts' tests (bats, and the offline rehearsal in jest) jq (the scripts use it) and a Docker CLI
# (its parser checks every docker command the scripts emit; tests/bats/stubs/docker). bats and its
# helpers come from node_modules; the Docker CLI may come from tests/docker-cli.sh's cache.
#
#   bash tests/ensure-tools.sh            prints the missing tools, one per line; exits 0
#   bash tests/ensure-tools.sh --install  prints the one command line that provides them
#
# npm test skips the steps that need a missing tool and reports them once (tests/run-all.sh).
# With CI=true a missing tool is an error instead: exit 1 with the command line. Installs nothing:
# npm test needs no root.
set -euo pipefail
here=${BASH_SOURCE[0]%/*}

missing=()
for tool in shellcheck jq; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
"$BASH" "$here/docker-cli.sh" >/dev/null || missing+=(docker)
((${#missing[@]} > 0)) || exit 0

# The line works as it is printed: sudo only where the user is not root (a root shell may have none).
sudo=$( ((EUID == 0)) || echo "sudo ")
apt_packages=()
for tool in "${missing[@]}"; do [[ "$tool" == docker ]] || apt_packages+=("$tool"); done
install="${sudo}apt-get update"
((${#apt_packages[@]} == 0)) || install+=" && ${sudo}apt-get install -y ${apt_packages[*]}"
# Only the client, out of Debian's package, without installing it or an engine.
[[ " ${missing[*]} " != *" docker "* ]] || install+=" && bash tests/docker-cli.sh --fetch"

if [[ "${1:-}" == --install ]]; then
  printf '%s\n' "$install"
elif [[ "${CI:-}" == "true" ]]; then
  echo "npm test under CI needs ${missing[*]}: $install (.ci/run does)" >&2
  exit 1
else
  printf '%s\n' "${missing[@]}"
fi
