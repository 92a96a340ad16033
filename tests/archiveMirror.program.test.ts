/**
 * An ubuntuArchiveMirror with credentials, set as a Pulumi secret, through the whole program under
 * mocks (dev): the mirror reaches the nodes only as the secret stdin of the Docker steps, split
 * into the URL and an auth.conf entry; no command line, environment assignment, other input or
 * stack output holds the password or the mirror's host. scripts/install-docker.sh's side (the
 * 0600 file, nothing printed) is in tests/bats/install-docker.bats.
 */
import { isSecretWire, ProgramRun, runProgram } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import { named, plainOccurrences } from "./helpers/program";

const PASSWORD = "m1rr0r-Pa55";
const HOST = "ubuntu-mirror.corp.example";
const MIRROR = `https://deploy:${PASSWORD}@${HOST}/ubuntu`;
const KEY = "swarm-flocker:ubuntuArchiveMirror";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram({ stack: "dev", config: { ...readStackConfig("dev"), [KEY]: MIRROR }, secretKeys: [KEY] });
}, 300_000);

test("neither the password nor the mirror's host is in a resource input or stack output outside a secret", () => {
  for (const needle of [PASSWORD, HOST]) {
    expect(run.resources.flatMap((r) => plainOccurrences(r.wireInputs, needle, r.name))).toEqual([]);
    const outputs = Object.entries(run.outputs).filter(
      ([name, value]) => !run.secretOutputs.has(name) && JSON.stringify(value).includes(needle),
    );
    expect(outputs).toEqual([]);
  }
});

test("every node's Docker step gets it on stdin, as a secret: the URL without credentials, then the auth.conf entry", () => {
  const carriers = run.resources.filter((r) => JSON.stringify(r.inputs).includes(HOST));
  expect(carriers.map((r) => r.name).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `nodes-aws-${101 + i}-docker`).sort());
  for (const step of carriers) {
    expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
    expect(step.inputs.stdin).toBe(`https://${HOST}/ubuntu\nmachine ${HOST}/ubuntu login deploy password ${PASSWORD}\n`);
    expect(String(step.inputs.create)).not.toContain("UBUNTU_ARCHIVE_MIRROR");
  }
});

test("without a mirror the Docker step has no stdin at all", async () => {
  const plain = await runProgram({ stack: "dev", config: readStackConfig("dev") });
  expect(named(plain, "nodes-aws-101-docker").inputs.stdin).toBeUndefined();
}, 300_000);
