#!/usr/bin/env bats
# scripts/swarm-service.sh with the specs components/spark.ts gives the Spark master and workers,
# and scripts/spark-smoke.sh

load helpers

setup() {
  common_setup
  swarm_is active manager
  add_node selfnode01 aws-101 Ready manager
  export NETWORK_NAME=spark
}

# The spec components/spark.ts writes for the master (IMAGE may vary).
master_spec() {
  jq -cn --arg image "${IMAGE:-fsoppelsa/spark-master}" '{image: $image, replicas: 1, network: "spark",
    containerLabels: ["spark-master"], constraints: ["node.labels.type == sparkmaster"],
    publish: [8080, 7077, 6066 | {published: ., target: .}], env: ["SPARK_MASTER_IP=0.0.0.0"],
    mounts: ["type=volume,target=/data,source=spark,volume-driver=flocker"]}'
}
# ... and for the workers (REPLICAS and WORKER_MEMORY may vary).
worker_spec() {
  jq -cn --argjson replicas "${REPLICAS:-3}" --arg memory "${WORKER_MEMORY:-1g}" '{image: "fsoppelsa/spark-worker",
    replicas: $replicas, network: "spark", containerLabels: [], constraints: ["node.labels.type != sparkmaster"],
    publish: [], env: ["SPARK_MASTER_IP=spark-master", "SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=\($memory)"], mounts: []}'
}
master() { SERVICE_NAME=spark-master SERVICE_SPEC=${SERVICE_SPEC:-$(master_spec)} run_script swarm-service "$@"; }
worker() { SERVICE_NAME=spark-worker SERVICE_SPEC=$(worker_spec) run_script swarm-service "$@"; }
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

@test "master create: task never running -> fails at the bound saying where to look, and removes the service it created" {
  stub_set docker/converge-polls 100
  master create
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for 1 running task(s) of service spark-master: see why with 'docker service ps --no-trunc spark-master'"
  assert_stderr_contains "service spark-master did not run 1 task(s) within 5s and was removed again"
  # Pulumi records no delete for a failed create: nothing may be left to hold the network or volume.
  assert_mutations <<'EOF2'
docker service create --detach --name spark-master --container-label spark-master --network spark --constraint 'node.labels.type == sparkmaster' --publish 8080:8080 --publish 7077:7077 --publish 6066:6066 --replicas 1 --env SPARK_MASTER_IP=0.0.0.0 --mount type=volume,target=/data,source=spark,volume-driver=flocker fsoppelsa/spark-master
docker service update --detach --replicas 0 spark-master
docker service rm spark-master
EOF2
  [[ ! -e "$STUB_STATE/docker/services/spark-master.json" ]]
}

@test "worker create: an existing service that does not converge in time is left alone (this run did not create it)" {
  worker create
  clear_logs
  stub_set docker/converge-polls 100
  REPLICAS=5 worker create
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for 5 running task(s) of service spark-worker"
  refute_called_matching '^docker service rm'
  [[ -e "$STUB_STATE/docker/services/spark-worker.json" ]]
}

@test "create: a spec that is not what the script reads is refused, naming the service, before anything is sent" {
  SERVICE_SPEC='not json' master create
  assert_failure 1
  assert_stderr_contains "SERVICE_SPEC must be a JSON object, not 'not json'"
  SERVICE_SPEC='{"image": "fsoppelsa/spark-master", "replicas": 1.5}' master create
  assert_failure 1
  assert_stderr_contains "SERVICE_SPEC of service spark-master: replicas must be a whole number"
  SERVICE_SPEC='{"image": "x", "replicas": 1, "env": ["A=1\n--privileged"]}' master create
  assert_failure 1
  assert_stderr_contains "SERVICE_SPEC of service spark-master: no value may contain a line break"
  SERVICE_SPEC='{"image": "x", "replicas": 1, "publish": [{"published": "8080"}]}' master create
  assert_failure 1
  assert_stderr_contains "publish must be a list of {published, target} port numbers"
  assert_no_mutations
}

@test "create: a minimal spec (image and replicas) sends only --name, --replicas and the image" {
  SERVICE_NAME=web SERVICE_SPEC='{"image": "nginx", "replicas": 2}' run_script swarm-service create
  assert_success
  assert_mutations <<<"docker service create --detach --name web --replicas 2 nginx"
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

@test "master delete: returns only once the removed service's task is gone from its node (its container held the volume)" {
  master create
  clear_logs
  stub_set docker/task-linger 2
  # the bound is a wall clock too: a generous one, so that slow polls on a loaded machine still pass
  WAIT_TIMEOUT=60 master delete
  assert_success
  assert_stderr_contains "service spark-master and its tasks' containers are gone"
  # two listings still show the task (by the service's ID), the third does not
  assert_equal "$(grep -c "^docker node ps selfnode01 --format '{{.Name}}'" "$STUB_STATE/calls.log")" 3
  [[ ! -e "$STUB_STATE/docker/services/sparkmaster1d.lingering" ]]
}

@test "master delete: a task whose container never goes -> fails at the bound saying what to look at" {
  master create
  add_node down01 aws-109 Down worker
  # a real engine lists a replaced manager's old entry as Unknown for a while
  add_node gone01 aws-101 Unknown manager
  stub_set docker/task-linger 100
  master delete
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the containers of service spark-master's tasks to be removed from their nodes"
  assert_stderr_contains "tasks named sparkmaster1d.<slot>"
  # a node that is not Ready is not asked about: no agent there can report them
  refute_called_matching '^docker node ps .*down01'
  refute_called_matching '^docker node ps .*gone01'
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
docker service create --detach --name spark-worker --network spark --constraint 'node.labels.type != sparkmaster' --replicas 3 --env SPARK_MASTER_IP=spark-master --env SPARK_WORKER_CORES=1 --env SPARK_WORKER_MEMORY=1g fsoppelsa/spark-worker
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
  grep -qE '^timeout --foreground --kill-after=10 [0-9]+ docker run ' "$STUB_STATE/calls.log"
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

@test "smoke: SPARK_HOME_IN_IMAGE=/opt/spark runs apache/spark's run-example; a relative or odd path is refused" {
  SPARK_HOME_IN_IMAGE=/opt/spark IMAGE=apache/spark:3.5.3 MASTER_URL=spark://tasks.spark-master:7077 run_script spark-smoke
  assert_success
  assert_output "Pi is roughly 3.14166"
  grep -qE '^docker run --rm --name spark-smoke-[0-9]+-1 --network spark -e MASTER=spark://tasks.spark-master:7077 apache/spark:3.5.3 /opt/spark/bin/run-example SparkPi 10$' \
    "$STUB_STATE/mutations.log"
  clear_logs
  SPARK_HOME_IN_IMAGE='opt/spark; rm -rf /' smoke
  assert_failure 1
  assert_stderr_contains "SPARK_HOME_IN_IMAGE must be an absolute path in the image (/spark, /opt/spark), not 'opt/spark; rm -rf /'"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ args
# The current platform's master: apache/spark started with spark-class, the image's entrypoint kept.
MASTER_ARGS='["/opt/spark/bin/spark-class", "org.apache.spark.deploy.master.Master"]'
current_master_spec() {
  jq -cn --argjson args "${ARGS:-$MASTER_ARGS}" '{image: "apache/spark:3.5.3", replicas: 1, network: "spark",
    constraints: ["node.labels.type == sparkmaster"], env: ["SPARK_MASTER_HOST=0.0.0.0"],
    mounts: ["type=volume,target=/data,source=spark"], args: $args}'
}
current_master() { SERVICE_NAME=spark-master SERVICE_SPEC=$(current_master_spec) run_script swarm-service create; }
stored_args() { jq -c '.TaskTemplate.ContainerSpec.Args' "$STUB_STATE/docker/services/spark-master.json"; }

@test "args: the container command follows the image on create; a second run sends nothing" {
  current_master
  assert_success
  assert_mutations <<'EOF2'
docker service create --detach --name spark-master --network spark --constraint 'node.labels.type == sparkmaster' --replicas 1 --env SPARK_MASTER_HOST=0.0.0.0 --mount type=volume,target=/data,source=spark apache/spark:3.5.3 /opt/spark/bin/spark-class org.apache.spark.deploy.master.Master
EOF2
  assert_equal "$(stored_args)" '["/opt/spark/bin/spark-class","org.apache.spark.deploy.master.Master"]'
  clear_logs
  current_master
  assert_success
  assert_no_mutations
}

@test "args: changed args are updated with --args, quoted so that each word comes back as it was" {
  current_master
  clear_logs
  ARGS='["/opt/spark/bin/spark-class", "org.apache.spark.deploy.worker.Worker", "spark://tasks.spark-master:7077", "it'"'"'s a b"]' current_master
  assert_success
  # one update, its --args text split back (shlex rules) into exactly the spec's words
  assert_equal "$(wc -l <"$STUB_STATE/mutations.log")" 1
  grep -qE "^docker service update --detach --args .+ spark-master$" "$STUB_STATE/mutations.log"
  assert_equal "$(stored_args)" '["/opt/spark/bin/spark-class","org.apache.spark.deploy.worker.Worker","spark://tasks.spark-master:7077","it'"'"'s a b"]'
  assert_stderr_contains 'args: ["/opt/spark/bin/spark-class","org.apache.spark.deploy.master.Master"] -> '
  clear_logs
  ARGS='[]' current_master
  assert_success
  assert_mutations <<<"docker service update --detach --args '' spark-master"
  assert_equal "$(stored_args)" '[]'
}

@test "args: a spec without args (the book's) never compares or sends them" {
  current_master
  clear_logs
  SERVICE_NAME=spark-master SERVICE_SPEC=$(current_master_spec | jq -c 'del(.args)') run_script swarm-service create
  assert_success
  assert_no_mutations
  refute_called_matching '--args'
}

@test "args: not a list of texts -> refused, naming the service, before anything is sent" {
  ARGS='"/opt/spark/bin/spark-class org.apache.spark.deploy.master.Master"' current_master
  assert_failure 1
  assert_stderr_contains "SERVICE_SPEC of service spark-master: args must be a list of texts"
  ARGS='["/opt/spark/bin/spark-class", 7077]' current_master
  assert_failure 1
  assert_stderr_contains "SERVICE_SPEC of service spark-master: containerLabels, constraints, env, mounts and args must be lists of texts"
  assert_no_mutations
}
