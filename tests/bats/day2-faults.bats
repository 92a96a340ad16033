#!/usr/bin/env bats
# Day-2 faults across the node scripts: a swarm that lost quorum (every step says so), a destroy
# whose swarm is already gone (it completes, with warnings), a node that is unreachable (its
# membership step completes on the manager, with a warning), a step stopped by SIGTERM (its
# wall-clock bound) in the middle of writing /etc/flocker (no temporary file is left).
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

QUORUM_LOST="the swarm has lost quorum (no leader: fewer than half of its managers are reachable), so nothing in it can change"

setup() {
  common_setup
  swarm_is active manager
  add_node selfnode01 aws-101 Ready manager
  add_node n105 aws-105 Ready worker
  stub_set docker/addr 10.0.1.10
  export NODE_NAME=aws-105 LABEL_KEY=type LABEL_VALUE=sparkmaster SWARM_ROLE=worker SERVICE_NAME=spark-master
  export NETWORK_NAME=spark ADVERTISE_ADDR=10.0.1.10 SWARM_PORT=2377
}

# ------------------------------------------------------------------------------------ lost quorum
@test "lost quorum: every manager-side step says so, with the way out, and changes nothing" {
  stub_set docker/no-leader yes
  local step
  for step in "swarm-token" "swarm-member ready" "swarm-member remove" "swarm-label add" "swarm-label remove" "swarm-peer" "swarm-service delete"; do
    # shellcheck disable=SC2086 # the action is a separate word
    run_script $step
    assert_failure 1
    assert_stderr_contains "$QUORUM_LOST"
    assert_stderr_contains "docker swarm init --force-new-cluster --advertise-addr <this node's private ip>"
  done
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ swarm gone
@test "destroy after the swarm is gone: every swarm step completes, warning where something was expected" {
  swarm_is inactive
  run_script swarm-member remove
  assert_success
  assert_stderr_contains "WARNING: this manager is not in a swarm any more (the swarm is gone)"
  run_script swarm-label remove
  assert_success
  assert_stderr_contains "WARNING: this manager is not in a swarm any more (the swarm is gone)"
  for SERVICE_NAME in spark-master spark-worker; do
    run_script swarm-service delete
    assert_success
    assert_stderr_contains "WARNING: this node is not in a swarm any more: service $SERVICE_NAME went with the swarm"
  done
  run_script spark-network delete
  assert_success
  assert_no_mutations
}

@test "replacing or removing an unreachable node: its membership step completes on the manager, with a warning" {
  echo Down >"$STUB_STATE/docker/nodes/n105/status"
  echo 1 >"$STUB_STATE/docker/nodes/n105/tasks"
  stub_set docker/nodes/n105/drain-polls 100
  run_script swarm-member remove
  assert_success
  assert_stderr_contains "WARNING: aws-105 is Down: removing its entry without draining"
  assert_mutations <<<"docker node rm --force n105"
  run_script swarm-label remove
  assert_success
}

@test "destroy with the swarm alive: the services go (scaled to 0 first), a missing one is fine" {
  stub_set docker/services/spark-master.json '{"Name": "spark-master", "Mode": {"Replicated": {"Replicas": 1}}}'
  stub_set docker/services/spark-master.running 1
  stub_set docker/services/spark-master.pending 0
  stub_set docker/services/spark-master.shutdown 0
  run_script swarm-service delete
  assert_success
  assert_mutations <<'EOF2'
docker service update --detach --replicas 0 spark-master
docker service rm spark-master
EOF2
  clear_logs
  run_script swarm-service delete
  assert_success
  assert_stderr_contains "service spark-master does not exist: nothing to do"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ SIGTERM
@test "SIGTERM in the middle of writing /etc/flocker (the step's bound): exit 143, no temporary file left" {
  local etc=$FS_ROOT/etc/flocker marker=$BATS_TEST_TMPDIR/jq-blocked release=$BATS_TEST_TMPDIR/release
  # jq blocks while it extracts a file's content, as a slow disk would: the temporary file exists
  local real_jq real_sleep
  real_jq=$(PATH=${PATH#*:} command -v jq)
  real_sleep=$(PATH=${PATH#*:} command -v sleep)
  rm -f "$BIN/jq"
  cat >"$BIN/jq" <<EOF
#!/usr/bin/env bash
if [[ " \$* " == *" -j "* ]]; then
  echo \$\$ >"$marker"
  until [[ -e "$release" ]]; do "$real_sleep" 0.1; done
fi
exec "$real_jq" "\$@"
EOF
  chmod +x "$BIN/jq"
  printf '{"files": {"agent.yml": "version: 1\\n", "node.key": "secret key"}}' >"$BATS_TEST_TMPDIR/files.json"
  bash "$SCRIPTS/flocker-files.sh" <"$BATS_TEST_TMPDIR/files.json" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$marker" ]] && break
    "$real_sleep" 0.1
  done
  [[ -s "$marker" ]] || fail "jq was never reached"
  compgen -G "$etc/.agent.yml.*" >/dev/null || fail "no temporary file while writing"
  # what `timeout` does at the bound: TERM to the script and to what it runs
  kill -TERM "$pid" "$(<"$marker")"
  touch "$release"
  local status=0
  wait "$pid" || status=$?
  assert_equal "$status" 143
  run ls -A "$etc"
  assert_output ""
}
