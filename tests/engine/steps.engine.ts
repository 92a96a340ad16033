/**
 * The runner itself (steps.ts) against one real sshd in a namespace of its own: steps recorded as
 * the program records them (RecordedResource), run over real SSH and SFTP — command line, stdin,
 * environment, copies, Pulumi's order and parallelism, a failure stopping the schedule, the
 * bound of customTimeouts, deletes in reverse order, a dependency's real output in a stdin.
 */
import { execFileSync, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProgramRun, RecordedResource } from "../../tools/plan/mockRuntime";
import { MOCK_TOKEN_PREFIX } from "../../tools/plan/mockRuntime";
import { engineSteps, StepRunner, type StepOutcome } from "./steps";

const TAG = process.env.SFE_TAG ?? "t";
const NETNS = `sfe-${TAG}-runner`;
const ADDRESS = "127.0.0.1";
const PORT = 2222;
const HOST = "54.1.2.3"; // a connection host as the mock records it

let dir: string;
let sshd: ChildProcess;
let privateKey: string;
const log: string[] = [];

function sh(file: string, args: readonly string[]): string {
  return execFileSync(file, args, { encoding: "utf8" });
}

function resource(
  name: string,
  type: string,
  inputs: Record<string, unknown>,
  after: readonly string[] = [],
  extra: Partial<RecordedResource["options"]> = {},
): RecordedResource {
  return {
    urn: `urn:pulumi:test::p::${type}::${name}`,
    type,
    name,
    custom: true,
    inputs: { connection: { host: HOST, port: PORT, user: "root", privateKey, dialErrorLimit: 3, perDialTimeout: 5 }, ...inputs },
    wireInputs: {},
    dependencies: after.map(
      (n) => `urn:pulumi:test::p::${n.includes("copy") ? "command:remote:CopyToRemote" : "command:remote:Command"}::${n}`,
    ),
    options: {
      deleteBeforeReplace: false,
      additionalSecretOutputs: [],
      ignoreChanges: [],
      replaceOnChanges: [],
      retainOnDelete: false,
      protect: false,
      ...extra,
    },
  };
}

const remote = (name: string, inputs: Record<string, unknown>, after: readonly string[] = [], extra = {}) =>
  resource(name, "command:remote:Command", inputs, after, extra);

function runner(resources: RecordedResource[]): StepRunner {
  const run = { resources, outputs: {}, secretOutputs: new Set<string>(), elapsedMs: 0, placeholders: [] } as ProgramRun;
  return new StepRunner(engineSteps(run), {
    hubNetns: NETNS,
    addressOf: (host) => {
      if (host !== HOST) throw new Error(`unknown host ${host}`);
      return ADDRESS;
    },
    log: (line) => log.push(line),
  });
}

const remoteFile = (name: string) => path.join(dir, "remote", name);

function statusOf(outcomes: readonly StepOutcome[], step: string): number | null | undefined {
  return outcomes.find((o) => o.step === step)?.status;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), `sfe-${TAG}-runner-`));
  fs.mkdirSync(path.join(dir, "remote"));
  spawnSyncQuiet("ip", ["netns", "del", NETNS]);
  sh("ip", ["netns", "add", NETNS]);
  sh("ip", ["-n", NETNS, "link", "set", "lo", "up"]);
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
  sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path.join(dir, "user_key")]);
  privateKey = fs.readFileSync(path.join(dir, "user_key"), "utf8");
  fs.copyFileSync(path.join(dir, "user_key.pub"), path.join(dir, "authorized_keys"));
  fs.mkdirSync("/run/sshd", { recursive: true });
  fs.writeFileSync(
    path.join(dir, "sshd_config"),
    [
      `ListenAddress ${ADDRESS}:${PORT}`,
      `HostKey ${path.join(dir, "host_key")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AcceptEnv STEP_*",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  sshd = spawn("ip", ["netns", "exec", NETNS, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
    stdio: "ignore",
  });
  for (let i = 0; i < 50; i++) {
    if (spawnSyncQuiet("ip", ["netns", "exec", NETNS, "bash", "-c", `echo > /dev/tcp/${ADDRESS}/${PORT}`]) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("sshd did not start");
}, 30000);

afterAll(() => {
  sshd?.kill("SIGTERM");
  spawnSyncQuiet("ip", ["netns", "del", NETNS]);
  fs.rmSync(dir, { recursive: true, force: true });
});

function spawnSyncQuiet(file: string, args: readonly string[]): number {
  try {
    execFileSync(file, args, { stdio: "ignore" });
    return 0;
  } catch {
    return 1;
  }
}

test("a command runs over SSH with its exact line, its stdin and its environment (setenv), and its exit is reported", async () => {
  const r = runner([
    remote("writes", {
      create: `cat > ${remoteFile("stdin")}; printf '%s' "$STEP_GREETING" > ${remoteFile("env")}; echo done; exit 0`,
      stdin: "line one\nline two\n",
      environment: { STEP_GREETING: 'hello "there" $HOME' },
    }),
    remote("fails", { create: "echo about to fail >&2; exit 7" }),
  ]);
  const { outcomes } = await r.runPhase("create");
  expect(fs.readFileSync(remoteFile("stdin"), "utf8")).toBe("line one\nline two\n");
  expect(fs.readFileSync(remoteFile("env"), "utf8")).toBe('hello "there" $HOME');
  expect(statusOf(outcomes, "writes")).toBe(0);
  expect(statusOf(outcomes, "fails")).toBe(7);
  expect(log.join("\n")).toMatch(/\[engine\] create fails @ 127\.0\.0\.1: exit 7 in [\d.]+ s\n {4}! about to fail/);
  r.remove();
});

test("a copy puts the archive's directory under remotePath over SFTP, and again on a second run", async () => {
  const source = path.join(dir, "payload");
  fs.mkdirSync(path.join(source, "lib"), { recursive: true });
  fs.writeFileSync(path.join(source, "run.sh"), "echo run\n", { mode: 0o755 });
  fs.writeFileSync(path.join(source, "lib", "core.sh"), "core\n");
  const r = runner([
    resource("payload-copy", "command:remote:CopyToRemote", { source: { path: source }, remotePath: remoteFile("deploy") }),
    remote("uses", { create: `bash ${remoteFile("deploy/payload/run.sh")}` }, ["payload-copy"]),
  ]);
  for (const phase of ["create", "update"] as const) {
    const { outcomes } = await r.runPhase(phase);
    expect(outcomes.map((o) => [o.step, o.status])).toEqual([
      ["payload-copy", 0],
      ["uses", 0],
    ]);
    expect(outcomes[1].stdout).toBe("run\n");
  }
  expect(fs.readFileSync(remoteFile("deploy/payload/lib/core.sh"), "utf8")).toBe("core\n");
  expect(fs.statSync(remoteFile("deploy/payload/run.sh")).mode & 0o777).toBe(0o755);
  r.remove();
});

test("steps run in dependency order, independent ones at the same time; a failure stops the schedule", async () => {
  const mark = (name: string) => `touch ${remoteFile(name)}`;
  // Each of the two waits (bounded) for the other to have started: both succeed only side by side.
  const meet = (self: string, other: string) =>
    `test -e ${remoteFile("first")} && ${mark(self)} && for i in $(seq 300); do test -e ${remoteFile(other)} && exit 0; sleep 0.1; done; exit 9`;
  const r = runner([
    remote("first", { create: `sleep 1; ${mark("first")}` }),
    remote("left", { create: meet("left", "right") }, ["first"]),
    remote("right", { create: meet("right", "left") }, ["first"]),
    remote("broken", { create: "exit 3" }, ["left", "right"]),
    remote("never", { create: mark("never") }, ["broken"]),
  ]);
  const { outcomes, notStarted } = await r.runPhase("create");
  expect(Object.fromEntries(outcomes.map((o) => [o.step, o.status]))).toEqual({ first: 0, left: 0, right: 0, broken: 3 });
  expect([outcomes[0].step, outcomes[3].step]).toEqual(["first", "broken"]);
  expect(notStarted).toEqual(["never"]);
  expect(fs.existsSync(remoteFile("never"))).toBe(false);
  r.remove();
});

test("deletes run in reverse dependency order; a step without a delete is passed over", async () => {
  const order = remoteFile("delete-order");
  const r = runner([
    remote("base", { create: "true", delete: `echo base >> ${order}` }),
    remote("middle", { create: "true" }, ["base"]),
    remote("top", { create: "true", delete: `echo top >> ${order}` }, ["middle"]),
  ]);
  const { outcomes } = await r.runPhase("delete");
  expect(outcomes.map((o) => o.step)).toEqual(["top", "base"]);
  expect(fs.readFileSync(order, "utf8")).toBe("top\nbase\n");
  r.remove();
});

test("a step is stopped at its customTimeouts bound and reported so", async () => {
  const r = runner([remote("hangs", { create: "sleep 60" }, [], { customTimeouts: { create: "2s" } })]);
  const started = Date.now();
  const { outcomes } = await r.runPhase("create");
  expect(Date.now() - started).toBeLessThan(10000);
  expect(outcomes[0]).toMatchObject({ status: null, timedOut: true });
  expect(log.join("\n")).toMatch(/create hangs @ 127\.0\.0\.1: stopped at its bound \(customTimeouts\)/);
  r.remove();
});

test("a stdin carrying a join token's mock value gets the token step's real output; secret output is not logged", async () => {
  const mock = `${MOCK_TOKEN_PREFIX}-worker-token`;
  const r = runner([
    remote("token", { create: "echo SWMTKN-1-real-secret # env SWARM_ROLE=worker bash swarm-token.sh" }, [], {
      additionalSecretOutputs: ["stdout", "stderr"],
    }),
    remote("join", { create: `cat > ${remoteFile("token")}`, stdin: mock }, ["token"]),
  ]);
  await r.runPhase("create");
  expect(fs.readFileSync(remoteFile("token"), "utf8")).toBe("SWMTKN-1-real-secret");
  expect(log.join("\n")).not.toMatch(/SWMTKN-1-real-secret/);
  expect(log.join("\n")).toMatch(/create token @ 127\.0\.0\.1: exit 0 .*\n {4}\(output secret: 21 \+ 0 bytes\)/);
  r.remove();
});

test("a local step runs in the project with its environment, its host variable mapped to the node, and its stdin", async () => {
  const local = resource("key-step", "command:local:Command", {
    connection: undefined,
    create: `{ printf '%s\\n' "$SSH_HOST" "$NODE_NAME" "$PWD"; cat; } > ${remoteFile("local")}`,
    environment: { SSH_HOST: HOST, NODE_NAME: "aws-101" },
    stdin: "key material\n",
  });
  const run = { resources: [local], outputs: {}, secretOutputs: new Set<string>(), elapsedMs: 0, placeholders: [] } as ProgramRun;
  const r = new StepRunner(engineSteps(run), {
    hubNetns: NETNS,
    addressOf: (host) => (host === HOST ? ADDRESS : host),
    localHostVariables: ["SSH_HOST"],
    log: (line) => log.push(line),
  });
  const { outcomes } = await r.runPhase("create");
  expect(outcomes[0].status).toBe(0);
  expect(fs.readFileSync(remoteFile("local"), "utf8")).toBe(
    `${ADDRESS}\naws-101\n${path.resolve(__dirname, "..", "..")}\nkey material\n`,
  );
  r.remove();
});

test("a stdin whose dependency has not run here is refused, never sent with the mock's value", async () => {
  const mock = `${MOCK_TOKEN_PREFIX}-worker-token`;
  const r = runner([
    remote("token", { create: "echo real # env SWARM_ROLE=worker bash swarm-token.sh" }),
    remote("join", { create: `cat > ${remoteFile("never-joined")}`, stdin: mock }, ["token"]),
  ]);
  await expect(r.runPhase("create", new Set(["join"]))).rejects.toThrow(
    "join's stdin needs the real output of token, which has not run",
  );
  expect(fs.existsSync(remoteFile("never-joined"))).toBe(false);
  r.remove();
});
