/**
 * The engine tier's own proof of its nodes: five real Docker Engines in namespaces, reachable
 * over real SSH with the stack's kind of key, private to each other, a swarm formed by hand
 * across them, and replace / freeze / cleanup doing what the step proofs rely on.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { cleanupLeftovers, EngineCluster, engineTag, runBounded, startEngineCluster } from "./nodes";

const SPECS = [
  { name: "aws-101", ip: "172.31.0.11" },
  { name: "aws-102", ip: "172.31.0.12" },
  { name: "aws-103", ip: "172.31.0.13" },
  { name: "aws-104", ip: "172.31.0.14" },
  { name: "aws-105", ip: "172.31.0.15" },
];
const USER = "ubuntu";

let cluster: EngineCluster;
let keyDir: string;
let keyFile: string;

function ssh(node: string, command: string) {
  const ip = SPECS.find((s) => s.name === node)!.ip;
  return runBounded(
    [
      "ip",
      "netns",
      "exec",
      cluster.hubNetns,
      "ssh",
      "-i",
      keyFile,
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      "ConnectTimeout=5",
      `${USER}@${ip}`,
      command,
    ],
    { timeoutMs: 30_000 },
  );
}

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  await cleanupLeftovers();
  keyDir = mkdtempSync(path.join(tmpdir(), "sfe-test-key-"));
  keyFile = path.join(keyDir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile]);
  cluster = await startEngineCluster(SPECS, {
    sshUser: USER,
    authorizedKey: readFileSync(`${keyFile}.pub`, "utf8"),
  });
}, 300_000);

afterAll(async () => {
  await cluster?.destroy();
  rmSync(keyDir, { recursive: true, force: true });
}, 300_000);

test("every node answers over SSH with its own hostname and address, and runs Debian's Docker 20.10.24", async () => {
  for (const spec of SPECS) {
    expect(await ok(ssh(spec.name, "hostname"))).toBe(spec.name);
    expect(await ok(ssh(spec.name, "sudo -n ip -4 -o addr show eth0"))).toContain(`${spec.ip}/24`);
    expect(await ok(cluster.docker(spec.name, ["version", "--format", "{{.Server.Version}}"]))).toMatch(/^20\.10\.24/);
  }
});

test("a file written on one node is that node's alone, and the host does not see it", async () => {
  await ok(cluster.exec("aws-101", "mkdir -p /etc/flocker && echo one > /etc/flocker/probe"));
  expect(await ok(cluster.exec("aws-101", "cat /etc/flocker/probe"))).toBe("one");
  expect((await cluster.exec("aws-102", "test -e /etc/flocker/probe")).status).not.toBe(0);
  expect(() => readFileSync("/etc/flocker/probe")).toThrow();
});

test("the root namespace has no address or route in the nodes' subnet", async () => {
  const addrs = await ok(runBounded(["ip", "-4", "-o", "addr"]));
  const routes = await ok(runBounded(["ip", "-4", "route"]));
  expect(addrs).not.toMatch(/172\.31\.0\./);
  expect(routes).not.toMatch(/172\.31\.0\./);
});

test("the node's systemctl stand-in really restarts its dockerd", async () => {
  const before = await ok(cluster.exec("aws-103", "cat /var/run/docker.pid"));
  await ok(ssh("aws-103", "sudo -n systemctl restart docker && sudo -n systemctl is-active docker"));
  const after = await ok(cluster.exec("aws-103", "cat /var/run/docker.pid"));
  expect(after).not.toBe(before);
  expect(await ok(cluster.docker("aws-103", ["info", "--format", "{{.ServerVersion}}"]))).toMatch(/^20\.10/);
});

test("a swarm formed by hand spans the five nodes", async () => {
  await ok(
    cluster.docker("aws-101", ["swarm", "init", "--advertise-addr", "172.31.0.11", "--default-addr-pool", "10.20.0.0/16"]),
  );
  const managerToken = await ok(cluster.docker("aws-101", ["swarm", "join-token", "-q", "manager"]));
  const workerToken = await ok(cluster.docker("aws-101", ["swarm", "join-token", "-q", "worker"]));
  for (const [name, token] of [
    ["aws-102", managerToken],
    ["aws-103", managerToken],
    ["aws-104", workerToken],
    ["aws-105", workerToken],
  ]) {
    const ip = SPECS.find((s) => s.name === name)!.ip;
    await ok(cluster.docker(name, ["swarm", "join", "--advertise-addr", ip, "--token", token, "172.31.0.11:2377"]));
  }
  const nodes = await ok(cluster.docker("aws-102", ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]));
  expect(nodes.split("\n").sort()).toEqual(SPECS.map((s) => `${s.name} Ready`));
});

test("a frozen daemon hangs a bounded docker call; thawed, it answers again", async () => {
  await cluster.freezeDocker("aws-104");
  const hung = await cluster.docker("aws-104", ["info"], { timeoutMs: 3_000 });
  expect(hung.status).toBe(124);
  await cluster.thawDocker("aws-104");
  expect(await ok(cluster.docker("aws-104", ["info", "--format", "{{.Swarm.LocalNodeState}}"]))).toBe("active");
});

test("replace gives a node a fresh root and daemon under the same name and address", async () => {
  await ok(cluster.exec("aws-105", "echo old > /root/marker"));
  const oldPid = await ok(cluster.exec("aws-105", "cat /var/run/docker.pid"));
  await cluster.replace("aws-105");
  expect(await ok(ssh("aws-105", "hostname"))).toBe("aws-105");
  expect((await cluster.exec("aws-105", "test -e /root/marker")).status).not.toBe(0);
  expect(await ok(cluster.exec("aws-105", "cat /var/run/docker.pid"))).not.toBe(oldPid);
  expect(await ok(cluster.docker("aws-105", ["info", "--format", "{{.Swarm.LocalNodeState}}"]))).toBe("inactive");
  // The old instance is gone from the swarm's point of view: its entry goes Down.
  let status = "";
  for (let i = 0; i < 30 && status !== "Down"; i++) {
    status = await ok(cluster.docker("aws-101", ["node", "inspect", "aws-105", "--format", "{{.Status.State}}"]));
    status = status === "down" ? "Down" : status;
    if (status !== "Down") await new Promise((r) => setTimeout(r, 1000));
  }
  expect(status).toBe("Down");
});

test("destroy leaves no namespace, mount, cgroup or process of the tier", async () => {
  const tag = engineTag();
  await cluster.destroy();
  const netns = await ok(runBounded(["ip", "netns", "list"]));
  expect(netns.split("\n").filter((l) => l.startsWith(`sfe-${tag}-`))).toEqual([]);
  expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`/sfe-engine/${tag}`);
  const cgroups = await ok(runBounded(["bash", "-c", `ls -d /sys/fs/cgroup/*/sfe-${tag}-* 2>/dev/null || true`]));
  expect(cgroups).toBe("");
  const processes = await ok(runBounded(["bash", "-c", `grep -l 'sfe-${tag}-' /proc/[0-9]*/cgroup 2>/dev/null || true`]));
  expect(processes).toBe("");
});
