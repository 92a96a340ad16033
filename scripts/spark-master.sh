#!/usr/bin/env bash
# spark-master.sh create|delete: the Spark master service, exactly as the book creates it:
#   docker service create --container-label spark-master --network spark
#     --constraint 'node.labels.type == sparkmaster' --publish 8080:8080 --publish 7077:7077
#     --publish 6066:6066 --name spark-master --replicas 1 --env SPARK_MASTER_IP=0.0.0.0
#     --mount type=volume,target=/data,source=spark,volume-driver=flocker fsoppelsa/spark-master
# One replica only: a Flocker (EBS) volume attaches to one node at a time.
#
#   create  creates the service (detached) and waits (bounded) until its task runs; an existing
#           service gets one `docker service update` with just the image/replicas/env that differ.
#           Network, constraint, ports and mount are not updated in place: changing them needs a
#           replacement of this step.
#   delete  scales the service to 0, waits until its task has stopped (so Flocker can detach the
#           volume), removes it; an absent service is fine.
#
# Environment: SERVICE_NAME, IMAGE, NETWORK_NAME, VOLUME_NAME, PLACEMENT_LABEL (key=value),
# WAIT_TIMEOUT (300), WAIT_INTERVAL.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

expect_action "create|delete" "$@"
ACTION=$1
require_env SERVICE_NAME
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

create() {
  require_env IMAGE NETWORK_NAME VOLUME_NAME PLACEMENT_LABEL
  [[ "$PLACEMENT_LABEL" =~ ^[^=]+=.+$ ]] || die "PLACEMENT_LABEL must be key=value (e.g. type=sparkmaster), not '$PLACEMENT_LABEL'"
  local key=${PLACEMENT_LABEL%%=*} value=${PLACEMENT_LABEL#*=}
  require_cmd jq "the install-docker step installs it"
  require_manager
  if service_exists "$SERVICE_NAME"; then
    service_converge "$SERVICE_NAME" 1 SPARK_MASTER_IP=0.0.0.0
  else
    log "creating service $SERVICE_NAME ($IMAGE) on the node labelled $key=$value"
    docker service create --detach --name "$SERVICE_NAME" --container-label spark-master --network "$NETWORK_NAME" \
      --constraint "node.labels.${key} == ${value}" \
      --publish 8080:8080 --publish 7077:7077 --publish 6066:6066 \
      --replicas 1 --env SPARK_MASTER_IP=0.0.0.0 \
      --mount "type=volume,target=/data,source=$VOLUME_NAME,volume-driver=flocker" \
      "$IMAGE" >/dev/null ||
      die "docker service create $SERVICE_NAME failed: see the message above ('docker network ls' / 'docker volume ls' on the master node)"
  fi
  service_wait_running "$SERVICE_NAME" 1
  log "service $SERVICE_NAME is running"
}

case "$ACTION" in
  create) create ;;
  delete) service_remove "$SERVICE_NAME" ;;
esac
