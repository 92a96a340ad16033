#!/usr/bin/env bats
# scripts/spark-network.sh and flocker-volume.sh

load helpers

DS=5e4a1c3b-7d2f-4c1e-9a0b-2f6d8e9c1a22

setup() {
  common_setup
  swarm_is active manager
  export NETWORK_NAME=spark NETWORK_SUBNET=10.0.0.0/24 NETWORK_ENCRYPTED=0 ATTACH_IMAGE=fsoppelsa/spark-worker
  # a swarm founded with the stack's address pool: ingress is its first /24
  ingress_on 10.255.0.0/24
  stub_set docker/images/fsoppelsa_spark-worker "sha256:5f0c6a1b2e3d"
  export VOLUME_NAME=spark VOLUME_SIZE=75G VOLUME_PROFILE=bronze FLOCKER_CONTROL_HOST=172.31.10.104 RELEASE_TIMEOUT=5
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in cluster.crt plugin.crt plugin.key; do echo "pem of $f" >"$FS_ROOT/etc/flocker/$f"; done
}

# a Flocker dataset named spark (75 GiB, bronze, as the plugin records them), in the configuration
# and in the cluster state
with_dataset() {
  stub_set flocker/config.json "[{\"dataset_id\": \"$DS\", \"deleted\": false, \"primary\": \"node-1\", \"maximum_size\": 80530636800, \"metadata\": {\"name\": \"spark\", \"maximum_size\": \"80530636800\", \"clusterhq:flocker:profile\": \"bronze\"}},
 {\"dataset_id\": \"0ther\", \"deleted\": false, \"metadata\": {\"name\": \"other\"}}]"
  stub_set flocker/state.json "[{\"dataset_id\": \"$DS\", \"primary\": \"node-1\", \"path\": \"/flocker/$DS\"}, {\"dataset_id\": \"0ther\"}]"
}

# ingress_on SUBNET: the swarm's ingress network, as swarm init leaves it
ingress_on() {
  stub_set docker/networks/ingress.json "{\"Name\": \"ingress\", \"Driver\": \"overlay\", \"Scope\": \"swarm\", \"IPAM\": {\"Config\": [{\"Subnet\": \"$1\"}]}}"
}

PROBE="docker run --rm --pull never --network spark --entrypoint true fsoppelsa/spark-worker"

# ------------------------------------------------------------------------------------ network
@test "network create: the book's overlay, attachable, allocated and joined by a probe container; second run changes nothing" {
  run_script spark-network create
  assert_success
  assert_mutations <<EOF2
docker network create --driver overlay --attachable --subnet 10.0.0.0/24 spark
$PROBE
EOF2
  assert_stderr_contains "network spark is allocated (10.0.0.0/24) and a container can join it"
  clear_logs
  run_script spark-network create
  assert_success
  assert_no_mutations
}

@test "network create: a swarm founded without the address pool (ingress on 10.0.0.0/24) -> refused before anything is created, saying what to do" {
  ingress_on 10.0.0.0/24
  run_script spark-network create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "overlaySubnet 10.0.0.0/24 overlaps the swarm's ingress network (10.0.0.0/24)"
  assert_stderr_contains "Docker would create network spark (exit 0) but never allocate it"
  assert_stderr_contains "Choose another overlaySubnet that does not overlap 10.0.0.0/24"
  assert_stderr_contains "or re-found the swarm with swarmAddressPool"
  # another overlaySubnet outside it is fine
  NETWORK_SUBNET=10.1.0.0/24 run_script spark-network create
  assert_success
}

@test "network create: a subnet inside another swarm network's -> refused naming that network" {
  stub_set docker/networks/monitoring.json '{"Name": "monitoring", "Driver": "overlay", "Scope": "swarm", "IPAM": {"Config": [{"Subnet": "10.0.0.0/16"}]}}'
  stub_set docker/networks/bridge.json '{"Name": "bridge", "Driver": "bridge", "Scope": "local", "IPAM": {"Config": [{"Subnet": "10.0.0.0/8"}]}}'
  run_script spark-network create
  assert_failure 1
  assert_no_mutations
  assert_stderr_contains "overlaps the subnet 10.0.0.0/16 of the swarm network 'monitoring'"
}

@test "network create: the manager never allocates it -> the daemon's reason, and the network is removed again" {
  stub_fail network-allocate 1
  run_script spark-network create
  assert_failure 1
  assert_stderr_contains "network spark (10.0.0.0/24) has no IPAM configuration after 5s"
  assert_stderr_contains "The manager says: level=error msg=\"Failed allocation for network spark1d\""
  assert_mutations <<'EOF2'
docker network create --driver overlay --attachable --subnet 10.0.0.0/24 spark
docker network rm spark
EOF2
  [[ ! -e "$STUB_STATE/docker/networks/spark.json" ]]
  clear_logs
  run_script spark-network create
  assert_success
}

@test "network create: a network an earlier run left unallocated is removed and created anew" {
  stub_fail network-allocate 1
  docker network create --driver overlay --attachable --subnet 10.0.0.0/24 spark >/dev/null
  clear_logs
  run_script spark-network create
  assert_success
  assert_stderr_contains "network spark exists but was never allocated"
  assert_mutations <<EOF2
docker network rm spark
docker network create --driver overlay --attachable --subnet 10.0.0.0/24 spark
$PROBE
EOF2
}

@test "network create: a container cannot join it -> the daemon's reason; the network goes, so a re-run probes again" {
  stub_fail network-attach 1
  run_script spark-network create
  assert_failure 1
  assert_stderr_contains "network spark exists but a container cannot join it: docker: Error response from daemon: failed to create endpoint probe on network spark"
  assert_stderr_contains "the vxlan and ip_vs modules"
  [[ ! -e "$STUB_STATE/docker/networks/spark.json" ]]
  clear_logs
  run_script spark-network create
  assert_success
  assert_stderr_contains "a container can join it"
}

@test "network create: the probe's image is not on the node -> refused (no pull from a registry)" {
  rm "$STUB_STATE/docker/images/fsoppelsa_spark-worker"
  run_script spark-network create
  assert_failure 1
  assert_stderr_contains "No such image: fsoppelsa/spark-worker"
  refute_called_matching '^docker pull'
}

@test "network create: encrypted when asked" {
  NETWORK_ENCRYPTED=1 run_script spark-network create
  assert_success
  assert_mutations <<EOF2
docker network create --driver overlay --attachable --subnet 10.0.0.0/24 --opt encrypted spark
$PROBE
EOF2
  clear_logs
  NETWORK_ENCRYPTED=1 run_script spark-network create
  assert_no_mutations
}

@test "network create: an existing network with other options -> error saying how to resolve" {
  run_script spark-network create
  clear_logs
  NETWORK_SUBNET=10.0.9.0/24 run_script spark-network create
  assert_failure 1
  assert_stderr_contains "network spark exists with driver overlay, subnet 10.0.0.0/24 / encrypted 0, but overlay, 10.0.9.0/24 / encrypted 0 is wanted"
  assert_stderr_contains "remove the services using it and the network"
  assert_stderr_contains "or set overlaySubnet/overlayEncrypted back"
  NETWORK_ENCRYPTED=1 run_script spark-network create
  assert_failure 1
  assert_stderr_contains "subnet 10.0.0.0/24 / encrypted 0, but overlay, 10.0.0.0/24 / encrypted 1 is wanted"
  assert_no_mutations
}

@test "network delete: retried while tasks detach; absent or no docker is fine" {
  run_script spark-network create
  clear_logs
  stub_fail network-rm 1
  run_script spark-network delete
  assert_success
  assert_mutations <<'EOF2'
docker network rm spark
docker network rm spark
EOF2
  clear_logs
  run_script spark-network delete
  assert_success
  assert_no_mutations
  uninstall docker
  run_script spark-network delete
  assert_success
}

@test "network delete: still in use after the retries -> error saying what to remove" {
  run_script spark-network create
  stub_fail network-rm always
  run_script spark-network delete
  assert_failure 1
  assert_stderr_contains "network spark is still in use after 3 attempts: remove the services and containers attached to it"
}

# ------------------------------------------------------------------------------------ volume create
@test "volume create: the book's flocker volume; second run changes nothing" {
  run_script flocker-volume create
  assert_success
  assert_mutations <<<"docker volume create --driver flocker --opt size=75G --opt profile=bronze --name spark"
  clear_logs
  run_script flocker-volume create
  assert_success
  assert_no_mutations
}

@test "volume create: plugin not ready yet -> retried" {
  stub_fail volume-create 2
  run_script flocker-volume create
  assert_success
  assert_equal "$(grep -c '^docker volume create' "$STUB_STATE/mutations.log")" 3
}

@test "volume create: a volume of that name with another driver -> error" {
  stub_set docker/volumes/spark local
  run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "a volume named spark exists with driver 'local', not flocker"
  assert_no_mutations
}

@test "volume create: sizes and profiles Flocker would silently ignore are refused" {
  VOLUME_SIZE=75X run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "VOLUME_SIZE '75X' is not a size Flocker understands"
  VOLUME_PROFILE=platinum run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "is not a Flocker profile (gold, silver, bronze)"
  assert_no_mutations
}

@test "volume create: the dataset already exists (a replaced master node) -> no second dataset" {
  with_dataset
  run_script flocker-volume create
  assert_success
  assert_stderr_contains "Flocker dataset $DS (spark) exists with size 75 GiB and profile bronze"
  assert_mutations <<<"docker volume create --driver flocker --opt size=75G --opt profile=bronze --name spark"
  assert_equal "$(jq '[.[] | select(.metadata.name == "spark")] | length' "$STUB_STATE/flocker/config.json")" 1
  refute_called_matching 'DELETE'
  clear_logs
  VOLUME_SIZE=76800M run_script flocker-volume create # the same size, written another way
  assert_success
  assert_no_mutations
}

@test "volume create: a changed size or profile is refused with what to do instead, nothing changed" {
  stub_set docker/volumes/spark flocker
  with_dataset
  VOLUME_SIZE=100G run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "volume spark (Flocker dataset $DS) has size 75 GiB and profile bronze, but sparkVolumeSize=100G (100 GiB) and sparkVolumeProfile=bronze are asked for. Flocker cannot resize a dataset or change its profile in place, so nothing was changed: set sparkVolumeSize/sparkVolumeProfile back to 75G/bronze, or move the data to a dataset of the new size or profile as docs/operations.md ('Change the Spark volume's size or profile') describes"
  VOLUME_PROFILE=silver run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "has size 75 GiB and profile bronze, but sparkVolumeSize=75G (75 GiB) and sparkVolumeProfile=silver are asked for"
  assert_no_mutations
}

@test "volume create: the control service lost its configuration -> refused rather than hiding the data" {
  stub_set flocker/config.json '[]'
  stub_set flocker/state.json "[{\"dataset_id\": \"$DS\", \"primary\": \"node-1\", \"path\": \"/flocker/$DS\"}]"
  run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "Flocker has no dataset named spark, but the cluster holds dataset(s) $DS that its configuration does not know: the control service has lost its configuration (was the control node replaced?)"
  assert_stderr_contains "docs/operations.md ('Replace the Flocker control node')"
  assert_no_mutations
}

@test "volume create: two datasets of that name, or a control service that does not answer -> error" {
  stub_set flocker/config.json '[{"dataset_id": "a1", "metadata": {"name": "spark"}}, {"dataset_id": "b2", "metadata": {"name": "spark"}}]'
  run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "Flocker has 2 datasets named spark (a1, b2): Docker cannot tell which one the volume is"
  stub_fail curl always
  run_script flocker-volume create
  assert_failure 1
  assert_stderr_contains "the Flocker control service at 172.31.10.104:4523 did not answer after 3 attempts, so volume spark was neither checked nor created"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ volume delete
@test "volume delete: Docker does not answer -> says so and stops, the dataset is not deleted" {
  stub_set docker/volumes/spark flocker
  with_dataset
  stub_fail docker-daemon always
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "Docker does not answer on this node ('docker info' fails), so whether a container still uses volume spark cannot be checked: its dataset was NOT deleted"
  refute_called_matching '^curl'
  assert_no_mutations
}

@test "volume delete: a container still uses the volume after the bound -> names it and stops, nothing deleted" {
  stub_set docker/volumes/spark flocker
  with_dataset
  stub_set docker/containers/spark-master.1.x7.json '{"Name": "/spark-master.1.x7", "HostConfig": {"Binds": ["spark:/data"]}}'
  stub_set docker/containers/other.json '{"Name": "/other", "HostConfig": {"Binds": ["sparkling:/data"]}}'
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "waiting up to 5s for them to go"
  assert_stderr_contains "volume spark is still used by container(s) spark-master.1.x7 on this node after 5s: its dataset was NOT deleted"
  refute_called_matching '^curl'
  assert_no_mutations
}

@test "volume delete: a removed service's task container that lingers a moment is waited for, then the dataset goes" {
  stub_set docker/volumes/spark flocker
  with_dataset
  stub_set docker/containers/spark-master.1.x7.json '{"Name": "/spark-master.1.x7", "HostConfig": {"Binds": ["spark:/data"]}}'
  stub_set docker/containers/spark-master.1.x7.linger 2
  # the bound is a wall clock too: a generous one, so that slow polls on a loaded machine still pass
  RELEASE_TIMEOUT=60 run_script flocker-volume delete
  assert_success
  assert_stderr_contains "volume spark is still used by container(s) spark-master.1.x7 on this node: waiting up to 60s for them to go"
  assert_mutations <<EOF2
docker volume rm spark
curl -X DELETE /v1/configuration/datasets/$DS
EOF2
}

@test "volume delete: removes Docker's volume, deletes the dataset via the API, waits until gone" {
  stub_set docker/volumes/spark flocker
  with_dataset
  stub_fail state-linger 2
  run_script flocker-volume delete
  assert_success
  assert_mutations <<EOF2
docker volume rm spark
curl -X DELETE /v1/configuration/datasets/$DS
EOF2
  local etc=$FS_ROOT/etc/flocker
  assert_called "curl --silent --show-error --fail --max-time 30 --connect-timeout 10 --cacert $etc/cluster.crt --cert $etc/plugin.crt --key $etc/plugin.key -X GET --resolve control-service:4523:172.31.10.104 --url https://control-service:4523/v1/configuration/datasets"
  assert_equal "$(grep -c 'v1/state/datasets$' "$STUB_STATE/calls.log")" 3
  assert_stderr_contains "dataset $DS is deleted"
  # the other dataset is untouched
  jq -e 'map(select(.dataset_id == "0ther" and (.deleted | not))) | length == 1' "$STUB_STATE/flocker/config.json"
}

@test "volume delete: nothing left -> nothing done (second run)" {
  stub_set docker/volumes/spark flocker
  with_dataset
  run_script flocker-volume delete
  assert_success
  clear_logs
  run_script flocker-volume delete
  assert_success
  assert_no_mutations
  assert_stderr_contains "Flocker has no dataset named spark: nothing to delete"
}

@test "volume delete: control service unreachable -> non-zero, says how to find the EBS volume" {
  with_dataset
  stub_fail curl always
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "the Flocker control service at 172.31.10.104:4523 did not answer after 3 attempts"
  assert_stderr_contains "Name=tag-key,Values=flocker-dataset-id"
  assert_stderr_contains "pulumi destroy --continue-on-error"
  assert_equal "$(grep -c '^curl' "$STUB_STATE/calls.log")" 3
}

@test "volume delete: volume still in use -> error before any data is deleted" {
  stub_set docker/volumes/spark flocker
  with_dataset
  stub_fail volume-rm always
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "docker volume rm spark failed (still in use?): remove the service or containers using it first"
  refute_called_matching '^curl'
}

@test "volume delete: dataset never leaves the state -> fails at the bound with the orphan hint" {
  with_dataset
  stub_fail state-linger always
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "timed out after 5s waiting for Flocker to delete dataset $DS and its EBS volume"
  assert_stderr_contains "flocker-dataset-id"
}

@test "volume delete: a host without Docker or Flocker certificates" {
  rm "$FS_ROOT/etc/flocker/plugin.key"
  run_script flocker-volume delete
  assert_failure 1
  assert_stderr_contains "Flocker's API certificates (/etc/flocker/cluster.crt, plugin.crt, plugin.key) are missing"
  uninstall docker
  run_script flocker-volume delete
  assert_success
  assert_stderr_contains "WARNING: neither Docker nor Flocker's certificates are on this host"
  assert_no_mutations
}
