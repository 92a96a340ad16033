/**
 * The offline rehearsal: the remote steps a program run registered (tools/plan/mockRuntime.ts), run
 * for real with bash, in dependency order, against stubbed nodes (tests/bats/stubs). Each node
 * gets its own file-system root and stub state; the parts of Docker's state that belong to the
 * swarm (nodes, overlay networks, services, Flocker-backed volumes) and the Flocker control
 * service's state are shared, because they are one cluster seen from every node.
 *
 * CopyToRemote steps are not run: the scripts run in place from the repository's scripts/, and
 * each step is only checked to wait for the copy to its own node. Nor are the nodes' ssh-key steps
 * (`command:local:Command`, run on the operator's machine): the nodes here are directories, not SSH
 * hosts, and every remote step runs after its node's one; tests/day2.sshKey.test.ts runs one as
 * recorded against the ssh stub.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "shell-quote";
import { mockCommandStdout, type ProgramRun, type RecordedResource } from "../../tools/plan/mockRuntime";
import { nearestAncestors } from "./program";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const SCRIPTS_DIR = path.join(REPO_ROOT, "scripts");
const STUB_DIR = path.join(REPO_ROOT, "tests", "bats", "stubs");
const COMMAND = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";

/**
 * The stubs the bats suite puts on PATH (tests/bats/helpers.bash, STUBS), and the block-device
 * ones tests/bats/flocker-control-volume.bats adds for the control-state volume's step.
 */
const STUBS = [
  "docker",
  "apt-get",
  "apt-cache",
  "dpkg",
  "dpkg-deb",
  "systemctl",
  "cloud-init",
  "curl",
  "hostnamectl",
  "hostname",
  "iptables",
  "fuser",
  "ss",
  "timeout",
  "sleep",
  "chown",
  "blkid",
  "mkfs.ext4",
  "mount",
  "findmnt",
  "modprobe",
  "journalctl",
];

/** Docker state that is the swarm's (or the Flocker cluster's), not one host's: one copy for all nodes. */
const SHARED_DOCKER_STATE = ["nodes", "networks", "services"];

/** One script invocation as the node's shell would run it. */
export interface ScriptCall {
  /** Path under scripts/, e.g. swarm-join.sh. */
  readonly script: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface RemoteStep {
  readonly name: string;
  readonly urn: string;
  /** The node the step runs on: the connection's host. */
  readonly host: string;
  readonly create: ScriptCall;
  readonly delete?: ScriptCall;
  readonly stdin: string;
  /** The remote steps this one waits for, directly or through other resources. */
  readonly after: readonly string[];
  /** What the step prints under mocks; another step's stdin may carry it. */
  readonly mockStdout: string;
  /** The step waits, directly or not, for the copy of the scripts to its own node. */
  readonly afterScriptsCopy: boolean;
}

/** `sudo timeout … env K=V … bash /home/<user>/.swarm-flocker/scripts/X.sh ACTION` as a ScriptCall. */
function parseStepCommand(line: string): ScriptCall {
  const words = parse(line).map((token) => {
    if (typeof token !== "string") throw new Error(`unexpected shell operator in ${line}`);
    return token;
  });
  const envAt = words.indexOf("env");
  const bashAt = words.indexOf("bash", envAt);
  if (envAt < 0 || bashAt < 0) throw new Error(`not an env … bash script step: ${line}`);
  const env: Record<string, string> = {};
  for (const word of words.slice(envAt + 1, bashAt)) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(word);
    if (!match) throw new Error(`not an environment assignment: ${word} in ${line}`);
    env[match[1]] = match[2];
  }
  const scriptMatch = /\/scripts\/([\w./-]+\.sh)$/.exec(words[bashAt + 1] ?? "");
  if (!scriptMatch) throw new Error(`no script under scripts/ in ${line}`);
  return { script: scriptMatch[1], args: words.slice(bashAt + 2), env };
}

function connectionHost(resource: RecordedResource): string {
  const connection = resource.inputs.connection as { host?: unknown } | undefined;
  if (typeof connection?.host !== "string") throw new Error(`${resource.name} has no connection host`);
  return connection.host;
}

/** The run's remote command steps, each after every step it depends on (Kahn's order, ties by registration). */
export function remoteStepsInOrder(run: ProgramRun): RemoteStep[] {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const commands = run.resources.filter((r) => r.type === COMMAND);
  const commandAncestors = (resource: RecordedResource) => nearestAncestors(byUrn, resource, (d) => d?.type === COMMAND);
  /** True when a CopyToRemote to `host` is among the resource's dependencies, at any depth. */
  const waitsForCopyTo = (resource: RecordedResource, host: string): boolean => {
    const seen = new Set<string>();
    const stack = [...resource.dependencies];
    while (stack.length > 0) {
      const dependency = byUrn.get(stack.pop()!);
      if (dependency === undefined || seen.has(dependency.urn)) continue;
      seen.add(dependency.urn);
      if (dependency.type === COPY && connectionHost(dependency) === host) return true;
      stack.push(...dependency.dependencies);
    }
    return false;
  };
  const steps = commands.map((resource): RemoteStep => {
    const create = String(resource.inputs.create ?? "");
    const deleteLine = resource.inputs.delete;
    return {
      name: resource.name,
      urn: resource.urn,
      host: connectionHost(resource),
      create: parseStepCommand(create),
      delete: typeof deleteLine === "string" && deleteLine !== "" ? parseStepCommand(deleteLine) : undefined,
      stdin: typeof resource.inputs.stdin === "string" ? resource.inputs.stdin : "",
      after: commandAncestors(resource),
      mockStdout: mockCommandStdout(create),
      afterScriptsCopy: waitsForCopyTo(resource, connectionHost(resource)),
    };
  });
  const ordered: RemoteStep[] = [];
  const placed = new Set<string>();
  let pending = steps;
  while (pending.length > 0) {
    const ready = pending.filter((step) => step.after.every((urn) => placed.has(urn)));
    if (ready.length === 0) throw new Error(`dependency cycle among ${pending.map((s) => s.name).join(", ")}`);
    for (const step of ready) placed.add(step.urn);
    ordered.push(...ready);
    pending = pending.filter((step) => !placed.has(step.urn));
  }
  return ordered;
}

/** An EBS volume the run attaches to a node: the node's host and the device as the node sees it. */
export interface AttachedDevice {
  readonly host: string;
  /** The kernel's name: Xen shows /dev/sdX as /dev/xvdX (the instance types the stack allows). */
  readonly device: string;
}

/** The run's volume attachments, each on the node whose scripts copy carries its instance id. */
export function attachedDevices(run: ProgramRun): AttachedDevice[] {
  return run.resources
    .filter((r) => r.type === ATTACHMENT)
    .map((attachment) => {
      const copy = run.resources.find(
        (r) => r.type === COPY && (r.inputs.triggers as unknown[] | undefined)?.[0] === attachment.inputs.instanceId,
      );
      if (copy === undefined) throw new Error(`${attachment.name} attaches to an instance no node has`);
      return { host: connectionHost(copy), device: String(attachment.inputs.deviceName).replace(/^\/dev\/sd/, "/dev/xvd") };
    });
}

export interface StubNode {
  readonly host: string;
  readonly root: string;
  readonly state: string;
}

export interface StepResult {
  readonly step: string;
  readonly phase: "create" | "delete";
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the script, ms. */
  readonly ms: number;
  /** The state-changing calls the stubs saw on the step's node meanwhile (one step at a time per node). */
  readonly mutations: readonly string[];
}

/** A cluster of stubbed nodes in a temporary directory. */
export class StubCluster {
  readonly dir: string;
  readonly shared: string;
  private readonly bin: string;
  private readonly nodes = new Map<string, StubNode>();
  /** The address each node's dataset agent reports to the control service, by host. */
  private readonly flockerNodes = new Map<string, string>();
  /** Each executed step's real stdout, by step urn. */
  private readonly outputs = new Map<string, string>();

  /** `devices`: the volumes attached to the nodes (each a file at the device's path, see the blkid stub). */
  constructor(hosts: readonly string[], devices: readonly AttachedDevice[] = []) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "rehearsal-"));
    this.shared = path.join(this.dir, "cluster");
    this.bin = path.join(this.dir, "bin");
    fs.mkdirSync(this.bin);
    for (const stub of STUBS) fs.symlinkSync(path.join(STUB_DIR, stub), path.join(this.bin, stub));
    for (const part of SHARED_DOCKER_STATE) fs.mkdirSync(path.join(this.shared, "docker", part), { recursive: true });
    fs.mkdirSync(path.join(this.shared, "flocker"), { recursive: true });
    hosts.forEach((host, index) => this.nodes.set(host, this.makeNode(host, index)));
    for (const { host, device } of devices) {
      const file = path.join(this.node(host).root, device);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "");
    }
  }

  private makeNode(host: string, index: number): StubNode {
    const node = { host, root: path.join(this.dir, `node${index}`, "root"), state: path.join(this.dir, `node${index}`, "state") };
    fs.mkdirSync(path.join(node.root, "etc"), { recursive: true });
    fs.mkdirSync(path.join(node.state, "fail"), { recursive: true });
    fs.mkdirSync(path.join(node.state, "docker"), { recursive: true });
    for (const log of ["calls.log", "mutations.log", "invalid.log"]) fs.writeFileSync(path.join(node.state, log), "");
    for (const part of SHARED_DOCKER_STATE) {
      fs.symlinkSync(path.join(this.shared, "docker", part), path.join(node.state, "docker", part));
    }
    fs.symlinkSync(path.join(this.shared, "flocker"), path.join(node.state, "flocker"));
    // A join registers this host in the shared node list, as a swarm's managers see it.
    fs.writeFileSync(path.join(node.state, "docker", "join-registers"), "");
    return node;
  }

  node(host: string): StubNode {
    const node = this.nodes.get(host);
    if (node === undefined) throw new Error(`no stubbed node for ${host}`);
    return node;
  }

  allNodes(): StubNode[] {
    return [...this.nodes.values()];
  }

  /** Runs one phase of a step on its node; stdin carries the real output of the step it came from. */
  async run(step: RemoteStep, phase: "create" | "delete", steps: readonly RemoteStep[]): Promise<StepResult> {
    const call = phase === "create" ? step.create : step.delete;
    if (call === undefined) throw new Error(`${step.name} has no ${phase}`);
    const node = this.node(step.host);
    const mutationsLog = path.join(node.state, "mutations.log");
    const before = readLines(mutationsLog).length;
    const started = Date.now();
    const child = spawn("bash", [path.join(SCRIPTS_DIR, call.script), ...call.args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        PATH: `${this.bin}:${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: this.dir,
        LANG: "C.UTF-8",
        STUB_DIR,
        STUB_STATE: node.state,
        FS_ROOT: node.root,
        REAL_DOCKER: realDocker(),
        WAIT_INTERVAL: "1",
        WAIT_TIMEOUT: "5",
        RETRY_ATTEMPTS: "3",
        RETRY_DELAY: "2",
        ...(process.getuid?.() === 0 ? {} : { FILE_OWNER: `${process.getuid?.()}:${process.getgid?.()}` }),
        ...call.env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdin.end(this.realStdin(step, steps));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    if (phase === "create") this.outputs.set(step.urn, stdout);
    // Only this node's state changed, and no other step runs on it now.
    this.registerFlockerAgent(node);
    const ms = Date.now() - started;
    return { step: step.name, phase, status, stdout, stderr, ms, mutations: readLines(mutationsLog).slice(before) };
  }

  /**
   * Runs a phase of every step in the engine's order: each create once the steps it waits for are
   * done, each delete once the steps that wait for it are gone; steps on different nodes run at
   * the same time (up to `limit`), but one at a time per node, because a node's stub state (its
   * containers, images, packages) is plain files without locks. The shared Flocker state is
   * locked by the stubs themselves, and the swarm's is written only from the first manager.
   */
  async runAll(
    phase: "create" | "delete",
    steps: readonly RemoteStep[],
    skip: ReadonlySet<string>,
    limit = Math.max(2, os.cpus().length),
  ): Promise<StepResult[]> {
    const blockers = new Map<string, Set<string>>(steps.map((step) => [step.urn, new Set<string>()]));
    for (const step of steps) {
      for (const urn of step.after) {
        if (phase === "create") blockers.get(step.urn)?.add(urn);
        else blockers.get(urn)?.add(step.urn);
      }
    }
    const results: StepResult[] = [];
    const started = new Set<string>();
    const running = new Set<Promise<void>>();
    const busyHosts = new Set<string>();
    const finish = (urn: string) => {
      for (const waiting of blockers.values()) waiting.delete(urn);
    };
    while (started.size < steps.length) {
      const ready = steps.filter((step) => !started.has(step.urn) && blockers.get(step.urn)!.size === 0);
      for (const step of ready) {
        const runsHere = !skip.has(step.name) && (phase === "create" || step.delete !== undefined);
        if (!runsHere) {
          started.add(step.urn);
          finish(step.urn);
          continue;
        }
        if (running.size >= limit || busyHosts.has(step.host)) continue;
        started.add(step.urn);
        busyHosts.add(step.host);
        const task: Promise<void> = this.run(step, phase, steps).then((result) => {
          results.push(result);
          busyHosts.delete(step.host);
          finish(step.urn);
          running.delete(task);
        });
        running.add(task);
      }
      if (
        running.size === 0 &&
        started.size < steps.length &&
        !steps.some((s) => !started.has(s.urn) && blockers.get(s.urn)!.size === 0)
      ) {
        throw new Error("steps wait for each other in a cycle");
      }
      if (running.size > 0) await Promise.race(running);
    }
    await Promise.all(running);
    return results;
  }

  /**
   * What the stubs cannot do alone: a running dataset agent reports its node to the control
   * service, under the address the node's plugin is given (MY_NETWORK_IDENTITY), and becomes a
   * node of GET /v1/state/nodes; a removed agent stops reporting.
   */
  private registerFlockerAgent(node: StubNode): void {
    const containers = path.join(node.state, "docker", "containers");
    const agent = readContainer(path.join(containers, "flocker-dataset-agent.json"));
    const identity = entries(containers)
      .flatMap((file) => readContainer(path.join(containers, file))?.Config?.Env ?? [])
      .find((variable) => variable.startsWith("MY_NETWORK_IDENTITY="))
      ?.slice("MY_NETWORK_IDENTITY=".length);
    if (agent?.State?.Running === true && identity !== undefined) this.flockerNodes.set(node.host, identity);
    else this.flockerNodes.delete(node.host);
    const known = [...this.flockerNodes.values()].map((address) => ({ uuid: `uuid-${address}`, host: address }));
    // Written whole, then renamed: a script on another node may be reading it.
    const file = path.join(this.shared, "flocker", "nodes.json");
    fs.writeFileSync(`${file}.new`, JSON.stringify(known));
    fs.renameSync(`${file}.new`, file);
  }

  /** The recorded stdin, with any dependency's mock output replaced by what its script really printed. */
  private realStdin(step: RemoteStep, steps: readonly RemoteStep[]): string {
    let stdin = step.stdin;
    for (const urn of step.after) {
      const source = steps.find((s) => s.urn === urn);
      const real = this.outputs.get(urn);
      if (source === undefined || source.mockStdout === "" || real === undefined) continue;
      stdin = stdin.split(source.mockStdout).join(real.trim());
    }
    return stdin;
  }

  /** Calls the stubs or the real Docker CLI rejected, on any node. */
  invalidCalls(): string[] {
    return this.allNodes().flatMap((node) => readLines(path.join(node.state, "invalid.log")).map((l) => `${node.host}: ${l}`));
  }

  /**
   * What the cluster still holds, one line per thing: `<host>: swarm <state>` for a node still in
   * a swarm, `<host>: container|volume <name>`, `swarm: node|network|service <name>` and
   * `flocker: dataset <name>` for a dataset not deleted.
   */
  leftovers(): string[] {
    const perNode = this.allNodes().flatMap((node) => {
      const docker = path.join(node.state, "docker");
      const swarm = readLines(path.join(docker, "swarm"))[0] ?? "inactive";
      return [
        ...(swarm === "inactive" ? [] : [`${node.host}: swarm ${swarm}`]),
        ...entries(path.join(docker, "containers")).map((file) => `${node.host}: container ${file.replace(/\.json$/, "")}`),
        ...entries(path.join(docker, "volumes")).map((name) => `${node.host}: volume ${name}`),
      ];
    });
    const shared = path.join(this.shared, "docker");
    const services = new Set(entries(path.join(shared, "services")).map((file) => file.replace(/\.[a-z]+$/, "")));
    const datasetsFile = path.join(this.shared, "flocker", "config.json");
    const datasets = fs.existsSync(datasetsFile)
      ? (JSON.parse(fs.readFileSync(datasetsFile, "utf8")) as { deleted?: boolean; metadata?: { name?: string } }[])
      : [];
    return [
      ...perNode,
      ...entries(path.join(shared, "nodes")).map((id) => `swarm: node ${id}`),
      ...entries(path.join(shared, "networks")).map((file) => `swarm: network ${file.replace(/\.json$/, "")}`),
      ...[...services].map((name) => `swarm: service ${name}`),
      ...datasets.filter((d) => d.deleted !== true).map((d) => `flocker: dataset ${d.metadata?.name ?? "?"}`),
    ];
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

interface ContainerJson {
  readonly State?: { readonly Running?: boolean };
  readonly Config?: { readonly Env?: readonly string[] };
}

/** The docker stub's `docker inspect` of a container, or undefined when there is none. */
function readContainer(file: string): ContainerJson | undefined {
  return file.endsWith(".json") && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ContainerJson) : undefined;
}

function readLines(file: string): string[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line !== "")
    : [];
}

/** The real Docker CLI that validates the docker stub's mutating calls (as in tests/bats/helpers.bash). */
function realDocker(): string {
  if (process.env.REAL_DOCKER) return process.env.REAL_DOCKER;
  const found = spawnSync("bash", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim();
  return found.startsWith(STUB_DIR) ? "" : found;
}

/** What the stubs need from the host: the real Docker CLI (argument checks) and jq. */
export function missingTools(): string[] {
  const jq = spawnSync("bash", ["-c", "command -v jq"], { encoding: "utf8" }).stdout.trim();
  return [...(realDocker() === "" ? ["the Docker CLI"] : []), ...(jq === "" ? ["jq"] : [])];
}

/** Names of the entries of a directory (empty when it does not exist). */
function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}
