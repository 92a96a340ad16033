#!/usr/bin/env bats
# scripts/swarm-init.sh, swarm-peer.sh, swarm-token.sh, swarm-join.sh
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

load helpers

WORKER_TOKEN=SWMTKN-1-secretworkertoken
MANAGER_TOKEN=SWMTKN-1-secretmanagertoken

setup() {
  common_setup
  export ADVERTISE_ADDR=10.0.1.16 MANAGER_ADDR=10.0.1.10:2377 SWARM_ROLE=worker SWARM_PORT=2377
  export SWARM_ADDRESS_POOL=10.255.0.0/16 SWARM_ADDRESS_POOL_MASK_LENGTH=24 DOCKER_BUILTIN_ADDRESS_POOL=10.0.0.0/8
  stub_set docker/addr-pool 10.255.0.0/16 # a swarm that exists was founded with the configured pool
  printf '%s\n' "$WORKER_TOKEN" >"$BATS_TEST_TMPDIR/worker-token"
  printf '%s\n' "$MANAGER_TOKEN" >"$BATS_TEST_TMPDIR/manager-token"
}

join() { run_script_stdin "$BATS_TEST_TMPDIR/${1}-token" swarm-join create; }

# peers LINE...: what the other managers' swarm-peer steps printed, as swarm-init's stdin
peers() { printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/peers"; }
init_with_peers() { ADVERTISE_ADDR=10.0.1.10 run_script_stdin "$BATS_TEST_TMPDIR/peers" swarm-init create; }

# a replaced first manager: the swarm lives on at aws-102/aws-103, aws-101's old entry is Down
replaced_first_manager() {
  stub_set hostname aws-101
  add_node old101 aws-101 Down manager
  stub_set docker/nodes/old101/manager-status Unreachable
  add_node n102 aws-102 Ready manager
  add_node n103 aws-103 Ready manager
  add_node joinednode1 aws-101 Ready manager # the entry this host gets when it joins
  peers "10.0.1.11 $MANAGER_TOKEN clust3r0ne" "10.0.1.12 $MANAGER_TOKEN clust3r0ne"
}

# ------------------------------------------------------------------------------------ swarm-init
@test "init: inactive -> swarm init with the address pool; the join command docker prints (with a token) is not shown" {
  stub_set hostname aws-101
  ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_success
  assert_output ""
  assert_mutations <<<"docker swarm init --advertise-addr 10.0.1.10 --default-addr-pool 10.255.0.0/16 --default-addr-pool-mask-length 24"
  refute_anywhere "$WORKER_TOKEN"
  # Swarm's ingress is the pool's first block, away from the book's 10.0.0.0/24.
  assert_equal "$(jq -r '.IPAM.Config[0].Subnet' "$STUB_STATE/docker/networks/ingress.json")" 10.255.0.0/24
}

@test "init: a swarm founded without the address pool -> refused, naming Docker's built-in pool, its ingress and both ways out" {
  stub_set hostname aws-101
  SWARM_ADDRESS_POOL="" ADVERTISE_ADDR=10.0.1.10 bash -c 'docker swarm init --advertise-addr 10.0.1.10 >/dev/null'
  clear_logs
  ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "this swarm was founded without --default-addr-pool, so with Docker's built-in pool 10.0.0.0/8 in /24 blocks (its ingress network: 10.0.0.0/24)"
  assert_stderr_contains "but swarmAddressPool is 10.255.0.0/16 and swarmAddressPoolMaskLength 24: the pool is fixed when a swarm is founded and cannot change on a live swarm"
  assert_stderr_contains "Set swarmAddressPool to 10.0.0.0/8 and swarmAddressPoolMaskLength to 24 (with an overlaySubnet outside that pool), or re-found the swarm"
  # The configuration that describes this swarm is accepted.
  SWARM_ADDRESS_POOL=10.0.0.0/8 ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_success
}

@test "init: a changed pool or mask on a live swarm -> refused, nothing re-founded" {
  stub_set hostname aws-101
  ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  clear_logs
  SWARM_ADDRESS_POOL=10.128.0.0/9 ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "this swarm was founded with address pool 10.255.0.0/16 in /24 blocks (its ingress network: 10.255.0.0/24), but swarmAddressPool is 10.128.0.0/9"
  SWARM_ADDRESS_POOL_MASK_LENGTH=26 ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "Set swarmAddressPool to 10.255.0.0/16 and swarmAddressPoolMaskLength to 24"
  assert_no_mutations
}

@test "init: already an active manager -> nothing (second run)" {
  ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  clear_logs
  ADVERTISE_ADDR=10.0.1.10 run_script swarm-init create
  assert_success
  assert_no_mutations
  assert_stderr_contains "already an active swarm manager: nothing to do"
}

@test "init with peers (a replaced first manager): joins the swarm through a survivor, never inits; its old entry goes" {
  replaced_first_manager
  init_with_peers
  assert_success
  assert_output ""
  assert_mutations <<EOF2
docker swarm join --token $MANAGER_TOKEN --advertise-addr 10.0.1.10 10.0.1.11:2377
docker node demote old101
docker node rm --force old101
EOF2
  refute_called_matching '^docker swarm init'
  assert_stderr_contains "the swarm exists (manager 10.0.1.11 answered): joining it as a manager instead of founding a new one"
  [[ "$stderr" != *"$MANAGER_TOKEN"* ]] || fail "token in stderr"
  [[ ! -e "$STUB_STATE/docker/nodes/old101" ]]
  clear_logs
  init_with_peers
  assert_success
  assert_no_mutations
  assert_stderr_contains "already an active swarm manager: nothing to do"
}

@test "init with peers: the old entry is Unknown and Unreachable, as a real engine shows a gone manager -> demoted and removed too" {
  replaced_first_manager
  stub_set docker/nodes/old101/status Unknown
  init_with_peers
  assert_success
  assert_mutations <<EOF2
docker swarm join --token $MANAGER_TOKEN --advertise-addr 10.0.1.10 10.0.1.11:2377
docker node demote old101
docker node rm --force old101
EOF2
  [[ ! -e "$STUB_STATE/docker/nodes/old101" ]]
}

@test "init with peers: an old entry that is Unknown but still Reachable is left alone with a warning" {
  replaced_first_manager
  stub_set docker/nodes/old101/status Unknown
  stub_set docker/nodes/old101/manager-status Reachable
  init_with_peers
  assert_success
  refute_called_matching '^docker node rm'
  assert_stderr_contains "also has the hostname aws-101 and is Unknown, not Down: left alone"
}

@test "init with peers: the first survivor does not answer -> the next one is tried" {
  replaced_first_manager
  stub_fail swarm-join 3
  init_with_peers
  assert_success
  assert_equal "$(grep -c '10.0.1.11:2377$' "$STUB_STATE/mutations.log")" 3
  assert_equal "$(grep -c '10.0.1.12:2377$' "$STUB_STATE/mutations.log")" 1
  refute_called_matching '^docker swarm init'
}

@test "init with peers: no survivor can be joined -> refuses to found a second swarm" {
  replaced_first_manager
  stub_fail swarm-join always
  init_with_peers
  assert_failure 1
  assert_stderr_contains "the swarm exists (its managers at 10.0.1.11 10.0.1.12 answered) but this node could not join it after 3 attempts each; it will not found a second swarm"
  refute_called_matching '^docker swarm init'
  [[ "$output$stderr" != *"$MANAGER_TOKEN"* ]] || fail "token shown"
}

@test "init: an active manager of another swarm than its peers' -> clear error, nothing changed" {
  swarm_is active manager
  add_node selfnode01 aws-101 Ready manager
  stub_set docker/cluster-id 0therclust3r
  peers "10.0.1.11 $MANAGER_TOKEN clust3r0ne"
  init_with_peers
  assert_failure 1
  assert_stderr_contains "this node is already a manager of another swarm (cluster 0therclust3r) than the stack's (cluster clust3r0ne, managers at 10.0.1.11): run 'docker swarm leave --force' on it"
  assert_no_mutations
  refute_anywhere "$MANAGER_TOKEN"
}

@test "init: a malformed peer line -> error that does not show the token" {
  peers "10.0.1.11 $MANAGER_TOKEN"
  init_with_peers
  assert_failure 1
  assert_stderr_contains "peer line 1 on stdin is not 'ADDR TOKEN CLUSTER_ID'"
  refute_anywhere "$MANAGER_TOKEN"
  assert_no_mutations
}

@test "init: locked (autolock) -> says to unlock" {
  swarm_is locked
  run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "swarm is locked (autolock): run docker swarm unlock with the unlock key, then re-run pulumi up"
  assert_no_mutations
}

@test "init: pending or error -> names the state and the fix" {
  local s
  for s in pending error; do
    swarm_is "$s"
    run_script swarm-init create
    assert_failure 1
    assert_stderr_contains "the swarm state of this node is '$s' (an earlier init or join did not complete): run 'docker swarm leave --force' on it"
  done
  assert_no_mutations
}

@test "init: in a swarm as a worker -> refuses to found another" {
  swarm_is active worker
  run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "already in a swarm as a worker"
}

@test "init: docker daemon down -> points at install-docker" {
  stub_fail docker-daemon always
  run_script swarm-init create
  assert_failure 1
  assert_stderr_contains "the Docker daemon does not answer 'docker info'"
}

@test "init with peers: the old entry is not demoted when the managers have already lost quorum" {
  replaced_first_manager
  add_node n103 aws-103 Down manager # n103 went down too: 2 of 4 managers are reachable
  stub_set docker/nodes/n103/manager-status Unreachable
  init_with_peers
  assert_failure 1
  assert_stderr_contains "cannot remove manager aws-101 (old101, not reachable): the swarm has 4 managers of which 2 are reachable, below the quorum of 3, so it has already lost quorum"
  refute_called_matching '^docker node (demote|rm)'
  [[ -d "$STUB_STATE/docker/nodes/old101" ]]
}

@test "init and join have no delete: the program runs none on the node itself (usage error)" {
  swarm_is active manager
  local script
  for script in swarm-init swarm-join; do
    run_script "$script" delete
    assert_failure 2
    assert_stderr_contains "unknown action 'delete': usage: $script.sh create"
  done
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ swarm-peer
@test "peer: not in a swarm (first bring-up) -> prints nothing" {
  run_script swarm-peer
  assert_success
  assert_output ""
  assert_no_mutations
}

@test "peer: an active manager prints its address, the manager token and the cluster id, nothing else" {
  swarm_is active manager
  stub_set docker/addr 10.0.1.11
  run_script swarm-peer
  assert_success
  assert_output "10.0.1.11 $MANAGER_TOKEN clust3r0ne"
  [[ "$stderr" != *"$MANAGER_TOKEN"* ]] || fail "token in stderr"
  assert_no_mutations
}

@test "peer: during a leader election (no cluster id yet) it waits for the new leader, then answers" {
  swarm_is active manager
  stub_set docker/addr 10.0.1.11
  stub_fail no-leader 2
  run_script swarm-peer
  assert_success
  assert_output "10.0.1.11 $MANAGER_TOKEN clust3r0ne"
  assert_equal "$(wc -l <"$STUB_STATE/sleep.log")" 2
  assert_no_mutations
}

@test "peer: a swarm that never elects a leader fails at the bound, saying what to check, and prints nothing" {
  swarm_is active manager
  stub_fail no-leader always
  PEER_WAIT_TIMEOUT=30 WAIT_INTERVAL=5 run_script swarm-peer
  assert_failure 1
  assert_output ""
  assert_stderr_contains "timed out after 30s waiting for this manager's address and the swarm's cluster id (a leader elected)"
  assert_stderr_contains "the swarm has no leader (lost quorum?)"
  assert_no_mutations
}

@test "peer: a worker, a locked node or a silent daemon fails instead of answering 'no swarm'" {
  swarm_is active worker
  run_script swarm-peer
  assert_failure 1
  assert_output ""
  assert_stderr_contains "this node is in the swarm as a worker, but the stack makes it a manager"
  swarm_is locked
  run_script swarm-peer
  assert_failure 1
  assert_stderr_contains "swarm is locked (autolock) on this manager"
  stub_fail docker-daemon always
  run_script swarm-peer
  assert_failure 1
  assert_stderr_contains "the Docker daemon does not answer 'docker info'"
}

# ------------------------------------------------------------------------------------ swarm-token
@test "token: prints only the token of the role asked for" {
  swarm_is active manager
  SWARM_ROLE=manager run_script swarm-token
  assert_success
  assert_output "$MANAGER_TOKEN"
  assert_equal "$stderr" ""
  SWARM_ROLE=worker run_script swarm-token
  assert_output "$WORKER_TOKEN"
}

@test "token: not a manager, or a bad role -> clear error, no token" {
  swarm_is active worker
  run_script swarm-token
  assert_failure 1
  assert_output ""
  assert_stderr_contains "this node is not an active swarm manager"
  swarm_is active manager
  SWARM_ROLE='admin' run_script swarm-token
  assert_failure 1
  assert_stderr_contains "SWARM_ROLE must be worker or manager, not 'admin'"
}

# ------------------------------------------------------------------------------------ swarm-join
@test "join: worker joins with the token from stdin; the token is on no other line" {
  join worker
  assert_success
  assert_output ""
  assert_mutations <<<"docker swarm join --token $WORKER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377"
  [[ "$stderr" != *"$WORKER_TOKEN"* ]] || fail "token in stderr"
  # the join itself, and the bound (docker_cli's timeout) that runs it: the same process tree
  assert_equal "$(grep "$WORKER_TOKEN" "$STUB_STATE/calls.log")" \
    "timeout --foreground --kill-after=10 60 docker swarm join --token $WORKER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377
docker swarm join --token $WORKER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377"
  assert_stderr_contains "in the swarm as a worker"
}

@test "join: manager joins and its role is checked" {
  SWARM_ROLE=manager join manager
  assert_success
  assert_mutations <<<"docker swarm join --token $MANAGER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377"
  assert_stderr_contains "in the swarm as a manager"
}

@test "join: transient failures are retried" {
  stub_fail swarm-join 2
  join worker
  assert_success
  assert_equal "$(grep -c '^docker swarm join ' "$STUB_STATE/mutations.log")" 3
  assert_equal "$(cat "$STUB_STATE/sleep.log")" $'2\n2'
}

@test "join: a failed attempt that left 'error' is cleared with leave --force before the retry" {
  stub_set docker/join-fail-state error
  stub_fail swarm-join 1
  join worker
  assert_success
  assert_mutations <<EOF2
docker swarm join --token $WORKER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377
docker swarm leave --force
docker swarm join --token $WORKER_TOKEN --advertise-addr 10.0.1.16 10.0.1.10:2377
EOF2
}

@test "join: never succeeding -> gives up with what to check, token not shown" {
  stub_fail swarm-join always
  join worker
  assert_failure 1
  assert_stderr_contains "could not join the swarm at 10.0.1.10:2377 after 3 attempts: check that 2377/tcp"
  [[ "$stderr" != *"$WORKER_TOKEN"* ]]
}

@test "join: already in the swarm with the right role -> nothing (second run)" {
  join worker
  clear_logs
  join worker
  assert_success
  assert_no_mutations
}

@test "join: a node already in another swarm -> clear, early error, nothing changed" {
  swarm_is active worker
  stub_set docker/remote-managers "192.168.7.1:2377 192.168.7.2:2377 "
  join worker
  assert_failure 1
  assert_stderr_contains "this node is already in another swarm (its managers: 192.168.7.1:2377 192.168.7.2:2377), not the one at 10.0.1.10:2377: run 'docker swarm leave --force' on it"
  assert_no_mutations
  refute_anywhere "$WORKER_TOKEN"
}

@test "join: in the swarm with the wrong role -> error saying promote/demote is a manager's job" {
  swarm_is active worker
  SWARM_ROLE=manager join manager
  assert_failure 1
  assert_stderr_contains "this node is in the swarm as a worker, but SWARM_ROLE=manager: promote it on a manager"
  swarm_is active manager
  SWARM_ROLE=worker join worker
  assert_failure 1
  assert_stderr_contains "but SWARM_ROLE=worker: demote it on a manager"
  assert_no_mutations
}

@test "join: locked or error at the start -> clear errors, no join attempted" {
  swarm_is locked
  join worker
  assert_failure 1
  assert_stderr_contains "swarm is locked (autolock): run docker swarm unlock"
  swarm_is error
  join worker
  assert_failure 1
  assert_stderr_contains "the swarm state of this node is 'error'"
  assert_no_mutations
}

@test "join: no token on stdin -> error, docker never called" {
  run_script swarm-join create
  assert_failure 1
  assert_stderr_contains "no join token on stdin"
  refute_called_matching '^docker'
}
