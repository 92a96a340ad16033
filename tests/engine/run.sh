#!/usr/bin/env bash
# npm run test:engine: the engine tier (docs/testing.md, "Engine tier"). Needs root (namespaces,
# mounts, daemons) and the tools below; refuses clearly without them, then runs jest on
# tests/engine/*.engine.ts one file at a time. Leftovers of a crashed run of the same SFE_TAG are
# removed first; each test file removes what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

APT_LINE="apt-get install -y docker.io openssh-server openssh-client openssh-sftp-server busybox-static iproute2 jq sudo curl"
[[ "$(id -u)" -eq 0 ]] || {
  echo "test:engine needs root (network namespaces, mounts, real dockerd): run it as root" >&2
  exit 2
}
missing=()
for tool in /usr/sbin/dockerd /usr/bin/docker /usr/sbin/sshd ssh sftp ssh-keygen busybox ip nsenter unshare jq sudo curl iptables; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  echo "test:engine: missing ${missing[*]}; install them with: $APT_LINE" >&2
  exit 2
fi
# The tag of everything this run creates (tests/engine/nodes.ts engineTag): from the checkout's
# path unless SFE_TAG is set, so runs from two checkouts never clean up each other's nodes.
SFE_TAG=${SFE_TAG:-w$(printf '%s' "$PWD" | sha256sum | cut -c1-5)}
export SFE_TAG
bash tests/engine/harness/node.sh cleanup "$SFE_TAG"
exec npx jest --config tests/engine/jest.config.js --runInBand "$@"
