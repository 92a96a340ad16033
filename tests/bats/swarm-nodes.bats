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
  # one look first (fails at once on a lost quorum), three polls, one look for old entries
  assert_equal "$(grep -c '^docker node ls' "$STUB_STATE/calls.log")" 5
  assert_stderr_contains "node aws-105 is Ready"
}

@test "ready: a replaced node's old Down entry is removed, so the node is listed once" {
  add_node old105 aws-105 Down worker
  add_node new105 aws-105 Ready worker
  add_node n1050 aws-1050 Down worker # another node whose name starts the same
  run_script swarm-member ready
  assert_success
  assert_mutations <<<"docker node rm --force old105"
  [[ -d "$STUB_STATE/docker/nodes/new105" && -d "$STUB_STATE/docker/nodes/n1050" ]]
  clear_logs
  run_script swarm-member ready
  assert_no_mutations
}

@test "ready: a replaced manager's old entry is demoted before it is removed; a live twin is left alone" {
  add_node old102 aws-102 Down manager
  stub_set docker/nodes/old102/manager-status Unreachable
  add_node new102 aws-102 Ready manager
  add_node twin102 aws-102 Unknown worker
  NODE_NAME=aws-102 run_script swarm-member ready
  assert_success
  assert_mutations <<'EOF2'
docker node demote old102
docker node rm --force old102
EOF2
  assert_stderr_contains "node twin102 also has the hostname aws-102 and is Unknown, not Down: left alone"
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

@test "remove: a manager whose removal would cost the others their quorum is refused with the counts" {
  add_node n102 aws-102 Ready manager 1
  add_node n103 aws-103 Ready manager
  add_node n104 aws-104 Down manager
  add_node n106 aws-106 Down manager
  stub_set docker/nodes/n104/manager-status Unreachable
  stub_set docker/nodes/n106/manager-status Unreachable
  stub_set docker/nodes/selfnode01/manager-status Leader
  NODE_NAME=aws-102 run_script swarm-member remove
  assert_failure 1
  assert_stderr_contains "refusing to remove manager aws-102 (n102): the swarm has 5 managers of which 3 are reachable; without it 2 of 4 would be, below the quorum of 3"
  assert_no_mutations
}

@test "remove: a Down manager is demoted and removed without draining, with a warning" {
  add_node n102 aws-102 Ready manager
  add_node n103 aws-103 Down manager 1
  stub_set docker/nodes/n103/manager-status Unreachable
  stub_set docker/nodes/n103/drain-polls 100 # a drain would never finish: it must not be waited for
  NODE_NAME=aws-103 run_script swarm-member remove
  assert_success
  assert_mutations <<'EOF2'
docker node demote n103
docker node rm --force n103
EOF2
  assert_stderr_contains "WARNING: aws-103 is Down: removing its entry without draining (n103; Swarm has already moved its tasks to other nodes)"
  refute_called_matching '^docker node ps'
  clear_logs
  NODE_NAME=aws-103 run_script swarm-member remove
  assert_success
  assert_no_mutations
}

@test "remove: a Down worker (unreachable, terminated) is removed at once, its tasks not waited for" {
  add_node n106 aws-106 Down worker 2
  stub_set docker/nodes/n106/drain-polls 100
  NODE_NAME=aws-106 run_script swarm-member remove
  assert_success
  assert_mutations <<<"docker node rm --force n106"
  assert_stderr_contains "WARNING: aws-106 is Down: removing its entry without draining"
  refute_called_matching '^docker node ps'
  [[ ! -e "$STUB_STATE/docker/nodes/n106" ]]
}

@test "remove: a Down manager that raft still lists Reachable counts as unreachable: fine while the others keep quorum" {
  stub_set docker/nodes/selfnode01/manager-status Leader
  add_node n102 aws-102 Ready manager
  add_node n103 aws-103 Down manager
  stub_set docker/nodes/n103/manager-status Reachable
  NODE_NAME=aws-103 run_script swarm-member remove
  assert_success
  assert_mutations <<'EOF2'
docker node demote n103
docker node rm --force n103
EOF2
}

@test "remove: a Down manager when the swarm has already lost quorum -> says so, changes nothing" {
  stub_set docker/nodes/selfnode01/manager-status Leader
  add_node n102 aws-102 Down manager
  stub_set docker/nodes/n102/manager-status Unreachable
  add_node n103 aws-103 Down manager
  stub_set docker/nodes/n103/manager-status Reachable # raft has not noticed yet
  NODE_NAME=aws-103 run_script swarm-member remove
  assert_failure 1
  assert_stderr_contains "cannot remove manager aws-103 (n103, not reachable): the swarm has 3 managers of which 1 are reachable, below the quorum of 2, so it has already lost quorum and no manager can be demoted or removed. Start the managers that are down; if they are lost for good, see docs/operations.md, 'A swarm that lost quorum'"
  assert_no_mutations
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
docker node rm --force old105
EOF2
  [[ -d "$STUB_STATE/docker/nodes/n1050" ]]
}

@test "remove: a node that disappears mid-way is fine" {
  add_node n102 aws-102 Ready manager
  stub_fail node-vanish-demote 1
  NODE_NAME=aws-102 run_script swarm-member remove
  assert_success
  assert_mutations <<<"docker node demote n102"
  assert_stderr_contains "node n102 is gone"
  refute_called_matching '^docker node rm'
}

@test "remove: tasks never leave -> fails at the bound" {
  add_node n105 aws-105 Ready worker 1
  stub_set docker/nodes/n105/drain-polls 100
  run_script swarm-member remove
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the tasks on aws-105 (n105) to move away"
  refute_called_matching '^docker node rm'
}

@test "remove: the swarm already gone, or no docker -> completes with a warning" {
  swarm_is inactive
  run_script swarm-member remove
  assert_success
  assert_stderr_contains "WARNING: this manager is not in a swarm any more (the swarm is gone): nothing to remove aws-105 from"
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
  swarm_is inactive
  run_script swarm-label remove
  assert_success
  assert_stderr_contains "WARNING: this manager is not in a swarm any more (the swarm is gone): no label to remove"
}
