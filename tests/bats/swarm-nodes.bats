#!/usr/bin/env bats
# scripts/swarm-member.sh and swarm-label.sh (run on the first manager)

load helpers

setup() {
  common_setup
  swarm_is active manager
  add_node selfnode01 aws-101 Ready manager
  export NODE_NAME=aws-105 LABEL_KEY=type LABEL_VALUE=sparkmaster
}

# ------------------------------------------------------------------------------------ swarm-member
@test "ready: waits until the node with exactly that hostname is Ready" {
  add_node n105 aws-105 Down worker
  add_node n1050 aws-1050 Ready worker # same prefix, must not count
  stub_set docker/nodes/n105/ready-after 2
  run_script swarm-member ready
  assert_success
  assert_no_mutations
  assert_equal "$(grep -c '^docker node ls' "$STUB_STATE/calls.log")" 3
  assert_stderr_contains "node aws-105 is Ready"
}

@test "ready: never Ready -> fails at the bound saying what to check" {
  add_node n105 aws-105 Down worker
  run_script swarm-member ready
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for node aws-105 to be Ready in the swarm: check that the node joined"
}

@test "ready: must run on a manager" {
  swarm_is active worker
  run_script swarm-member ready
  assert_failure 1
  assert_stderr_contains "this node is not an active swarm manager"
}

@test "remove: a manager is demoted, drained, waited for, removed" {
  add_node n102 aws-102 Ready manager 2
  stub_set docker/nodes/n102/drain-polls 2
  NODE_NAME=aws-102 run_script swarm-member remove
  assert_success
  assert_mutations <<'EOF2'
docker node demote n102
docker node update --availability drain n102
docker node rm --force n102
EOF2
  assert_equal "$(grep -c '^docker node ps n102' "$STUB_STATE/calls.log")" 3
  [[ ! -e "$STUB_STATE/docker/nodes/n102" ]]
}

@test "remove: a worker is drained and removed; absent afterwards -> nothing (second run)" {
  add_node n105 aws-105 Ready worker 1
  run_script swarm-member remove
  assert_success
  assert_mutations <<'EOF2'
docker node update --availability drain n105
docker node rm --force n105
EOF2
  clear_logs
  run_script swarm-member remove
  assert_success
  assert_no_mutations
  assert_stderr_contains "no node named aws-105 in the swarm: nothing to do"
}

@test "remove: every node with that hostname (a stale Down entry too) is handled by ID" {
  add_node old105 aws-105 Down worker
  add_node new105 aws-105 Ready worker
  add_node n1050 aws-1050 Ready worker
  run_script swarm-member remove
  assert_success
  assert_mutations <<'EOF2'
docker node update --availability drain new105
docker node rm --force new105
docker node update --availability drain old105
docker node rm --force old105
EOF2
  [[ -d "$STUB_STATE/docker/nodes/n1050" ]]
}

@test "remove: a node that disappears mid-way is fine" {
  add_node n102 aws-102 Down manager
  stub_fail node-vanish-demote 1
  NODE_NAME=aws-102 run_script swarm-member remove
  assert_success
  assert_mutations <<<"docker node demote n102"
  assert_stderr_contains "node n102 is gone"
}

@test "remove: tasks never leave -> fails at the bound" {
  add_node n105 aws-105 Ready worker 1
  stub_set docker/nodes/n105/drain-polls 100
  run_script swarm-member remove
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the tasks on aws-105 (n105) to move away"
  refute_called_matching '^docker node rm'
}

@test "remove: this host out of the swarm or without docker -> nothing to do" {
  swarm_is inactive
  run_script swarm-member remove
  assert_success
  assert_stderr_contains "not in a swarm any more"
  uninstall docker
  run_script swarm-member remove
  assert_success
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ swarm-label
@test "label add: sets the label; second run changes nothing" {
  add_node n105 aws-105 Ready worker
  run_script swarm-label add
  assert_success
  assert_mutations <<<"docker node update --label-add type=sparkmaster n105"
  assert_equal "$(cat "$STUB_STATE/docker/nodes/n105/labels")" '{"type":"sparkmaster"}'
  clear_logs
  run_script swarm-label add
  assert_success
  assert_no_mutations
}

@test "label add: a different value is replaced" {
  add_node n105 aws-105 Ready worker
  stub_set docker/nodes/n105/labels '{"type":"sparkworker","zone":"a"}'
  run_script swarm-label add
  assert_success
  assert_mutations <<<"docker node update --label-add type=sparkmaster n105"
  assert_equal "$(cat "$STUB_STATE/docker/nodes/n105/labels")" '{"type":"sparkmaster","zone":"a"}'
}

@test "label add: no such node -> error saying swarm-join must run first" {
  run_script swarm-label add
  assert_failure 1
  assert_stderr_contains "no node named aws-105 in the swarm: its swarm-join step must run first"
}

@test "label remove: only when present; a missing node is fine" {
  add_node n105 aws-105 Ready worker
  stub_set docker/nodes/n105/labels '{"type":"sparkmaster"}'
  run_script swarm-label remove
  assert_success
  assert_mutations <<<"docker node update --label-rm type n105"
  clear_logs
  run_script swarm-label remove
  assert_success
  assert_no_mutations
  rm -rf "$STUB_STATE/docker/nodes/n105"
  run_script swarm-label remove
  assert_success
  assert_stderr_contains "no node named aws-105: nothing to remove"
}
