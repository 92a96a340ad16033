#!/usr/bin/env bash
# spark-smoke.sh: run the book's SparkPi example against the cluster and print its result line.
#   docker run --rm --network NETWORK_NAME -e MASTER=MASTER_URL IMAGE SPARK_HOME_IN_IMAGE/bin/run-example SparkPi 10
# run-example submits to $MASTER (Spark 1.x's, and 3.5's spark-submit still reads it); the
# container joins the (attachable) overlay so the master's service name resolves and the
# executors can reach the driver.
#
# Attempts: at most RETRY_ATTEMPTS (the first pulls the image; a worker may still be registering),
# all within WAIT_TIMEOUT seconds (900). A container left by a timed-out attempt is removed.
#
# Environment: IMAGE, NETWORK_NAME, MASTER_URL; SPARK_HOME_IN_IMAGE (where Spark is in the image:
# /spark, the book's fsoppelsa images, unless given; /opt/spark for apache/spark).
# Stdout: the line "Pi is roughly <x>".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/core.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/core.sh"

(($# == 0)) || usage_error "(no action)" "$1"
require_env IMAGE NETWORK_NAME MASTER_URL
WAIT_TIMEOUT=${WAIT_TIMEOUT:-900}
SPARK_HOME_IN_IMAGE=${SPARK_HOME_IN_IMAGE:-/spark}
[[ "$SPARK_HOME_IN_IMAGE" =~ ^(/[A-Za-z0-9._-]+)+$ ]] ||
  die "SPARK_HOME_IN_IMAGE must be an absolute path in the image (/spark, /opt/spark), not '$SPARK_HOME_IN_IMAGE'"
docker_installed || die "docker is not installed on this node: the install-docker step must run first"

deadline=$((SECONDS + WAIT_TIMEOUT))
output=""
result=""
attempt=0
while ((attempt < RETRY_ATTEMPTS)); do
  attempt=$((attempt + 1))
  remaining=$((deadline - SECONDS))
  ((remaining > 0)) || break
  name="spark-smoke-$$-$attempt"
  log "attempt $attempt of $RETRY_ATTEMPTS: SparkPi against $MASTER_URL (at most ${remaining}s)"
  rc=0
  output=$(DOCKER_CLI_TIMEOUT=$remaining DOCKER_CLI_STALLED="SparkPi did not finish: the job may be waiting for workers, or the Docker daemon is hung" docker_cli run --rm --name "$name" --network "$NETWORK_NAME" -e MASTER="$MASTER_URL" \
    "$IMAGE" "$SPARK_HOME_IN_IMAGE/bin/run-example" SparkPi 10 2>&1) || rc=$?
  result=$(grep -Eo 'Pi is roughly [0-9.]+' <<<"$output" | tail -n 1 || true)
  [[ -z "$result" ]] || break
  log "no result (exit $rc)"
  if ((rc == 124)); then
    docker_cli rm -f "$name" >/dev/null 2>&1 || true
  fi
  ((attempt >= RETRY_ATTEMPTS)) || sleep "$RETRY_DELAY"
done

if [[ -z "$result" ]]; then
  log "last output:"
  tail -n 20 <<<"$output" >&2
  die "SparkPi did not print 'Pi is roughly …' in $attempt attempt(s) within ${WAIT_TIMEOUT}s: check the master UI (the stack's sparkUiUrl output) for registered workers and 'docker service ps' of the Spark services, then re-run pulumi up"
fi
printf '%s\n' "$result"
