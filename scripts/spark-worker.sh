#!/usr/bin/env bash
# spark-worker.sh create|delete: the Spark worker service, as the book creates it:
#   docker service create --constraint 'node.labels.type != sparkmaster' --network spark
#     --name spark-worker --replicas 3 --env SPARK_MASTER_IP=10.0.0.3 --env SPARK_WORKER_CORES=1
#     --env SPARK_WORKER_MEMORY=1g fsoppelsa/spark-worker
# except SPARK_MASTER_IP: the book hard-codes 10.0.0.3, a guess at the master task's address on
# the overlay. MASTER_HOST is the master service's name, which Swarm's DNS resolves on the overlay
# to the service's virtual IP whatever address its task gets.
#
#   create  creates the service (detached) and waits (bounded) until REPLICAS tasks run; an
#           existing service gets one `docker service update` with just the image/replicas/env
#           that differ.
#   delete  scales to 0, waits until the tasks have stopped, removes the service; absent is fine.
#
# Environment: SERVICE_NAME, IMAGE, NETWORK_NAME, REPLICAS, WORKER_CORES, WORKER_MEMORY,
# MASTER_HOST, PLACEMENT_LABEL (key=value; workers go where it is NOT set), WAIT_TIMEOUT (300).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env SERVICE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

create() {
  require_env IMAGE NETWORK_NAME REPLICAS WORKER_CORES WORKER_MEMORY MASTER_HOST PLACEMENT_LABEL
  [[ "$PLACEMENT_LABEL" =~ ^[^=]+=.+$ ]] || die "PLACEMENT_LABEL must be key=value (e.g. type=sparkmaster), not '$PLACEMENT_LABEL'"
  [[ "$REPLICAS" =~ ^[0-9]+$ ]] || die "REPLICAS must be a whole number, not '$REPLICAS'"
  local key=${PLACEMENT_LABEL%%=*} value=${PLACEMENT_LABEL#*=}
  local -a env=("SPARK_MASTER_IP=$MASTER_HOST" "SPARK_WORKER_CORES=$WORKER_CORES" "SPARK_WORKER_MEMORY=$WORKER_MEMORY")
  require_cmd jq "the install-docker step installs it"
  require_manager
  if service_exists "$SERVICE_NAME"; then
    service_converge "$SERVICE_NAME" "$REPLICAS" "${env[@]}"
  else
    log "creating service $SERVICE_NAME ($IMAGE, $REPLICAS replicas) on nodes without $key=$value"
    docker service create --detach --name "$SERVICE_NAME" --constraint "node.labels.${key} != ${value}" \
      --network "$NETWORK_NAME" --replicas "$REPLICAS" \
      --env "${env[0]}" --env "${env[1]}" --env "${env[2]}" \
      "$IMAGE" >/dev/null ||
      die "docker service create $SERVICE_NAME failed: see the message above"
  fi
  service_wait_running "$SERVICE_NAME" "$REPLICAS"
  log "service $SERVICE_NAME is running $REPLICAS task(s)"
}

case "$ACTION" in
  create) create ;;
  delete) service_remove "$SERVICE_NAME" ;;
esac
