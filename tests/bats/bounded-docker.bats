#!/usr/bin/env bats
# Every docker call of the node scripts goes through docker_cli (scripts/lib/core.sh), which bounds
# it: a daemon that hangs fails the step with a message instead of holding `pulumi up` until the
# step's own bound (or forever). The stub daemon's hang switch (fail/docker-hang) sleeps 30 s per
# call for real, so a run that ends sooner was ended by the bound.

load helpers

# bare_docker_calls FILE...: "file:line: code" for each docker invocation that does not go
# through docker_cli. Comments and quoted text (messages naming docker commands) are dropped
# first, except double-quoted text holding a command substitution, which may run docker itself.
bare_docker_calls() {
  local f
  for f in "$@"; do
    sed -E -e 's/^[[:space:]]*#.*//' \
      -e "s/'[^']*'//g" \
      -e 's/"([^"$\\]|\\.|\$[^("])*"//g' "$f" |
      grep -nE '(^|[^[:alnum:]_./-])docker([[:space:]]|$|\))' |
      grep -vE 'command -v docker([[:space:]]|$)|systemd_[a-z_]+ docker|journalctl -u docker |timeout --foreground --kill-after=10 +docker +\|\| rc=' |
      sed "s|^|${f##*/}:|"
  done
}

# hung_daemon: every docker call hangs; docker_cli gives up after 1 s.
hung_daemon() {
  stub_fail docker-hang always
  export DOCKER_CLI_TIMEOUT=1
}

# ------------------------------------------------------------------------------------ the guard
@test "no script or library calls docker except through docker_cli" {
  run bare_docker_calls "$SCRIPTS"/*.sh "$SCRIPTS"/lib/*.sh
  assert_success
  assert_output ""
}

@test "the guard finds a bare docker call wherever a command can stand, and not in messages" {
  cat >"$BATS_TEST_TMPDIR/sample.sh" <<'EOF'
docker info
x=$(docker node ls --format '{{.ID}}')
[[ "$(docker info --format '{{.Swarm.NodeID}}')" == x ]] || docker swarm leave
swarm_read rows docker node ls
  timeout 600 docker pull "$ref"
# docker info in a comment
die "docker volume rm $v failed: see 'docker ps -a'; docker rm it"
x=$(docker_cli info) || docker_installed || command -v docker
EOF
  run bare_docker_calls "$BATS_TEST_TMPDIR/sample.sh"
  assert_output - <<'EOF'
sample.sh:1:docker info
sample.sh:2:x=$(docker node ls --format )
sample.sh:3:[[ "$(docker info --format )" == x ]] || docker swarm leave
sample.sh:4:swarm_read rows docker node ls
sample.sh:5:  timeout 600 docker pull 
EOF
}

# ------------------------------------------------------------------------------------ hung daemon
@test "swarm-init: a hung daemon fails the step within the bound, naming the call" {
  hung_daemon
  local started=$SECONDS
  ADVERTISE_ADDR=10.0.1.10 SWARM_PORT=2377 SWARM_ADDRESS_POOL=10.255.0.0/16 SWARM_ADDRESS_POOL_MASK_LENGTH=24 DOCKER_BUILTIN_ADDRESS_POOL=10.0.0.0/8 \
    run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "[swarm-init] 'docker info' did not return within 1s: the Docker daemon is hung"
  assert_stderr_contains "the Docker daemon does not answer 'docker info'"
  assert_called "timeout --foreground --kill-after=10 1 docker info --format '{{.Swarm.LocalNodeState}}'"
  ((SECONDS - started < 15))
  assert_no_mutations
}

@test "swarm-service: a hung daemon fails the step within the bound, naming the call" {
  swarm_is active manager
  hung_daemon
  local started=$SECONDS
  SERVICE_NAME=spark-worker SERVICE_SPEC='{"image":"fsoppelsa/spark-worker","replicas":1,"network":"spark","containerLabels":[],"constraints":[],"publish":[],"env":[],"mounts":[]}' \
    run_script swarm-service create
  assert_failure 1
  assert_stderr_contains "[swarm-service] 'docker info' did not return within 1s: the Docker daemon is hung"
  ((SECONDS - started < 15))
  assert_no_mutations
}

@test "flocker-volume: a hung daemon fails the step within the bound, naming the call" {
  export VOLUME_NAME=spark VOLUME_SIZE=75G VOLUME_PROFILE=bronze FLOCKER_CONTROL_HOST=172.31.10.104
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in cluster.crt plugin.crt plugin.key; do echo "pem of $f" >"$FS_ROOT/etc/flocker/$f"; done
  hung_daemon
  local started=$SECONDS
  run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "[flocker-volume] 'docker volume inspect' did not return within 1s: the Docker daemon is hung"
  ((SECONDS - started < 15))
  assert_no_mutations
}

@test "swarm-label: a hung daemon fails the step within the bound, naming the call" {
  swarm_is active manager
  hung_daemon
  local started=$SECONDS
  NODE_NAME=aws-105 LABEL_KEY=type LABEL_VALUE=sparkmaster run_script swarm-label add
  assert_failure 1
  assert_stderr_contains "[swarm-label] 'docker info' did not return within 1s: the Docker daemon is hung"
  ((SECONDS - started < 15))
  assert_no_mutations
}

@test "swarm_read: a hung manager call fails with the docker command it was reading" {
  swarm_is active manager
  hung_daemon
  printf 'set -euo pipefail\nsource %q\nsource %q\nswarm_read rows docker_cli node ls --format x\n' \
    "$SCRIPTS/lib/core.sh" "$SCRIPTS/lib/swarm.sh" >"$BATS_TEST_TMPDIR/lib-test.sh"
  run --separate-stderr bash "$BATS_TEST_TMPDIR/lib-test.sh"
  assert_failure 1
  assert_stderr_contains "[lib-test] 'docker node ls' did not return within 1s: the Docker daemon is hung"
  assert_stderr_contains "[lib-test] ERROR: 'docker node ls' failed: Docker gave no reason"
}

# ------------------------------------------------------------------------------------ longer bounds
@test "pull-images: a pull has its own, longer bound and says what a stop can mean" {
  hung_daemon
  local started=$SECONDS
  IMAGES="sparkWorkerImage=fsoppelsa/spark-worker" PULL_TIMEOUT=2 PULL_ATTEMPTS=1 run_script pull-images
  assert_failure 1
  assert_stderr_contains "'docker image inspect' did not return within 1s: the Docker daemon is hung"
  assert_stderr_contains "'docker pull' did not return within 2s: the registry is slow or unreachable, or the Docker daemon is hung"
  assert_stderr_contains "could not pull fsoppelsa/spark-worker (sparkWorkerImage) after 1 attempt(s) each"
  assert_called "timeout --foreground --kill-after=10 2 docker pull fsoppelsa/spark-worker"
  ((SECONDS - started < 20))
}

@test "the step's own bound stops the background pulls too: nothing the step started is left running" {
  hung_daemon
  # a reference no other test uses, so that only this run's processes carry it
  local ref="bounded-check-$$-$RANDOM/img" started=$SECONDS
  IMAGES="sparkWorkerImage=$ref" DOCKER_CLI_TIMEOUT=30 PULL_TIMEOUT=600 \
    run --separate-stderr timeout --kill-after=5 2 bash "$SCRIPTS/pull-images.sh" </dev/null
  assert_failure 124
  assert_stderr_contains "[pull-images] ERROR: stopped by SIGTERM"
  ((SECONDS - started < 15))
  # Each image is handled in the background while the script waits: a bound in its own process
  # group (timeout without --foreground) would outlive the step and keep its docker call running.
  local i
  for ((i = 0; i < 20; i++)); do
    pgrep -f "$ref" >/dev/null || break
    "$(PATH=/usr/bin:/bin command -v sleep)" 0.1
  done
  run pgrep -af "$ref"
  assert_output ""
}

@test "spark-smoke: the test container's bound is what is left of WAIT_TIMEOUT" {
  swarm_is active manager
  hung_daemon
  local started=$SECONDS
  IMAGE=fsoppelsa/spark-worker NETWORK_NAME=spark MASTER_URL=spark://spark-master:7077 WAIT_TIMEOUT=2 RETRY_ATTEMPTS=1 \
    run_script spark-smoke
  assert_failure 1
  assert_stderr_contains "'docker run' did not return within 2s: SparkPi did not finish"
  assert_stderr_contains "SparkPi did not print 'Pi is roughly …' in 1 attempt(s) within 2s"
  ((SECONDS - started < 20))
}
