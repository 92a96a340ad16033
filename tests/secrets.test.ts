/**
 * The secrets audit: every value the program sends that holds key material, a join token or the
 * Flocker AWS secret must travel as a Pulumi secret — in every resource input and every stack
 * output — and must never appear in a command line, where a failing step would print it.
 */
import { isSecretWire, MOCK_AWS_SECRET_PREFIX, MOCK_TOKEN_PREFIX, ProgramRun } from "../tools/plan/mockRuntime";
import { ofType, TYPES } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

/** What secret material looks like in this program's (mocked) values. */
const SECRET_PATTERNS = [/PRIVATE KEY-----/, new RegExp(MOCK_TOKEN_PREFIX), new RegExp(MOCK_AWS_SECRET_PREFIX)];
const looksSecret = (text: string) => SECRET_PATTERNS.some((pattern) => pattern.test(text));

/** Paths of plain (non-secret) strings that hold secret material. */
function plainSecrets(value: unknown, path = "$"): string[] {
  if (isSecretWire(value)) return [];
  if (typeof value === "string") return looksSecret(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainSecrets(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => plainSecrets(v, `${path}.${k}`));
  }
  return [];
}

let run: ProgramRun;
beforeAll(async () => {
  run = await runIsolated("dev");
});

test("the audit recognises a leak (it can fail)", () => {
  expect(plainSecrets({ a: ["x", "-----BEGIN RSA PRIVATE KEY-----\n…"] })).toEqual(["$.a[1]"]);
  expect(plainSecrets({ stdin: `${MOCK_TOKEN_PREFIX}-worker-token` })).toEqual(["$.stdin"]);
  expect(
    plainSecrets({
      wrapped: {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value: "-----BEGIN RSA PRIVATE KEY-----",
      },
    }),
  ).toEqual([]);
});

test("the program sends secret material somewhere (the audit has something to check)", () => {
  const carriers = run.resources.filter((r) => JSON.stringify(r.inputs).match(/PRIVATE KEY-----|SWMTKN-1-mock|mock-aws-secret-/));
  expect(carriers.map((r) => r.type)).toEqual(expect.arrayContaining([TYPES.command, TYPES.copy, TYPES.locallySigned]));
});

test("no resource input holds secret material in plain text", () => {
  const leaks = run.resources.flatMap((r) => plainSecrets(r.wireInputs).map((path) => `${r.name} ${path}`));
  expect(leaks).toEqual([]);
});

test("no command line carries a secret (failure messages print the whole command)", () => {
  for (const step of ofType(run, TYPES.command)) {
    for (const field of ["create", "delete", "update"]) {
      const text = step.inputs[field];
      if (typeof text === "string") expect(looksSecret(text)).toBe(false);
    }
  }
});

test("user data holds nothing secret", () => {
  for (const instance of ofType(run, TYPES.instance)) {
    expect(looksSecret(String(instance.inputs.userData))).toBe(false);
    expect(String(instance.inputs.userData)).not.toMatch(/AKIA|secret|token|BEGIN/i);
  }
});

test("every stack output that holds secret material is secret", () => {
  const leaking = Object.entries(run.outputs)
    .filter(([, value]) => looksSecret(JSON.stringify(value)))
    .map(([key]) => key);
  expect(leaking.sort()).toEqual(["flockerClientKey", "sshPrivateKey", "swarmManagerJoinToken", "swarmWorkerJoinToken"]);
  for (const key of leaking) expect(run.secretOutputs.has(key)).toBe(true);
});

test("steps that print secrets do not log them and keep stdout secret", () => {
  const printing = ofType(run, TYPES.command).filter((c) => String(c.inputs.create).includes("swarm-token.sh"));
  expect(printing).toHaveLength(2);
  for (const step of printing) {
    expect(step.inputs.logging).toBe("none");
    expect(step.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
  }
});

test("the Flocker access secret reaches the nodes only inside agent.yml on stdin", () => {
  const carriers = run.resources.filter((r) => JSON.stringify(r.inputs).includes(MOCK_AWS_SECRET_PREFIX));
  expect(carriers.every((r) => r.type === TYPES.command && r.name.endsWith("-files"))).toBe(true);
  expect(carriers).toHaveLength(10);
  for (const step of carriers) expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
});
