#!/usr/bin/env bash
# swarm-token.sh: print the swarm's join token for SWARM_ROLE (worker|manager), and nothing else.
# Runs on a manager; Pulumi marks the output secret and pipes it into swarm-join.sh's stdin.
#
# Environment: SWARM_ROLE.
# Stdout: the token only.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"
# shellcheck source-path=SCRIPTDIR source=lib/swarm.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/swarm.sh"

(($# == 0)) || usage_error "(no action)" "$1"
require_env SWARM_ROLE
[[ "$SWARM_ROLE" == worker || "$SWARM_ROLE" == manager ]] || die "SWARM_ROLE must be worker or manager, not '$SWARM_ROLE'"
require_manager

swarm_read token docker_cli swarm join-token -q "$SWARM_ROLE"
[[ -n "$token" ]] || die "docker swarm join-token returned an empty token"
printf '%s\n' "$token"
