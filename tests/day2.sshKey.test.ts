/**
 * Rotating the SSH key is a day-2 change (docs/operations.md, "Rotate the SSH key"): under mocks,
 * what raising `sshKeyGeneration` does to the plan — the key pair is replaced, no instance is, and
 * every node's first step installs the new key through the old one before anything logs in with
 * it — then the program's own ssh-key step, exactly as recorded (command, environment, stdin), run
 * against the ssh stub of tests/bats/stubs: generation 1, then 2, then 2 again.
 *
 * The replacement rule is the engine's: a changed input of a resource replaces it when the
 * provider says so (an EC2 key pair's public key cannot change: a new one is a new key pair),
 * except inputs its ignoreChanges names; a changed connection of a remote step is an update, which
 * re-runs its create.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { isSecretWire } from "../tools/plan/mockRuntime";
import { runIsolated } from "./helpers/isolatedRun";
import { maybeNamed, named, ofType, TYPES, waitsFor, waitsTransitivelyFor } from "./helpers/program";

const LOCAL_COMMAND = "command:local:Command";
const REPO_ROOT = path.resolve(__dirname, "..");
const STUB_DIR = path.join(REPO_ROOT, "tests", "bats", "stubs");
const NODES = Array.from({ length: 10 }, (_, i) => `aws-${101 + i}`);

let gen1: ProgramRun;
let gen2: ProgramRun;
let gen3: ProgramRun;

beforeAll(async () => {
  gen1 = await runIsolated("dev");
  gen2 = await runIsolated("dev", { sshKeyGeneration: "2" });
  gen3 = await runIsolated("dev", { sshKeyGeneration: "3" });
}, 120_000);

// ------------------------------------------------------------------------------------ helpers

const sshKeyStep = (run: ProgramRun, node: string) => named(run, `nodes-${node}-ssh-key`);
const environmentOf = (step: RecordedResource) => step.inputs.environment as Record<string, string>;
const publicIpOf = (run: ProgramRun, node: string) => (run.outputs.nodes as Record<string, { publicIp: string }>)[node].publicIp;

/** The OpenSSH private keys in a text, in order. */
function privateKeysIn(text: string): string[] {
  return text.match(/-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]*?-----END OPENSSH PRIVATE KEY-----\n/g) ?? [];
}

/** The private key a run's steps log in with (every remote step's connection carries it). */
function loginKeyOf(run: ProgramRun): string {
  return String((named(run, "nodes-aws-101-boot").inputs.connection as { privateKey: string }).privateKey);
}

/** Resources that log in to a node over SSH with pulumi-command. */
function remoteSteps(run: ProgramRun): RecordedResource[] {
  return [...ofType(run, TYPES.command), ...ofType(run, TYPES.copy)];
}

/** Names of the inputs that differ between two runs' versions of a resource. */
function changedInputs(before: RecordedResource, after: RecordedResource): string[] {
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  return [...keys].filter((key) => JSON.stringify(before.inputs[key]) !== JSON.stringify(after.inputs[key])).sort();
}

/** Resources of `after` whose inputs differ from `before`'s, or that are new, by name. */
function changedBetween(before: ProgramRun, after: ProgramRun): Map<string, string[]> {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const changed = new Map<string, string[]>();
  for (const resource of after.resources.filter((r) => r.custom)) {
    const previous = old.get(resource.urn);
    const keys = previous === undefined ? ["(new)"] : changedInputs(previous, resource);
    if (keys.length > 0) changed.set(resource.name, keys);
  }
  return changed;
}

const looksSecret = (text: string) => /PRIVATE KEY|mock-ED25519-key-/.test(text);

// ------------------------------------------------------------------------------------ names

describe("generation 1 is the stack as it was", () => {
  test("the key and the key pair keep their logical names; no other generation exists", () => {
    const keys = ofType(gen1, TYPES.privateKey).filter((k) => k.name.startsWith("nodes-ssh-key"));
    expect(keys.map((k) => k.name)).toEqual(["nodes-ssh-key"]);
    const keyPair = named(gen1, "nodes-key-pair");
    expect(keyPair.parent).toBe(named(gen1, "nodes-ssh-key").urn);
    expect(String(keyPair.inputs.publicKey)).toMatch(/^ssh-ed25519 \S+ nodes-ssh-key\n$/);
  });

  test("its ssh-key steps try generation 1 alone", () => {
    for (const node of NODES) {
      const step = sshKeyStep(gen1, node);
      expect(environmentOf(step)).toMatchObject({ KEY_GENERATION: "1", PREVIOUS_KEY_GENERATION: "" });
      expect(privateKeysIn(String(step.inputs.stdin))).toEqual([loginKeyOf(gen1)]);
    }
  });
});

// ------------------------------------------------------------------------------------ 1 -> 2

describe("rotation 1 -> 2 (pulumi config set sshKeyGeneration 2)", () => {
  test("no instance is replaced: the only input that may change (the key pair's name) is ignored", () => {
    for (const node of NODES) {
      const before = named(gen1, `nodes-${node}-instance`);
      const after = named(gen2, `nodes-${node}-instance`);
      expect(after.urn).toBe(before.urn);
      expect(changedInputs(before, after)).toEqual([]);
      expect(after.options.ignoreChanges).toContain("keyName");
      // a new key pair's name reaches the instance as an input: that is what is ignored
      expect(after.dependencies).toContain(named(gen2, "nodes-key-pair").urn);
    }
  });

  test("the key pair is replaced, under the same URN, by one that carries generation 2's public key", () => {
    const before = named(gen1, "nodes-key-pair");
    const after = named(gen2, "nodes-key-pair");
    expect(after.urn).toBe(before.urn);
    expect(changedInputs(before, after)).toEqual(["publicKey"]);
    expect(after.options.ignoreChanges).toEqual([]);
    expect(String(after.inputs.publicKey)).toMatch(/^ssh-ed25519 \S+ nodes-ssh-key-2\n$/);
    expect(after.parent).toBe(named(gen2, "nodes-ssh-key-2").urn);
    expect(environmentOf(sshKeyStep(gen2, "aws-105")).PUBLIC_KEY).toBe(after.inputs.publicKey);
  });

  test("generation 1's key stays (it opens the nodes for the rotation); generation 2's is new", () => {
    const keys = ofType(gen2, TYPES.privateKey).filter((k) => k.name.startsWith("nodes-ssh-key"));
    expect(keys.map((k) => k.name).sort()).toEqual(["nodes-ssh-key", "nodes-ssh-key-2"]);
    expect(named(gen2, "nodes-ssh-key").urn).toBe(named(gen1, "nodes-ssh-key").urn);
    for (const key of keys) expect(key.inputs.algorithm).toBe("ED25519");
  });

  test("every node gets an ssh-key step on the operator's machine: both private keys on secret stdin, current first", () => {
    const steps = ofType(gen2, LOCAL_COMMAND);
    expect(steps.map((s) => s.name).sort()).toEqual(NODES.map((n) => `nodes-${n}-ssh-key`).sort());
    const [current, previous] = [loginKeyOf(gen2), loginKeyOf(gen1)];
    expect(current).not.toBe(previous);
    for (const node of NODES) {
      const step = sshKeyStep(gen2, node);
      expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
      expect(privateKeysIn(String(step.inputs.stdin))).toEqual([current, previous]);
      expect(step.options.additionalSecretOutputs).toContain("stdin");
      expect(step.inputs.create).toBe("bash tools/ssh-key-rotate.sh");
      expect(environmentOf(step)).toEqual({
        NODE_NAME: node,
        SSH_HOST: publicIpOf(gen2, node),
        SSH_USER: "ubuntu",
        KEY_GENERATION: "2",
        PREVIOUS_KEY_GENERATION: "1",
        PUBLIC_KEY: named(gen2, "nodes-key-pair").inputs.publicKey,
        SCRIPT_DIGEST: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(step.inputs.addPreviousOutputInEnv).toBe(false);
      // a new instance runs it again; it waits for the instance and for the route to the internet
      expect(step.inputs.triggers).toEqual([(named(gen2, `nodes-${node}-scripts`).inputs.triggers as string[])[0]]);
      expect(step.dependencies).toContain(named(gen2, `nodes-${node}-instance`).urn);
      expect(waitsFor(gen2, `nodes-${node}-ssh-key`, "network-subnet-routes")).toBe(true);
    }
  });

  test("every remote step logs in with generation 2 and waits, directly or not, for the ssh-key step of the node it logs in to", () => {
    const nodeAt = new Map(NODES.map((node) => [publicIpOf(gen2, node), node]));
    const steps = remoteSteps(gen2);
    expect(steps.length).toBeGreaterThan(NODES.length * 4);
    for (const step of steps) {
      const connection = step.inputs.connection as { host: string; privateKey: string };
      expect({ step: step.name, key: connection.privateKey }).toEqual({ step: step.name, key: loginKeyOf(gen2) });
      const node = nodeAt.get(connection.host);
      expect({ step: step.name, node }).toEqual({ step: step.name, node: expect.stringMatching(/^aws-1\d\d$/) });
      expect({ step: step.name, waits: waitsTransitivelyFor(gen2, step.name, `nodes-${node}-ssh-key`) }).toEqual({
        step: step.name,
        waits: true,
      });
    }
  });

  test("what changes: the new key, the key pair, the ssh-key steps, and every remote step's connection (its create re-runs once); no trigger", () => {
    const changed = changedBetween(gen1, gen2);
    const remote = new Set(remoteSteps(gen2).map((s) => s.name));
    const expected = new Map<string, string[]>([
      ["nodes-ssh-key-2", ["(new)"]],
      ["nodes-key-pair", ["publicKey"]],
      ...NODES.map((node): [string, string[]] => [`nodes-${node}-ssh-key`, ["environment", "stdin"]]),
      ...[...remote].map((name): [string, string[]] => [name, ["connection"]]),
    ]);
    expect(Object.fromEntries(changed)).toEqual(Object.fromEntries(expected));
    // only the key inside the connection changes: same host, same dial settings
    for (const name of remote) {
      const before = named(gen1, name).inputs.connection as Record<string, unknown>;
      const after = named(gen2, name).inputs.connection as Record<string, unknown>;
      expect({ ...after, privateKey: "" }).toEqual({ ...before, privateKey: "" });
    }
  });

  test("the sshPrivateKey output is generation 2's, and secret (npm run ssh logs in with it)", () => {
    expect(gen2.outputs.sshPrivateKey).toBe(loginKeyOf(gen2));
    expect(gen2.secretOutputs.has("sshPrivateKey")).toBe(true);
    expect(gen1.outputs.sshPrivateKey).toBe(loginKeyOf(gen1));
  });
});

// ------------------------------------------------------------------------------------ 2 -> 3

describe("rotation 2 -> 3", () => {
  test("generation 1's key goes; 3 is current and 2 previous", () => {
    const keys = ofType(gen3, TYPES.privateKey).filter((k) => k.name.startsWith("nodes-ssh-key"));
    expect(keys.map((k) => k.name).sort()).toEqual(["nodes-ssh-key-2", "nodes-ssh-key-3"]);
    expect(maybeNamed(gen3, "nodes-ssh-key")).toBeUndefined();
    expect(named(gen3, "nodes-key-pair").urn).toBe(named(gen1, "nodes-key-pair").urn);
    expect(String(named(gen3, "nodes-key-pair").inputs.publicKey)).toMatch(/ nodes-ssh-key-3\n$/);
    for (const node of NODES) {
      const step = sshKeyStep(gen3, node);
      expect(environmentOf(step)).toMatchObject({ KEY_GENERATION: "3", PREVIOUS_KEY_GENERATION: "2" });
      expect(privateKeysIn(String(step.inputs.stdin))).toEqual([loginKeyOf(gen3), loginKeyOf(gen2)]);
    }
    for (const step of remoteSteps(gen3))
      expect((step.inputs.connection as { privateKey: string }).privateKey).toBe(loginKeyOf(gen3));
  });
});

// ------------------------------------------------------------------------------------ secrets

describe("private keys travel only as secrets, on stdin or in a connection", () => {
  test("no command line and no environment holds one, in any generation", () => {
    for (const run of [gen1, gen2, gen3]) {
      for (const step of [...ofType(run, TYPES.command), ...ofType(run, LOCAL_COMMAND)]) {
        for (const field of ["create", "update", "delete"]) {
          const text = step.inputs[field];
          if (typeof text === "string")
            expect({ step: step.name, field, secret: looksSecret(text) }).toMatchObject({ secret: false });
        }
        for (const [name, value] of Object.entries((step.inputs.environment as Record<string, string> | undefined) ?? {})) {
          expect({ step: step.name, name, secret: looksSecret(String(value)) }).toMatchObject({ secret: false });
        }
      }
      for (const step of ofType(run, LOCAL_COMMAND)) expect(isSecretWire(step.wireInputs.stdin)).toBe(true);
    }
  });

  test("the check recognises a key in a command line (it can fail)", () => {
    expect(looksSecret(`bash x.sh ${loginKeyOf(gen2)}`)).toBe(true);
    expect(looksSecret("bash tools/ssh-key-rotate.sh")).toBe(false);
  });
});

// ------------------------------------------------------------------------------------ as recorded

describe("the recorded ssh-key steps, run as pulumi-command runs them, against a stub node", () => {
  let dir: string;
  let state: string;
  let home: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-key-rotation-"));
    state = path.join(dir, "state");
    home = path.join(dir, "home");
    const bin = path.join(dir, "bin");
    for (const sub of [bin, path.join(state, "ssh"), path.join(state, "fail"), path.join(home, ".ssh"), path.join(dir, "tmp")]) {
      fs.mkdirSync(sub, { recursive: true });
    }
    for (const stub of ["ssh", "sleep"]) fs.symlinkSync(path.join(STUB_DIR, stub), path.join(bin, stub));
    for (const log of ["calls.log", "mutations.log", "invalid.log"]) fs.writeFileSync(path.join(state, log), "");
    fs.writeFileSync(path.join(state, "ssh", "home"), `${home}\n`);
    // Which public key each private key is: generation 1's and 2's, as the key pair carries them.
    const identity = (run: ProgramRun) => {
      const sum = crypto.createHash("sha256").update(loginKeyOf(run)).digest("hex");
      return `${sum} ${String(named(run, "nodes-key-pair").inputs.publicKey).trim()}\n`;
    };
    fs.writeFileSync(path.join(state, "ssh", "identities"), identity(gen1) + identity(gen2));
    // What EC2 and cloud-init leave on an instance launched with key pair 1.
    fs.writeFileSync(path.join(home, ".ssh", "authorized_keys"), String(named(gen1, "nodes-key-pair").inputs.publicKey), {
      mode: 0o600,
    });
    fs.chmodSync(path.join(home, ".ssh"), 0o700);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The step's create, with its environment and stdin, from the program's directory (local.Command's defaults). */
  function runStep(step: RecordedResource) {
    const result = spawnSync("/bin/sh", ["-c", String(step.inputs.create)], {
      cwd: REPO_ROOT,
      input: String(step.inputs.stdin),
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:/usr/local/bin:/usr/bin:/bin`,
        STUB_DIR,
        STUB_STATE: state,
        TMPDIR: path.join(dir, "tmp"),
        ...environmentOf(step),
      },
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  const authorizedKeys = () => fs.readFileSync(path.join(home, ".ssh", "authorized_keys"), "utf8");
  const publicBody = (run: ProgramRun) => String(named(run, "nodes-key-pair").inputs.publicKey).split(" ")[1];

  test("generation 1 (the first deployment), then 2 (the rotation), then 2 again (nothing to do)", () => {
    const first = runStep(sshKeyStep(gen1, "aws-105"));
    expect(first).toMatchObject({ status: 0, stderr: "" });
    expect(authorizedKeys()).toBe(`ssh-ed25519 ${publicBody(gen1)} swarm-flocker-generation-1\n`);

    const rotation = runStep(sshKeyStep(gen2, "aws-105"));
    expect(rotation).toMatchObject({ status: 0, stderr: "" });
    expect(rotation.stdout).toBe(
      "aws-105: authorized_keys: key added (logged in with generation 1)\n" +
        "aws-105: authorized_keys: now this key alone (every other key revoked) (generation 2)\n",
    );
    expect(authorizedKeys()).toBe(`ssh-ed25519 ${publicBody(gen2)} swarm-flocker-generation-2\n`);

    const again = runStep(sshKeyStep(gen2, "aws-105"));
    expect(again.stdout).toBe(
      "aws-105: authorized_keys: the key is already there (logged in with generation 2)\n" +
        "aws-105: authorized_keys: already this key alone (generation 2)\n",
    );
    expect(authorizedKeys()).toBe(`ssh-ed25519 ${publicBody(gen2)} swarm-flocker-generation-2\n`);

    // the stub saw the calls it expects, no key material on any command line, nothing left behind
    expect(fs.readFileSync(path.join(state, "invalid.log"), "utf8")).toBe("");
    const calls = fs.readFileSync(path.join(state, "calls.log"), "utf8");
    expect(calls.split("\n").filter((line) => line.startsWith("ssh "))).toHaveLength(7);
    expect(looksSecret(calls)).toBe(false);
    expect(calls).toContain(`-l ubuntu ${publicIpOf(gen2, "aws-105")} `);
    expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([]);
  });
});
