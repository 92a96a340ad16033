#!/usr/bin/env bash
# The Docker CLI whose flag parser the bats docker stub hands every state-changing call to
# (tests/bats/stubs/docker). Only the client is needed, never an engine: the CLI parses its flags
# before it dials a daemon.
#
#   bash tests/docker-cli.sh          prints the CLI to use and exits 0, or prints nothing and exits 1
#   bash tests/docker-cli.sh --fetch  without one, takes the static client out of Debian's package
#                                     (apt-get download + dpkg-deb: nothing installed, no root), then prints it
#
# The CLI to use: $REAL_DOCKER when set, else a `docker` on PATH, else the one a --fetch left in
# the test cache ($SWARM_FLOCKER_TEST_CACHE, default $TMPDIR/swarm-flocker-test-cache-<uid>; see
# docs/testing.md). The package is docker-cli where the release splits the client out (Debian 13,
# recent Ubuntu), else docker.io, whose client is the same binary beside the engine (~36 MB).
set -euo pipefail

cache=${SWARM_FLOCKER_TEST_CACHE:-${TMPDIR:-/tmp}/swarm-flocker-test-cache-$EUID}
cached=$cache/docker-cli/docker

found() {
  if [[ -n "${REAL_DOCKER:-}" && -x "$REAL_DOCKER" ]]; then
    printf '%s\n' "$REAL_DOCKER"
  elif command -v docker >/dev/null 2>&1; then
    command -v docker
  elif [[ -x "$cached" ]]; then
    printf '%s\n' "$cached"
  else
    return 1
  fi
}

case "${1:-}" in
  "") found ;;
  --fetch)
    found && exit 0
    for tool in apt-get apt-cache dpkg-deb; do
      command -v "$tool" >/dev/null 2>&1 || {
        echo "docker-cli.sh: $tool is missing: the Docker CLI comes from a Debian/Ubuntu package; install a docker CLI by other means and put it on PATH" >&2
        exit 1
      }
    done
    package=docker.io
    if apt-cache show docker-cli >/dev/null 2>&1; then package=docker-cli; fi
    if ! apt-cache show "$package" >/dev/null 2>&1; then
      sudo=$( ((EUID == 0)) || echo "sudo ")
      echo "docker-cli.sh: apt knows no $package package: run ${sudo}apt-get update first" >&2
      exit 1
    fi
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # apt's sandbox user cannot write to a private temp dir; the download is checked by apt all the same.
    (cd "$work" && timeout 600 apt-get download -q -o APT::Sandbox::User=root "$package" >/dev/null)
    dpkg-deb --fsys-tarfile "$work"/*.deb | tar -x -C "$work" ./usr/bin/docker
    mkdir -p "${cached%/*}"
    mv "$work/usr/bin/docker" "$cached.partial"
    mv "$cached.partial" "$cached" # whole or absent: a concurrent run never sees half a binary
    "$cached" --version >&2
    printf '%s\n' "$cached"
    ;;
  *)
    echo "usage: bash tests/docker-cli.sh [--fetch]" >&2
    exit 2
    ;;
esac
