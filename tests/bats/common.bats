#!/usr/bin/env bats
# scripts/lib/*.sh, the rules every script follows, and the test harness itself.

load helpers
export SCRIPTS

ALL_SCRIPTS=(wait-boot install-docker flocker-packages flocker-files flocker-services swarm-init
  swarm-token swarm-join swarm-member swarm-label spark-network flocker-volume swarm-service
  spark-smoke)

# lib FUNCTION-CALL...: run bash code with the libraries sourced (as a script named "lib-test").
lib() {
  printf 'set -euo pipefail\nsource %q\nsource %q\nsource %q\nsource %q\n%s\n' "$SCRIPTS/lib/core.sh" "$SCRIPTS/lib/swarm.sh" \
    "$SCRIPTS/lib/services.sh" "$SCRIPTS/lib/flocker.sh" "$1" >"$BATS_TEST_TMPDIR/lib-test.sh"
  run --separate-stderr bash "$BATS_TEST_TMPDIR/lib-test.sh"
}

@test "every script: strict mode, no tracing, an unknown action is a usage error" {
  # one plain bash loop (much faster than the same loop under bats' per-command tracing)
  run bash -c '
    for s in "$@"; do
      f=$SCRIPTS/$s.sh
      [[ -f $f ]] || { echo "$s.sh is missing"; continue; }
      [[ $(head -n 1 "$f") == "#!/usr/bin/env bash" ]] || echo "$s.sh: wrong shebang"
      grep -qx "set -euo pipefail" "$f" || echo "$s.sh: no set -euo pipefail"
      ! grep -nE "^[^#]*set -[a-z]*x|set -o xtrace" "$f" || echo "$s.sh turns on tracing"
      err=$(bash "$f" bogus-action 2>&1 </dev/null >/dev/null) && rc=0 || rc=$?
      [[ $rc == 2 ]] || echo "$s.sh bogus-action exited $rc, not 2"
      [[ $err == *"[$s] ERROR: unknown action '\''bogus-action'\'': usage: $s.sh"* ]] || echo "$s.sh: usage message: $err"
    done' _ "${ALL_SCRIPTS[@]}"
  assert_success
  assert_output ""
  assert_no_mutations
}

@test "retry: transient failures are retried; it gives up after ATTEMPTS, DELAY apart" {
  lib 'n=0; flaky() { n=$((n + 1)); ((n >= 3)); }; retry 5 7 flaky; echo "calls=$n"'
  assert_success
  assert_output "calls=3"
  assert_equal "$(cat "$STUB_STATE/sleep.log")" $'7\n7'

  : >"$STUB_STATE/sleep.log"
  lib 'retry 3 2 false'
  assert_failure
  assert_stderr_contains "[lib-test] false failed (exit 1) on attempt 3 of 3; giving up"
  assert_equal "$(cat "$STUB_STATE/sleep.log")" $'2\n2'
}

@test "wait_for: polls until success; at the bound it dies saying what and how long" {
  lib 'n=0; ready() { n=$((n + 1)); ((n >= 4)); }; wait_for 10 2 "the thing" ready; echo "polls=$n"'
  assert_success
  assert_output "polls=4"

  lib 'polls=0; never() { polls=$((polls + 1)); echo "$polls" >"$STUB_STATE/polls"; return 1; }; WAIT_HINT="look at X" wait_for 6 2 "the other thing" never'
  assert_failure 1
  assert_stderr_contains "[lib-test] ERROR: timed out after 6s waiting for the other thing: look at X"
  # polls at 0, 2, 4 and 6 seconds
  assert_equal "$(cat "$STUB_STATE/polls")" 4
}

@test "require_env names the missing variable; path prefixes FS_ROOT" {
  lib 'A=1; require_env A B_MISSING'
  assert_failure 1
  assert_stderr_contains "environment variable B_MISSING is not set"
  lib 'path /etc/flocker/agent.yml'
  assert_output "$FS_ROOT/etc/flocker/agent.yml"
}

@test "image_key/image_matches: tag :latest and a pinned digest are ignored, other tags are not" {
  lib 'image_matches fsoppelsa/spark-master "fsoppelsa/spark-master:latest@sha256:abc" && echo same1
       image_matches docker.io/library/redis:6 "redis:6@sha256:abc" && echo same2
       image_matches registry:5000/img "registry:5000/img:latest@sha256:abc" && echo same3
       image_matches fsoppelsa/spark-master:2 "fsoppelsa/spark-master:latest@sha256:abc" || echo differ1
       image_matches "img@sha256:def" "img:latest@sha256:abc" || echo differ2'
  assert_success
  assert_output $'same1\nsame2\nsame3\ndiffer1\ndiffer2'
}

@test "docker stub: the real Docker CLI parser rejects a bad flag (and the test would fail)" {
  [[ -n "$REAL_DOCKER" && -x "$REAL_DOCKER" ]] || fail "no real Docker CLI (REAL_DOCKER): install docker.io or docker-ce-cli"
  run docker service create --detach --name x --no-such-flag img
  assert_failure 99
  grep -q 'unknown flag: --no-such-flag' "$STUB_STATE/invalid.log"
  : >"$STUB_STATE/invalid.log"

  run docker service update --replicas three x
  assert_failure 99
  grep -q 'invalid argument "three" for "--replicas"' "$STUB_STATE/invalid.log"
  : >"$STUB_STATE/invalid.log"

  run docker service create
  assert_failure 99
  grep -q 'requires at least 1 argument' "$STUB_STATE/invalid.log"
  : >"$STUB_STATE/invalid.log"

  # and a valid call passes validation
  swarm_is active manager
  run docker network create --driver overlay --attachable --subnet 10.0.0.0/24 spark
  assert_success
}

@test "docker stub: without a real Docker CLI the validation fails instead of passing" {
  REAL_DOCKER="" run docker swarm init --advertise-addr 10.0.1.10
  assert_failure 99
  grep -q 'no real Docker CLI' "$STUB_STATE/invalid.log"
  : >"$STUB_STATE/invalid.log"
}
