#!/usr/bin/env bats
# scripts/flocker-test.sh (the book's Flocker test) and scripts/flocker-status.sh

load helpers

setup() {
  common_setup
  mkdir -p "$FS_ROOT/etc/flocker"
  local f
  for f in cluster.crt plugin.crt plugin.key; do echo "pem of $f" >"$FS_ROOT/etc/flocker/$f"; done
  export TEST_IMAGE=busybox FLOCKER_CONTROL_HOST=172.31.0.13
}

# live_datasets: datasets of the Flocker API stub not (yet) deleted.
live_datasets() { jq -c '[.[] | select(.deleted | not)]' "$STUB_STATE/flocker/config.json"; }

# ------------------------------------------------------------------------------------ test
@test "test: a small volume, written from one container, read back from another, then removed" {
  run_script flocker-test
  assert_success
  assert_output --regexp '^wrote and read back flocker-test-[0-9]+-[0-9]+ through Flocker volume flocker-test \(mounted at /flocker/[0-9a-f-]{36}\) on ip-172-31-0-10$'
  local token
  token=$(grep -oE 'flocker-test-[0-9]+-[0-9]+' <<<"$output")
  sed -E 's/flocker-test-[0-9]+-[0-9]+/TOKEN/; s#datasets/[0-9a-f-]{36}#datasets/ID#' "$STUB_STATE/mutations.log" >"$BATS_TEST_TMPDIR/m"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/m")" "docker volume create --driver flocker --opt size=1G --name flocker-test
docker run --rm -v flocker-test:/data --volume-driver flocker busybox sh -c 'echo TOKEN > /data/flocker-test'
docker run --rm -v flocker-test:/data --volume-driver flocker busybox cat /data/flocker-test
docker volume rm flocker-test
curl -X DELETE /v1/configuration/datasets/ID"
  # what the first container wrote is what the second one read
  assert_equal "$(cat "$STUB_STATE/docker/volume-data/flocker-test/flocker-test")" "$token"
  assert_equal "$(live_datasets)" "[]"
  assert_stderr_contains "Flocker test passed; the test dataset is removed"
  grep -qE '^timeout --foreground --kill-after=10 300 docker run ' "$STUB_STATE/calls.log"
}

@test "test: a second run does the same again and leaves nothing behind" {
  run_script flocker-test
  assert_success
  clear_logs
  run_script flocker-test
  assert_success
  assert_equal "$(grep -c '^docker run' "$STUB_STATE/mutations.log")" 2
  assert_equal "$(live_datasets)" "[]"
  [[ ! -f "$STUB_STATE/docker/volumes/flocker-test" ]]
}

@test "test: the dataset's mount not reaching the host fails the test, and the dataset is still removed" {
  stub_fail mount-propagation always
  run_script flocker-test
  assert_failure 1
  assert_output ""
  assert_stderr_contains "is not a mount point on this host: the dataset agent's mount does not reach the host (its /flocker must be mounted with shared propagation)"
  assert_stderr_contains "The test dataset was removed"
  refute_called_matching 'cat /data/flocker-test'
  assert_equal "$(live_datasets)" "[]"
}

@test "test: the plugin failing to mount -> error pointing at the agent and plugin logs; dataset removed" {
  stub_fail volume-mount always
  run_script flocker-test
  assert_failure 1
  assert_stderr_contains "VolumeDriver.Mount: timed out"
  assert_stderr_contains "the container writing through volume flocker-test failed (message above): see 'docker logs flocker-dataset-agent'"
  assert_called "curl --silent --show-error --fail --max-time 30 --connect-timeout 10 --cacert $FS_ROOT/etc/flocker/cluster.crt --cert $FS_ROOT/etc/flocker/plugin.crt --key $FS_ROOT/etc/flocker/plugin.key -X GET --resolve control-service:4523:172.31.0.13 --url https://control-service:4523/v1/configuration/datasets"
  assert_equal "$(live_datasets)" "[]"
}

@test "test: a left-over test volume from an interrupted run is reused, then removed" {
  run docker volume create --driver flocker --opt size=1G --name flocker-test
  clear_logs
  run_script flocker-test
  assert_success
  refute_called_matching '^docker volume create'
  assert_equal "$(live_datasets)" "[]"
}

@test "test: a test volume of another driver -> error, nothing of it deleted" {
  stub_set docker/volumes/flocker-test local
  run_script flocker-test
  assert_failure 1
  assert_stderr_contains "a volume named flocker-test exists with driver 'local', not flocker"
  refute_called_matching '^docker run'
}

@test "test: the control service not answering -> the test's failure, then the orphan hint at the retry bound" {
  stub_fail curl always
  run_script flocker-test
  assert_failure 1
  assert_stderr_contains "Flocker test failed: the control service does not report where the dataset of volume flocker-test is mounted; removing the test dataset"
  assert_stderr_contains "the Flocker control service at 172.31.0.13:4523 did not answer after 3 attempts, so the dataset of volume flocker-test was not deleted"
  assert_stderr_contains "Name=tag-key,Values=flocker-dataset-id"
}

@test "test: Flocker's API certificates missing -> error before anything runs" {
  rm "$FS_ROOT/etc/flocker/plugin.key"
  run_script flocker-test
  assert_failure 1
  assert_stderr_contains "missing /etc/flocker/plugin.key: the flocker-files step must run first"
  assert_no_mutations
}

# ------------------------------------------------------------------------------------ status
NODES_JSON='[{"host": "172.31.0.14", "uuid": "bbbb0000-0000-4000-8000-000000000014"}, {"host": "172.31.0.10", "uuid": "aaaa0000-0000-4000-8000-000000000010"}]'

@test "status: nodes and datasets as one sorted JSON line, like flockerctl status and list" {
  stub_set flocker/nodes.json "$NODES_JSON"
  stub_set flocker/config.json '[{"dataset_id": "d1", "deleted": false, "primary": "bbbb0000-0000-4000-8000-000000000014", "maximum_size": 80530636800, "metadata": {"name": "spark", "clusterhq:flocker:profile": "bronze"}},
    {"dataset_id": "d2", "deleted": false, "primary": "aaaa0000-0000-4000-8000-000000000010", "metadata": {"name": "being-made"}},
    {"dataset_id": "d3", "deleted": true, "metadata": {"name": "gone"}},
    {"dataset_id": "d4", "deleted": false, "metadata": {"name": "parked"}}]'
  stub_set flocker/state.json '[{"dataset_id": "d1", "primary": "bbbb0000-0000-4000-8000-000000000014", "path": "/flocker/d1"}, {"dataset_id": "d4"}]'
  EXPECTED_ADDRESSES="172.31.0.10 172.31.0.14" run_script flocker-status
  assert_success
  assert_equal "$(wc -l <<<"$output")" 1
  assert_equal "$(jq -c . <<<"$output")" '{"nodes":[{"uuid":"aaaa0000-0000-4000-8000-000000000010","address":"172.31.0.10"},{"uuid":"bbbb0000-0000-4000-8000-000000000014","address":"172.31.0.14"}],"datasets":[{"datasetId":"d2","name":"being-made","sizeGiB":null,"profile":null,"status":"pending","address":"172.31.0.10"},{"datasetId":"d4","name":"parked","sizeGiB":null,"profile":null,"status":"detached","address":null},{"datasetId":"d1","name":"spark","sizeGiB":75,"profile":"bronze","status":"attached","address":"172.31.0.14"}]}'
  assert_no_mutations
}

@test "status: waits until every expected node has reported; the ones missing are named" {
  stub_set flocker/nodes.json "$NODES_JSON"
  EXPECTED_ADDRESSES="172.31.0.10 172.31.0.14 172.31.0.19" run_script flocker-status
  assert_failure 1
  assert_stderr_contains "nodes not yet known to the control service: 172.31.0.19"
  assert_stderr_contains "timed out after 5s waiting for every node to be known to the Flocker control service"
  assert_output ""
}

@test "status: the control service not answering -> bounded failure, no half document" {
  stub_fail curl always
  run_script flocker-status
  assert_failure 1
  assert_output ""
  assert_stderr_contains "timed out after 5s waiting for every node to be known to the Flocker control service"
}
