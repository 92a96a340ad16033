/**
 * The engine tier's nodes: real Docker Engines and sshd, each in network, mount and UTS
 * namespaces of its own, joined by a bridge in a "hub" namespace (docs/testing.md, "Engine tier").
 * The namespaces, mounts and daemons are made by harness/node.sh; this module drives it, runs the
 * image registry (images.ts) in the hub, and gives the tests a typed handle on the cluster.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "fs";
import { Address4 } from "ip-address";
import { tmpdir } from "os";
import * as path from "path";
import { ipv4HostAddress } from "../../lib/cidr";
import { buildEngineImages, REGISTRY_PORT, registryCommand } from "./images";

const HARNESS = path.join(__dirname, "harness", "node.sh");
/** Where the harness keeps each tag's files (node.sh's SFE_BASE). */
const SFE_BASE = "/tmp/sfe-engine";
/** Debian's docker.io client, the engine's own version (the host's PATH may have a newer one first). */
const DOCKER_CLI = "/usr/bin/docker";
/** How long bringing up one node may take (namespaces, sshd, dockerd answering). */
const NODE_UP_TIMEOUT_MS = 120_000;
// Generous: on the shared 2-core machine under load a process start alone can take seconds.
const DEFAULT_TIMEOUT_MS = 120_000;

export interface EngineNodeSpec {
  /** The node's hostname, e.g. aws-101. */
  readonly name: string;
  /** Its private address, e.g. 172.31.0.11. */
  readonly ip: string;
}

export interface EngineNode {
  readonly name: string;
  readonly ip: string;
  /** The node's network namespace (`ip netns exec <netns> …` reaches the node's address space). */
  readonly netns: string;
}

export interface CommandResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
}

export interface EngineCluster {
  readonly nodes: readonly EngineNode[];
  /** Where the operator side runs: `ip netns exec <hub> ssh …`. */
  readonly hubNetns: string;
  /** The hub's own address on the nodes' bridge (the image registry listens there). */
  readonly hubIp: string;
  node(name: string): EngineNode;
  /** The docker CLI against that node's daemon (Debian's 20.10 client), bounded. */
  docker(name: string, args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /** A shell command inside the node's namespaces as root (assertions: mounts, files …). */
  exec(name: string, command: string, opts?: RunOptions): Promise<CommandResult>;
  /** As EC2 replacing an instance: the old daemons gone, a fresh root, same name and address. */
  replace(name: string): Promise<void>;
  /** SIGSTOP the node's dockerd and containerd: a daemon that hangs rather than refuses. */
  freezeDocker(name: string): Promise<void>;
  thawDocker(name: string): Promise<void>;
  destroy(): Promise<void>;
}

export interface EngineClusterOptions {
  /** The login user the stack uses (components/nodes.ts: "ubuntu"). */
  readonly sshUser: string;
  /** The stack's own OpenSSH public key, authorised for sshUser on every node. */
  readonly authorizedKey: string;
  /** Prefix length of the nodes' subnet; 24 unless given. */
  readonly prefixLength?: number;
  /**
   * Serve the stand-in images (images.ts) from a registry in the hub, the nodes' registry mirror.
   * True unless given.
   */
  readonly images?: boolean;
}

/**
 * The tag every name of this run carries (sfe-<tag>-…). Cleanup removes everything of its tag, so
 * two runs on one machine (two worktrees, a developer and CI) must not share one: unless SFE_TAG
 * says otherwise it is derived from the repository's path, as tests/engine/run.sh derives it.
 */
export function engineTag(): string {
  const repo = path.resolve(__dirname, "..", "..");
  const tag = process.env.SFE_TAG ?? `w${createHash("sha256").update(repo).digest("hex").slice(0, 5)}`;
  if (!/^[a-z0-9]{1,6}$/.test(tag)) {
    throw new Error(`SFE_TAG '${tag}' must be 1 to 6 lower-case letters or digits`);
  }
  return tag;
}

/** Run a command, bounded: on timeout its whole process group is killed (status 124). */
export function runBounded(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid ?? 0), "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        stderr += `\n[engine] ${argv.slice(0, 6).join(" ")} … stopped after ${timeoutMs} ms`;
      }
      resolve({ status: timedOut ? 124 : (code ?? (signal ? 128 : 1)), stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

async function harness(args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  return runBounded(["bash", HARNESS, ...args], opts);
}

async function harnessOrThrow(args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const r = await harness(args, opts);
  if (r.status !== 0) {
    throw new Error(`engine harness '${args.slice(0, 3).join(" ")}' failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** The hub's address: the last usable host of the nodes' subnet, unless a node already has it. */
function hubAddress(specs: readonly EngineNodeSpec[], prefixLength: number): string {
  if (specs.length === 0) throw new Error("an engine cluster needs at least one node");
  const net = new Address4(`${specs[0].ip}/${prefixLength}`);
  const cidr = `${net.startAddress().address}/${prefixLength}`;
  for (const spec of specs) {
    if (!new Address4(spec.ip).isInSubnet(net)) {
      throw new Error(`node ${spec.name} (${spec.ip}) is not in ${cidr}, the subnet of ${specs[0].name}`);
    }
  }
  const size = 2 ** (32 - prefixLength);
  const used = new Set(specs.map((s) => s.ip));
  for (let host = size - 2; host > 0; host--) {
    const candidate = ipv4HostAddress(cidr, host);
    if (!used.has(candidate)) return candidate;
  }
  throw new Error(`no free address for the hub in ${cidr}`);
}

/** The image registry, in the hub namespace (cleanup kills it with every process of the hub). */
async function startRegistry(tag: string, hubNetns: string, hubIp: string): Promise<string> {
  const { dir } = buildEngineImages();
  const logFile = path.join(SFE_BASE, tag, "registry.log");
  const out = openSync(logFile, "a");
  const child = spawn("ip", ["netns", "exec", hubNetns, ...registryCommand(dir, hubIp)], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  closeSync(out);
  const address = `${hubIp}:${REGISTRY_PORT}`;
  for (let i = 0; i < 50; i++) {
    const r = await runBounded(["ip", "netns", "exec", hubNetns, "curl", "-fsS", "--max-time", "2", `http://${address}/v2/`], {
      timeoutMs: 5_000,
    });
    if (r.status === 0) return address;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`the image registry did not answer on ${address}: see ${logFile}`);
}

/** Remove everything a crashed run of this tag left: nodes, hub, mounts, cgroups, files. */
export async function cleanupLeftovers(): Promise<void> {
  await harnessOrThrow(["cleanup", engineTag()], { timeoutMs: 180_000 });
}

export async function startEngineCluster(specs: readonly EngineNodeSpec[], opts: EngineClusterOptions): Promise<EngineCluster> {
  const tag = engineTag();
  const prefixLength = opts.prefixLength ?? 24;
  const hubIp = hubAddress(specs, prefixLength);
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`node name ${s.name} given twice`);
    names.add(s.name);
  }
  const hubNetns = `sfe-${tag}-hub`;
  const keyDir = mkdtempSync(path.join(tmpdir(), "sfe-key-"));
  const keyFile = path.join(keyDir, "authorized_key.pub");
  writeFileSync(keyFile, `${opts.authorizedKey.trim()}\n`);

  const nodes: EngineNode[] = specs.map((s) => ({ name: s.name, ip: s.ip, netns: `sfe-${tag}-${s.name}` }));
  const byName = (name: string): EngineNode => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no engine node named ${name} (have ${nodes.map((x) => x.name).join(", ")})`);
    return n;
  };
  let registry: string | undefined;
  const nodeUp = (n: EngineNode) =>
    harnessOrThrow(["node-up", tag, n.name, n.ip, String(prefixLength), hubIp, opts.sshUser, keyFile, registry ?? ""], {
      timeoutMs: NODE_UP_TIMEOUT_MS,
    });

  try {
    await harnessOrThrow(["hub-up", tag, hubIp, String(prefixLength)]);
    if (opts.images ?? true) registry = await startRegistry(tag, hubNetns, hubIp);
    await Promise.all(nodes.map(nodeUp));
  } catch (e) {
    await harness(["cleanup", tag], { timeoutMs: 180_000 });
    rmSync(keyDir, { recursive: true, force: true });
    throw e;
  }

  const run = (name: string, argv: readonly string[], o?: RunOptions) => harness(["run", tag, byName(name).name, ...argv], o);

  return {
    nodes,
    hubNetns,
    hubIp,
    node: byName,
    docker: (name, args, o) => {
      const seconds = Math.ceil((o?.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000);
      // timeout inside the node as well: killing the harness alone would leave the CLI running.
      return run(name, ["timeout", "-k", "5", String(seconds), DOCKER_CLI, ...args], {
        input: o?.input,
        timeoutMs: (seconds + 10) * 1000,
      });
    },
    exec: (name, command, o) => harness(["exec", tag, byName(name).name, command], o),
    replace: async (name) => {
      const n = byName(name);
      await harnessOrThrow(["node-down", tag, n.name], { timeoutMs: 120_000 });
      await nodeUp(n);
    },
    freezeDocker: async (name) => {
      await harnessOrThrow(["signal", tag, byName(name).name, "STOP", "dockerd", "containerd"]);
    },
    thawDocker: async (name) => {
      await harnessOrThrow(["signal", tag, byName(name).name, "CONT", "dockerd", "containerd"]);
    },
    destroy: async () => {
      try {
        await harnessOrThrow(["cleanup", tag], { timeoutMs: 180_000 });
      } finally {
        rmSync(keyDir, { recursive: true, force: true });
      }
    },
  };
}
