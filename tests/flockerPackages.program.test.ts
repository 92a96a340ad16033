/**
 * A flockerAptSource with credentials, set as a Pulumi secret, run through the whole program under
 * mocks (prod: packages mode): the password reaches the nodes only inside secret values (the
 * steps' stdin), never a command line, an environment assignment, user data or a stack output.
 */
import { isSecretWire, ProgramRun, runProgram } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import { named, plainOccurrences } from "./helpers/program";

const PASSWORD = "s3cr3t-Pa55";
const SOURCE = `deb [trusted=yes] https://deploy:${PASSWORD}@flocker-packages.invalid/ubuntu/18.04/amd64 /`;
const KEY = "swarm-flocker:flockerAptSource";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram({ stack: "prod", config: { ...readStackConfig("prod"), [KEY]: SOURCE }, secretKeys: [KEY] });
}, 300_000);

test("the password is in no resource input and no stack output outside a secret", () => {
  const inputs = run.resources.flatMap((r) => plainOccurrences(r.wireInputs, PASSWORD, r.name));
  expect(inputs).toEqual([]);
  const outputs = Object.entries(run.outputs).filter(
    ([name, value]) => !run.secretOutputs.has(name) && JSON.stringify(value).includes(PASSWORD),
  );
  expect(outputs).toEqual([]);
});

test("the package steps carry it on stdin, as a secret, split into the source line and an auth.conf entry", () => {
  const steps = ["nodes-aws-101-flocker-preflight", "flocker-aws-101-install"].map((name) => named(run, name));
  for (const step of steps) {
    expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
    expect(step.inputs.stdin).toBe(
      "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/18.04/amd64 /\n" +
        `machine flocker-packages.invalid/ubuntu/18.04/amd64 login deploy password ${PASSWORD}\n`,
    );
    expect(String(step.inputs.create)).toContain("FLOCKER_PACKAGE_SOURCE=apt");
    expect(String(step.inputs.create)).not.toContain("flocker-packages.invalid");
  }
});

test("every node's steps get it the same way (twenty nodes, forty steps)", () => {
  const withSource = run.resources.filter(
    (r) => typeof r.inputs.stdin === "string" && (r.inputs.stdin as string).includes(PASSWORD),
  );
  expect(withSource).toHaveLength(40);
  for (const step of withSource) expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
});
