#!/usr/bin/env bats
# scripts/flocker-containers.sh (flockerInstall=containers) and scripts/pull-images.sh

load helpers

CONTROL_REF=clusterhq/flocker-control-service
DATASET_REF=clusterhq/flocker-dataset-agent
CONTAINER_REF=clusterhq/flocker-container-agent
PLUGIN_REF=clusterhq/flocker-docker-plugin

setup() {
  common_setup
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in agent.yml cluster.crt node.crt node.key plugin.crt plugin.key control-service.crt control-service.key; do
    echo "content of $f" >"$FS_ROOT/etc/flocker/$f"
  done
  export CONTROL_IMAGE=$CONTROL_REF DATASET_AGENT_IMAGE=$DATASET_REF CONTAINER_AGENT_IMAGE=$CONTAINER_REF PLUGIN_IMAGE=$PLUGIN_REF
  export FLOCKER_CONTROL_HOST=172.31.0.13 NODE_ADDRESS=172.31.0.15 CONFIG_DIGEST=0123456789abcdef
  # the state directory on the control-state volume (flocker-control-volume.sh mounts it)
  export CONTROL_STATE_DIR=/var/lib/flocker-control/state
  mkdir -p "$FS_ROOT$CONTROL_STATE_DIR"
  local ref
  for ref in "$CONTROL_REF" "$DATASET_REF" "$CONTAINER_REF" "$PLUGIN_REF"; do have_image "$ref"; done
}

# have_image REF [ID]: REF is in the node's image store (as the images step leaves it).
have_image() {
  local key=${1//\//_}
  key=${key//:/_}
  stub_set "docker/images/${key//@/_}" "${2:-sha256:$(printf '%s' "$1" | sha256sum | cut -c1-64)}"
}

# container NAME JQ-FILTER: a field of the simulated container.
container() { jq -r "$2" "$STUB_STATE/docker/containers/$1.json"; }

# ------------------------------------------------------------------------------------ control
@test "control: the documented control container, its state bind-mounted from the control-state volume; waits for 4523 and 4524" {
  stub_fail ss-not-listening 3
  # a bound a loaded test machine cannot reach: the polls are what is counted here
  WAIT_TIMEOUT=60 run_script flocker-containers control
  assert_success
  # once before starting (is something else on the ports?), then polled until they listen
  assert_equal "$(grep -cx 'ss -ltn' "$STUB_STATE/calls.log")" 4
  assert_equal "$(sed -E 's/spec=[0-9a-f]{16}/spec=X/' "$STUB_STATE/mutations.log")" \
    "docker run --detach --name flocker-control-service --restart always --label swarm-flocker.spec=X --label swarm-flocker.config-digest=0123456789abcdef --net host -v /etc/flocker:/etc/flocker --mount type=bind,source=/var/lib/flocker-control/state,target=/var/lib/flocker $CONTROL_REF"
  refute_called_matching '^docker volume' 
  assert_equal "$(container flocker-control-service '.HostConfig.NetworkMode, .HostConfig.RestartPolicy.Name, .HostConfig.Privileged')" $'host\nalways\nfalse'
  assert_stderr_contains "flocker-control-service is listening on 4523 and 4524"
}

@test "control: a second run changes nothing" {
  run_script flocker-containers control
  assert_success
  clear_logs
  run_script flocker-containers control
  assert_success
  assert_no_mutations
  assert_stderr_contains "flocker-control-service is running"
}

@test "control: changed certificates replace the container, its state untouched; then stable" {
  run_script flocker-containers control
  clear_logs
  CONFIG_DIGEST=fedcba9876543210 run_script flocker-containers control
  assert_success
  assert_stderr_contains "replacing flocker-control-service: its certificates or agent.yml changed"
  assert_equal "$(sed -n 1,2p "$STUB_STATE/mutations.log")" $'docker stop --time 30 flocker-control-service\ndocker rm flocker-control-service'
  grep -q '^docker run --detach --name flocker-control-service .*config-digest=fedcba9876543210 ' "$STUB_STATE/mutations.log"
  refute_called_matching '^docker volume'
  [[ -d "$FS_ROOT/var/lib/flocker-control/state" ]]
  clear_logs
  CONFIG_DIGEST=fedcba9876543210 run_script flocker-containers control
  assert_no_mutations
}

@test "control: another image reference, or the tag now naming another image, replaces the container" {
  run_script flocker-containers control
  clear_logs
  have_image registry.example.com/flocker/control@sha256:1111111111111111111111111111111111111111111111111111111111111111
  CONTROL_IMAGE=registry.example.com/flocker/control@sha256:1111111111111111111111111111111111111111111111111111111111111111 \
    run_script flocker-containers control
  assert_success
  assert_stderr_contains "replacing flocker-control-service: how it runs changed (image reference, mounts or environment)"
  assert_equal "$(container flocker-control-service '.Config.Image')" \
    registry.example.com/flocker/control@sha256:1111111111111111111111111111111111111111111111111111111111111111

  run_script flocker-containers control
  clear_logs
  have_image "$CONTROL_REF" sha256:2222222222222222222222222222222222222222222222222222222222222222
  run_script flocker-containers control
  assert_success
  assert_stderr_contains "replacing flocker-control-service: $CONTROL_REF now names another image"
  assert_equal "$(container flocker-control-service '.Image')" sha256:2222222222222222222222222222222222222222222222222222222222222222
}

@test "control: a stopped container is started, not replaced" {
  run_script flocker-containers control
  local f=$STUB_STATE/docker/containers/flocker-control-service.json
  jq -c '.State.Running = false' "$f" >"$f.new" && mv "$f.new" "$f"
  clear_logs
  run_script flocker-containers control
  assert_success
  assert_mutations <<<"docker start flocker-control-service"
}

@test "control: ports never open -> fails at the bound, pointing at the container's log" {
  stub_fail control-ports always
  run_script flocker-containers control
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for flocker-control-service to listen on 4523/tcp and 4524/tcp: see 'docker logs flocker-control-service'"
}

@test "control: an image the images step did not pull -> error, nothing pulled or run here" {
  rm "$STUB_STATE/docker/images/clusterhq_flocker-control-service"
  run_script flocker-containers control
  assert_failure 1
  assert_stderr_contains "image $CONTROL_REF is not on this node: the images step pulls it before this one"
  refute_called_matching '^docker (run|pull)'
}

@test "control: certificates missing -> error naming the flocker-files step, nothing started" {
  rm "$FS_ROOT/etc/flocker/control-service.key"
  run_script flocker-containers control
  assert_failure 1
  assert_stderr_contains "missing /etc/flocker/control-service.key: the flocker-files step must run first"
  assert_no_mutations
}

@test "control: the control-state volume not mounted -> error naming its step, no container (it would start empty)" {
  rm -r "$FS_ROOT/var/lib/flocker-control/state"
  run_script flocker-containers control
  assert_failure 1
  assert_stderr_contains "/var/lib/flocker-control/state does not exist: the control-state volume is not mounted (the flocker-control-state-mount step mounts it"
  assert_no_mutations
}

@test "control: switching from packages stops and disables flocker-control, then runs the container" {
  # flockerInstall was packages: the unit runs and holds the ports
  stub_set systemd/flocker-control "enabled active"
  stub_set ss/ports "4523 4524"
  run_script flocker-containers control
  assert_success
  assert_equal "$(sed -n 1p "$STUB_STATE/mutations.log")" "systemctl disable --now flocker-control"
  grep -q '^docker run --detach --name flocker-control-service ' "$STUB_STATE/mutations.log"
  assert_stderr_contains "stopping and disabling flocker-control (Flocker's packages, flockerInstall=packages)"
  clear_logs
  run_script flocker-containers control
  assert_no_mutations
}

@test "control: something else holding the ports -> error saying how to find it" {
  stub_set ss/ports "4523 4524"
  run_script flocker-containers control
  assert_failure 1
  assert_stderr_contains "something else already listens on 4523/tcp and 4524/tcp: find it with 'ss -ltnp' on this node"
  refute_called_matching '^docker run'
}

# ------------------------------------------------------------------------------------ agents
@test "agents: the documented dataset agent, container agent and plugin; waits for the socket" {
  run_script flocker-containers agents
  assert_success
  assert_equal "$(sed -E 's/spec=[0-9a-f]{16}/spec=X/' "$STUB_STATE/mutations.log")" \
    "docker run --detach --name flocker-dataset-agent --restart always --label swarm-flocker.spec=X --label swarm-flocker.config-digest=0123456789abcdef --net host --privileged -v /flocker:/flocker:shared -v /:/host -v /etc/flocker:/etc/flocker -v /dev:/dev $DATASET_REF
docker run --detach --name flocker-container-agent --restart always --label swarm-flocker.spec=X --label swarm-flocker.config-digest=0123456789abcdef --net host --privileged -v /etc/flocker:/etc/flocker -v /var/run/docker.sock:/var/run/docker.sock $CONTAINER_REF
docker run --detach --name flocker-docker-plugin --restart always --label swarm-flocker.spec=X --label swarm-flocker.config-digest=0123456789abcdef --net host -e FLOCKER_CONTROL_SERVICE_BASE_URL=https://172.31.0.13:4523/v1 -e MY_NETWORK_IDENTITY=172.31.0.15 -v /etc/flocker:/etc/flocker -v /run/docker:/run/docker $PLUGIN_REF"
  [[ -S "$FS_ROOT/run/docker/plugins/flocker/flocker.sock" ]]
  assert_equal "$(container flocker-docker-plugin '.HostConfig.Privileged')" false
  assert_equal "$(container flocker-dataset-agent '.HostConfig.Privileged')" true
  # Secrets stay in /etc/flocker: nothing of them on any command line.
  refute_anywhere "content of node.key"
  refute_anywhere "content of agent.yml"
}

@test "agents: images pinned as name:tag@sha256 or name@sha256 are pulled by the images step and run by the reference as written" {
  local d=sha256:
  DATASET_AGENT_IMAGE="$DATASET_REF:1.15.0@${d}$(printf '1%.0s' {1..64})"
  CONTAINER_AGENT_IMAGE="registry.internal:5000/flocker/container-agent@${d}$(printf '2%.0s' {1..64})"
  PLUGIN_IMAGE="$PLUGIN_REF:1.15.0@${d}$(printf '3%.0s' {1..64})"
  export DATASET_AGENT_IMAGE CONTAINER_AGENT_IMAGE PLUGIN_IMAGE
  IMAGES="flockerDatasetAgentImage=$DATASET_AGENT_IMAGE flockerContainerAgentImage=$CONTAINER_AGENT_IMAGE flockerPluginImage=$PLUGIN_IMAGE" \
    run_script pull-images
  assert_success
  local ref
  for ref in "$DATASET_AGENT_IMAGE" "$CONTAINER_AGENT_IMAGE" "$PLUGIN_IMAGE"; do
    assert_called "docker pull $ref"
  done
  # Docker keeps a tag-and-digest pull under its digest: the name@sha256 spelling finds it too.
  run docker image inspect --format '{{.Id}}' "$DATASET_REF@${DATASET_AGENT_IMAGE#*@}"
  assert_success
  clear_logs
  run_script flocker-containers agents
  assert_success
  refute_called_matching '^docker pull'
  assert_equal "$(container flocker-dataset-agent '.Config.Image')" "$DATASET_AGENT_IMAGE"
  assert_equal "$(container flocker-container-agent '.Config.Image')" "$CONTAINER_AGENT_IMAGE"
  assert_equal "$(container flocker-docker-plugin '.Config.Image')" "$PLUGIN_IMAGE"
  clear_logs
  run_script flocker-containers agents
  assert_success
  assert_no_mutations
}

@test "agents: a second run changes nothing; another node address replaces only the plugin" {
  run_script flocker-containers agents
  clear_logs
  run_script flocker-containers agents
  assert_success
  assert_no_mutations
  NODE_ADDRESS=172.31.0.16 run_script flocker-containers agents
  assert_success
  assert_equal "$(grep -c '^docker rm' "$STUB_STATE/mutations.log")" 1
  assert_called "docker rm flocker-docker-plugin"
}

@test "agents: changed certificates or agent.yml replace all three containers" {
  run_script flocker-containers agents
  clear_logs
  CONFIG_DIGEST=fedcba9876543210 run_script flocker-containers agents
  assert_success
  assert_equal "$(grep -c '^docker stop --time 30' "$STUB_STATE/mutations.log")" 3
  assert_equal "$(grep -c '^docker rm' "$STUB_STATE/mutations.log")" 3
  assert_equal "$(grep -c '^docker run --detach' "$STUB_STATE/mutations.log")" 3
}

@test "agents: no plugin socket -> fails at the bound, pointing at the plugin's log" {
  stub_fail plugin-socket always
  run_script flocker-containers agents
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for the Flocker Docker plugin socket /run/docker/plugins/flocker/flocker.sock: see 'docker logs flocker-docker-plugin'"
}

@test "agents: a socket left by a killed plugin is cleared, not taken for the new plugin's" {
  local sock=$FS_ROOT/run/docker/plugins/flocker/flocker.sock
  mkdir -p "${sock%/*}"
  perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die "$!\n"' "$sock"
  stub_fail plugin-socket always
  run_script flocker-containers agents
  assert_failure 1
  assert_stderr_contains "removing the stale plugin socket"
  assert_stderr_contains "timed out after 5s waiting for the Flocker Docker plugin socket"
}

@test "agents: a parameter missing -> error naming it, before anything runs" {
  unset NODE_ADDRESS
  run_script flocker-containers agents
  assert_failure 1
  assert_stderr_contains "environment variable NODE_ADDRESS is not set"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ packages
@test "agents: switching from packages stops and disables the three units, then runs the containers" {
  stub_set systemd/flocker-dataset-agent "enabled active"
  stub_set systemd/flocker-container-agent "enabled"
  stub_set systemd/flocker-docker-plugin "enabled active"
  run_script flocker-containers agents
  assert_success
  assert_equal "$(sed -n 1,3p "$STUB_STATE/mutations.log")" "systemctl disable --now flocker-dataset-agent
systemctl disable --now flocker-container-agent
systemctl disable --now flocker-docker-plugin"
  assert_equal "$(grep -c '^docker run --detach' "$STUB_STATE/mutations.log")" 3
  [[ -S "$FS_ROOT/run/docker/plugins/flocker/flocker.sock" ]]
  clear_logs
  run_script flocker-containers agents
  assert_no_mutations
}

@test "an unknown action is a usage error" {
  run_script flocker-containers start
  assert_failure 2
  assert_stderr_contains "usage: flocker-containers.sh control|agents"
  run_script flocker-containers remove-control
  assert_failure 2
}

# ------------------------------------------------------------------------------------ pull-images
@test "pull-images: every listed image pulled, in parallel, nothing on stdout; a second run pulls nothing" {
  export IMAGES="sparkMasterImage=fsoppelsa/spark-master sparkWorkerImage=fsoppelsa/spark-worker:latest flockerTestImage=busybox@sha256:3333333333333333333333333333333333333333333333333333333333333333"
  # each pull waits until all three have started: pulls one after another would fail
  stub_set docker/pull-barrier 3
  run_script pull-images
  assert_success
  assert_output ""
  assert_equal "$(sort "$STUB_STATE/mutations.log")" "docker pull busybox@sha256:3333333333333333333333333333333333333333333333333333333333333333
docker pull fsoppelsa/spark-master
docker pull fsoppelsa/spark-worker:latest"
  assert_stderr_contains "3 image(s) on this node"
  rm "$STUB_STATE/docker/pull-barrier"
  clear_logs
  run_script pull-images
  assert_success
  assert_no_mutations
  assert_stderr_contains "fsoppelsa/spark-master (sparkMasterImage) is already on this node"
}

@test "pull-images: a network error or a hung attempt is retried within the bound" {
  export IMAGES="flockerPluginImage=$PLUGIN_REF"
  rm "$STUB_STATE/docker/images/clusterhq_flocker-docker-plugin"
  stub_fail docker-pull 1
  run_script pull-images
  assert_success
  assert_equal "$(grep -c '^docker pull' "$STUB_STATE/mutations.log")" 2
  rm "$STUB_STATE/docker/images/clusterhq_flocker-docker-plugin"
  clear_logs
  # the first bounded call is the image inspect (taken as "not here"), the second the first pull
  stub_fail timeout 2
  run_script pull-images
  assert_success
  assert_equal "$(grep -c '^timeout --foreground --kill-after=10 600 docker pull' "$STUB_STATE/calls.log")" 2
}

@test "pull-images: an image the registry lacks -> error naming the reference and its config key" {
  stub_set docker/missing-images "clusterhq/flocker-control-servce"
  export IMAGES="flockerControlImage=clusterhq/flocker-control-servce sparkWorkerImage=fsoppelsa/spark-worker"
  run_script pull-images
  assert_failure 1
  assert_stderr_contains "pull access denied for clusterhq/flocker-control-servce"
  assert_stderr_contains "could not pull clusterhq/flocker-control-servce (flockerControlImage) after 3 attempt(s) each"
  assert_equal "$(grep -c '^docker pull clusterhq/flocker-control-servce$' "$STUB_STATE/mutations.log")" 3
  # the other pull is not held back by the failing one
  assert_called "docker pull fsoppelsa/spark-worker"
}

@test "pull-images: an entry that is not KEY=REFERENCE is refused before any pull" {
  IMAGES="fsoppelsa/spark-worker" run_script pull-images
  assert_failure 1
  assert_stderr_contains "IMAGES entry 'fsoppelsa/spark-worker' is not KEY=REFERENCE"
  assert_no_mutations
}
