#!/usr/bin/env bats
# scripts/spark-master.sh, spark-worker.sh, spark-smoke.sh

load helpers

setup() {
  common_setup
  swarm_is active manager
  export NETWORK_NAME=spark VOLUME_NAME=spark PLACEMENT_LABEL=type=sparkmaster
}

master() { SERVICE_NAME=spark-master IMAGE=${IMAGE:-fsoppelsa/spark-master} run_script spark-master "$@"; }
worker() {
  SERVICE_NAME=spark-worker IMAGE=fsoppelsa/spark-worker REPLICAS=${REPLICAS:-3} WORKER_CORES=1 \
    WORKER_MEMORY=${WORKER_MEMORY:-1g} MASTER_HOST=spark-master run_script spark-worker "$@"
}
smoke() { IMAGE=fsoppelsa/spark-worker MASTER_URL=spark://spark-master:7077 run_script spark-smoke; }

# ------------------------------------------------------------------------------------ master
@test "master create: the book's flags, detached, then waits until its task runs" {
  stub_set docker/converge-polls 2
  master create
  assert_success
  assert_output ""
  assert_mutations <<'EOF2'
docker service create --detach --name spark-master --container-label spark-master --network spark --constraint 'node.labels.type == sparkmaster' --publish 8080:8080 --publish 7077:7077 --publish 6066:6066 --replicas 1 --env SPARK_MASTER_IP=0.0.0.0 --mount type=volume,target=/data,source=spark,volume-driver=flocker fsoppelsa/spark-master
EOF2
  assert_equal "$(grep -c '^docker service ps spark-master' "$STUB_STATE/calls.log")" 3
}

@test "master create, second run: nothing sent (the stored image's :latest@sha256 is ignored)" {
  master create
  clear_logs
  master create
  assert_success
  assert_no_mutations
}

@test "master create: only a changed image is updated" {
  master create
  clear_logs
  IMAGE=fsoppelsa/spark-master:1.6.3 master create
  assert_success
  assert_mutations <<<"docker service update --detach --image fsoppelsa/spark-master:1.6.3 spark-master"
}

@test "master create: task never running -> fails at the bound saying where to look" {
  stub_set docker/converge-polls 100
  master create
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for 1 running task(s) of service spark-master: see why with 'docker service ps --no-trunc spark-master'"
}

@test "master create: PLACEMENT_LABEL must be key=value" {
  PLACEMENT_LABEL=sparkmaster master create
  assert_failure 1
  assert_stderr_contains "PLACEMENT_LABEL must be key=value"
  assert_no_mutations
}

@test "master delete: scales to 0, waits for the task to stop (volume released), removes" {
  master create
  clear_logs
  stub_set docker/converge-polls 2
  master delete
  assert_success
  assert_mutations <<'EOF2'
docker service update --detach --replicas 0 spark-master
docker service rm spark-master
EOF2
  assert_equal "$(grep -c '^docker service ps spark-master --format' "$STUB_STATE/calls.log")" 3
}

@test "master delete: an absent service, or no docker at all, is fine" {
  master delete
  assert_success
  assert_no_mutations
  assert_stderr_contains "service spark-master does not exist: nothing to do"
  uninstall docker
  master delete
  assert_success
}

# ------------------------------------------------------------------------------------ worker
@test "worker create: the book's flags with the master's service name as SPARK_MASTER_IP" {
  worker create
  assert_success
  assert_mutations <<'EOF2'
docker service create --detach --name spark-worker --constraint 'node.labels.type != sparkmaster' --network spark --replicas 3 --env SPARK_MASTER_IP=spark-master --env SPARK_WORKER_CORES=1 --env SPARK_WORKER_MEMORY=1g fsoppelsa/spark-worker
EOF2
  clear_logs
  worker create
  assert_success
  assert_no_mutations
}

@test "worker create: one update carrying only the changed replicas and env" {
  worker create
  clear_logs
  REPLICAS=5 WORKER_MEMORY=2g worker create
  assert_success
  assert_mutations <<<"docker service update --detach --replicas 5 --env-add SPARK_WORKER_MEMORY=2g spark-worker"
  jq -e '.TaskTemplate.ContainerSpec.Env == ["SPARK_MASTER_IP=spark-master", "SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=2g"]' \
    "$STUB_STATE/docker/services/spark-worker.json"
  assert_equal "$(grep -c '^Running' <<<"$(docker service ps spark-worker --filter desired-state=running --format '{{.CurrentState}}')")" 5
}

@test "worker create: must run on a manager" {
  swarm_is active worker
  worker create
  assert_failure 1
  assert_stderr_contains "this node is not an active swarm manager"
  assert_no_mutations
}

@test "worker delete: scales to 0 and removes" {
  worker create
  clear_logs
  worker delete
  assert_success
  assert_mutations <<'EOF2'
docker service update --detach --replicas 0 spark-worker
docker service rm spark-worker
EOF2
}

# ------------------------------------------------------------------------------------ smoke
@test "smoke: runs SparkPi on the overlay and prints only the result line" {
  smoke
  assert_success
  assert_output "Pi is roughly 3.14166"
  grep -qE '^docker run --rm --name spark-smoke-[0-9]+-1 --network spark -e MASTER=spark://spark-master:7077 fsoppelsa/spark-worker /spark/bin/run-example SparkPi 10$' \
    "$STUB_STATE/mutations.log"
  grep -qE '^timeout [0-9]+ docker run ' "$STUB_STATE/calls.log"
}

@test "smoke: a failed first attempt is retried" {
  stub_fail docker-run 1
  smoke
  assert_success
  assert_output "Pi is roughly 3.14166"
  assert_equal "$(grep -c '^docker run' "$STUB_STATE/mutations.log")" 2
}

@test "smoke: never a result -> error with the output's tail" {
  stub_fail docker-run always
  smoke
  assert_failure 1
  assert_output ""
  assert_stderr_contains "All masters are unresponsive"
  assert_stderr_contains "SparkPi did not print 'Pi is roughly …' in 3 attempt(s)"
}

@test "smoke: a timed-out attempt's container is removed" {
  stub_fail timeout 1
  smoke
  assert_success
  grep -qE '^docker rm -f spark-smoke-[0-9]+-1$' "$STUB_STATE/mutations.log"
}
