/**
 * The engine tier's own proof of its nodes: five real Docker Engines in namespaces, reachable
 * over real SSH with the stack's kind of key, private to each other, a swarm formed by hand
 * across them, and replace / freeze / cleanup doing what the step proofs rely on.
 */
import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { renderAgentYml } from "../../lib/agentYml";
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT } from "../../lib/ports";
import { FLOCKER_PLUGIN_SOCKET } from "../../lib/remotePaths";
import { engineImages } from "./images";
import { cleanupLeftovers, EngineCluster, engineTag, runBounded, startEngineCluster } from "./nodes";
import { makeTestPki } from "./testPki";
import { createNvmeVolume, detachVolumes, nvmeByIdPath, presentNvmeVolume, withdrawNvmeVolume, type NvmeVolume } from "./volumes";

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
      "ConnectTimeout=10",
      `${USER}@${ip}`,
      command,
    ],
    { timeoutMs: 30_000 },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll FN every second until it returns true, at most SECONDS; returns whether it did. */
async function eventually(seconds: number, fn: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < seconds; i++) {
    if (await fn()) return true;
    await sleep(1000);
  }
  return fn();
}

/**
 * The repository's scripts/ at /root/sfe/scripts and FILES (name -> content, mode 0600) in
 * /etc/flocker of NODE, in one call: each call into a node costs a process start on a busy host.
 */
async function installOnNode(node: string, files: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sfe-files-"));
  try {
    mkdirSync(path.join(dir, "flocker"), { mode: 0o700 });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, "flocker", name), content, { mode: 0o600 });
    execFileSync("cp", ["-r", path.join(__dirname, "..", "..", "scripts"), path.join(dir, "scripts")]);
    const tgz = execFileSync("tar", ["-cz", "-C", dir, "scripts", "flocker"]).toString("base64");
    await ok(
      cluster.exec(
        node,
        "rm -rf /root/sfe && mkdir -p /root/sfe && base64 -d | tar -xz -C /root/sfe && cp -a /root/sfe/flocker /etc/ && chown -R 0:0 /etc/flocker && chmod 700 /etc/flocker",
        { input: tgz },
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ok(p: Promise<{ status: number; stdout: string; stderr: string }>): Promise<string> {
  const r = await p;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  await cleanupLeftovers();
  detachVolumes(engineTag());
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
  detachVolumes(engineTag());
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

test("every node pulls the stand-in images from the hub's registry, by tag and by digest", async () => {
  const images = engineImages();
  await Promise.all(
    SPECS.map(async (spec) => {
      for (const repository of Object.keys(images)) {
        await ok(cluster.docker(spec.name, ["pull", "-q", `${repository}:${images[repository].tag}`], { timeoutMs: 180_000 }));
      }
    }),
  );
  const plugin = images["clusterhq/flocker-docker-plugin"];
  // aws-102 runs no Flocker here: its copy by tag can go.
  await ok(cluster.docker("aws-102", ["image", "rm", "clusterhq/flocker-docker-plugin:latest"]));
  await ok(cluster.docker("aws-102", ["pull", `clusterhq/flocker-docker-plugin@${plugin.digest}`]));
  expect(
    await ok(
      cluster.docker("aws-101", [
        "image",
        "inspect",
        "--format",
        "{{json .RepoDigests}}",
        `clusterhq/flocker-docker-plugin@${plugin.digest}`,
      ]),
    ),
  ).toContain(plugin.digest);
  const missing = await cluster.docker("aws-101", ["pull", "clusterhq/flocker-docker-plugin:no-such-tag"]);
  expect(missing.status).not.toBe(0);
}, 600_000);

/** SparkPi from aws-101, as scripts/spark-smoke.sh runs it. */
function sparkPi(timeoutMs: number) {
  const args = ["run", "--rm", "--network", "spark", "-e", "MASTER=spark://tasks.spark-master:7077"];
  return cluster.docker("aws-101", [...args, "fsoppelsa/spark-worker", "/spark/bin/run-example", "SparkPi", "10"], { timeoutMs });
}

test("a Spark worker registers with the master across the overlay, and SparkPi gets its answer through them", async () => {
  await ok(cluster.docker("aws-101", ["node", "update", "--label-add", "type=sparkmaster", "aws-105"]));
  await ok(
    cluster.docker("aws-101", ["network", "create", "--driver", "overlay", "--attachable", "--subnet", "10.0.0.0/24", "spark"]),
  );
  // As components/spark.ts creates them (through scripts/swarm-service.sh in the stack).
  const service = (name: string, constraint: string, env: string[], image: string) =>
    ok(
      cluster.docker("aws-101", [
        "service",
        "create",
        "--detach",
        "--name",
        name,
        "--network",
        "spark",
        "--constraint",
        constraint,
        ...env.flatMap((e) => ["--env", e]),
        image,
      ]),
    );
  await service("spark-master", "node.labels.type == sparkmaster", ["SPARK_MASTER_IP=0.0.0.0"], "fsoppelsa/spark-master");
  await service(
    "spark-worker",
    "node.labels.type != sparkmaster",
    ["SPARK_MASTER_IP=tasks.spark-master", "SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=1g"],
    "fsoppelsa/spark-worker",
  );
  const logs = async (service: string) => {
    const r = await cluster.docker("aws-101", ["service", "logs", "--raw", service]);
    return r.stdout + r.stderr;
  };
  expect(await eventually(90, async () => (await logs("spark-master")).includes("Registering worker"))).toBe(true);
  expect(await logs("spark-worker")).toContain("Successfully registered with master");
  const pi = await ok(sparkPi(120_000));
  expect(pi).toMatch(/Pi is roughly 3\.1\d*/);
  expect(await logs("spark-worker")).toMatch(/Running task \d+/);
}, 300_000);

test("with no worker registered, SparkPi prints no result", async () => {
  await ok(cluster.docker("aws-101", ["service", "scale", "--detach", "spark-worker=0"]));
  const logs = async () => (await cluster.docker("aws-101", ["service", "logs", "--raw", "spark-master"])).stdout;
  expect(await eventually(60, async () => (await logs()).includes("Removing worker"))).toBe(true);
  const r = await sparkPi(15_000);
  expect(r.status).not.toBe(0);
  expect(r.stdout).not.toContain("Pi is roughly");
}, 120_000);

// ---------------------------------------------------------------------------------------------
// The current platform's node scripts: the Spark dataset on an EBS volume (spark-data.sh), found
// by its NVMe serial, and apache/spark's way of starting the master and workers (swarm-service.sh
// with args, spark-smoke.sh with SPARK_HOME_IN_IMAGE). aws-103 holds the volume first, aws-102
// after the "replacement".

const DATA_VOLUME_ID = "vol-0e5a1c0ffee5a1c00";
const DATA_ENV = `VOLUME_ID=${DATA_VOLUME_ID} MOUNT_POINT=/srv/spark-data VOLUME_NAME=spark DATA_UID=185 WAIT_INTERVAL=1 WAIT_TIMEOUT=30`;
const sparkData = (node: string, action: "create" | "release") =>
  cluster.exec(node, `env ${DATA_ENV} bash /root/sfe/scripts/spark-data.sh ${action}`, { timeoutMs: 120_000 });
let dataVolume: NvmeVolume;
let dataUuid = "";

test("current: spark-data.sh finds the volume by its NVMe serial, formats it once, mounts it by UUID and binds the spark volume; uid 185 writes to /data", async () => {
  await Promise.all(["aws-101", "aws-102", "aws-103"].map((node) => installOnNode(node, {})));
  dataVolume = createNvmeVolume(engineTag(), DATA_VOLUME_ID);
  await presentNvmeVolume(cluster, "aws-103", dataVolume);
  const first = await ok(sparkData("aws-103", "create"));
  const m = /^spark-data: vol-0e5a1c0ffee5a1c00 \/dev\/nvme1n1 UUID=([0-9a-f-]{36}) at \/srv\/spark-data$/.exec(
    first.split("\n").pop()!,
  );
  expect(m).not.toBeNull();
  dataUuid = m![1];
  // One call for what the node shows (each call into a node costs a process start on a busy host):
  // the device's file system, the fstab line, and the UUID of what is mounted.
  const shown = `blkid -p -o value -s TYPE ${nvmeByIdPath(DATA_VOLUME_ID)}; grep /srv/spark-data /etc/fstab; blkid -p -o value -s UUID $(findmnt -n -o SOURCE --mountpoint /srv/spark-data)`;
  expect((await ok(cluster.exec("aws-103", shown))).split("\n")).toEqual([
    "ext4",
    `UUID=${dataUuid} /srv/spark-data ext4 defaults,nofail 0 2`,
    dataUuid,
  ]);
  expect(
    JSON.parse(await ok(cluster.docker("aws-103", ["volume", "inspect", "--format", "{{json .Options}}", "spark"]))),
  ).toEqual({
    type: "none",
    o: "bind",
    device: "/srv/spark-data/data",
  });
  await ok(
    cluster.docker("aws-103", [
      "run",
      "--rm",
      "--user",
      "185:185",
      "-v",
      "spark:/data",
      "busybox",
      "sh",
      "-c",
      "echo written-on-aws-103 > /data/f",
    ]),
  );
  expect(await ok(cluster.exec("aws-103", "cat /srv/spark-data/data/f"))).toBe("written-on-aws-103");
  // A second run: the same answer, no format (the UUID stays), nothing else changed.
  expect((await ok(sparkData("aws-103", "create"))).split("\n").pop()).toBe(first.split("\n").pop());
}, 300_000);

test("current: released on the old node, the same volume on another node is mounted as it is: no format, the data there", async () => {
  expect(dataUuid).not.toBe("");
  await ok(sparkData("aws-103", "release"));
  // No volume, no mount, no fstab line left on the old node.
  const left = await cluster.exec(
    "aws-103",
    "docker volume inspect spark >/dev/null 2>&1 && echo volume; findmnt --mountpoint /srv/spark-data >/dev/null && echo mount; grep /srv/spark-data /etc/fstab; true",
  );
  expect(left).toMatchObject({ status: 0, stdout: "" });
  await withdrawNvmeVolume(cluster, "aws-103", dataVolume);
  await presentNvmeVolume(cluster, "aws-102", dataVolume);
  const out = await ok(sparkData("aws-102", "create"));
  expect(out.split("\n").pop()).toBe(`spark-data: ${DATA_VOLUME_ID} /dev/nvme1n1 UUID=${dataUuid} at /srv/spark-data`);
  expect(await ok(cluster.exec("aws-102", "cat /srv/spark-data/data/f"))).toBe("written-on-aws-103");
}, 300_000);

test("current: Spark started as apache/spark is (entrypoint, spark-class args), the master on the bound volume; SparkPi through spark-smoke.sh", async () => {
  const spark = engineImages()["apache/spark"];
  const image = `apache/spark@${spark.digest}`;
  const env = "WAIT_INTERVAL=1 WAIT_TIMEOUT=120";
  const serviceStep = (name: string, action: "create" | "delete", spec?: object) =>
    ok(
      cluster.exec(
        "aws-101",
        `env ${env} SERVICE_NAME=${name} SERVICE_SPEC="$(cat)" bash /root/sfe/scripts/swarm-service.sh ${action}`,
        { input: JSON.stringify(spec ?? {}), timeoutMs: 180_000 },
      ),
    );
  // The book's services go as its destroy removes them; the label moves to the volume's node.
  await serviceStep("spark-worker", "delete");
  await serviceStep("spark-master", "delete");
  await ok(cluster.docker("aws-101", ["node", "update", "--label-rm", "type", "aws-105"]));
  await ok(cluster.docker("aws-101", ["node", "update", "--label-add", "type=sparkmaster", "aws-102"]));
  await serviceStep("spark-master", "create", {
    image,
    replicas: 1,
    network: "spark",
    constraints: ["node.labels.type == sparkmaster"],
    env: ["SPARK_MASTER_HOST=0.0.0.0"],
    mounts: ["type=volume,target=/data,source=spark"],
    args: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.master.Master"],
  });
  await serviceStep("spark-worker", "create", {
    image,
    replicas: 1,
    network: "spark",
    constraints: ["node.labels.type != sparkmaster"],
    env: ["SPARK_WORKER_CORES=1", "SPARK_WORKER_MEMORY=1g"],
    args: ["/opt/spark/bin/spark-class", "org.apache.spark.deploy.worker.Worker", "spark://tasks.spark-master:7077"],
  });
  const logs = async (service: string) => {
    const r = await cluster.docker("aws-101", ["service", "logs", "--raw", service]);
    return r.stdout + r.stderr;
  };
  expect(await eventually(90, async () => (await logs("spark-master")).includes("Registering worker"))).toBe(true);
  // The master's container runs as the spark user (uid 185) and has the volume's data at /data.
  const master = await ok(
    cluster.docker("aws-102", ["ps", "-q", "--filter", "label=com.docker.swarm.service.name=spark-master"]),
  );
  expect(
    await ok(cluster.docker("aws-102", ["exec", master, "sh", "-c", "id -u && cat /data/f && echo from-master > /data/g"])),
  ).toBe("185\nwritten-on-aws-103");
  expect(await ok(cluster.exec("aws-102", "cat /srv/spark-data/data/g"))).toBe("from-master");
  const smoke = await ok(
    cluster.exec(
      "aws-101",
      `env RETRY_DELAY=2 WAIT_TIMEOUT=120 IMAGE=${image} NETWORK_NAME=spark MASTER_URL=spark://tasks.spark-master:7077 SPARK_HOME_IN_IMAGE=/opt/spark bash /root/sfe/scripts/spark-smoke.sh`,
      { timeoutMs: 180_000 },
    ),
  );
  expect(smoke).toMatch(/^Pi is roughly 3\.1\d*$/);
  expect(await logs("spark-worker")).toMatch(/Running task \d+/);
}, 420_000);

function strangerTar(stranger: { crt: string; key: string }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sfe-stranger-"));
  try {
    writeFileSync(path.join(dir, "stranger.crt"), stranger.crt);
    writeFileSync(path.join(dir, "stranger.key"), stranger.key, { mode: 0o600 });
    return execFileSync("tar", ["-cz", "-C", dir, "stranger.crt", "stranger.key"]).toString("base64");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FLOCKER_NODES = ["aws-101", "aws-104", "aws-105"];
const CONTROL = { name: "aws-104", ip: "172.31.0.14" };
let datasetId = "";

test("Flocker's stand-ins, started by the stack's own script: a volume created on one node is the cluster's, its data follows it", async () => {
  const pki = makeTestPki(
    FLOCKER_NODES,
    CONTROL.name,
    CONTROL.ip,
    renderAgentYml({
      controlHost: CONTROL.ip,
      region: "us-east-1",
      zone: "us-east-1a",
      accessKeyId: "AKIAENGINETIER",
      secretAccessKey: "not-a-secret",
    }),
  );
  const env = `FLOCKER_ETC=/etc/flocker FLOCKER_API_PORT=${FLOCKER_API_PORT} FLOCKER_AGENT_PORT=${FLOCKER_AGENT_PORT} PLUGIN_SOCKET=${FLOCKER_PLUGIN_SOCKET} WAIT_INTERVAL=1 WAIT_TIMEOUT=90`;
  await Promise.all(FLOCKER_NODES.map((node) => installOnNode(node, pki.filesFor(node))));
  await ok(
    cluster.exec(
      CONTROL.name,
      `mkdir -p /var/lib/flocker-control/state && env ${env} CONTROL_IMAGE=clusterhq/flocker-control-service CONTROL_STATE_DIR=/var/lib/flocker-control/state bash /root/sfe/scripts/flocker-containers.sh control`,
      { timeoutMs: 180_000 },
    ),
  );
  for (const node of FLOCKER_NODES) {
    const ip = SPECS.find((s) => s.name === node)!.ip;
    await ok(
      cluster.exec(
        node,
        `env ${env} DATASET_AGENT_IMAGE=clusterhq/flocker-dataset-agent CONTAINER_AGENT_IMAGE=clusterhq/flocker-container-agent PLUGIN_IMAGE=clusterhq/flocker-docker-plugin FLOCKER_CONTROL_HOST=${CONTROL.ip} NODE_ADDRESS=${ip} bash /root/sfe/scripts/flocker-containers.sh agents`,
        { timeoutMs: 180_000 },
      ),
    );
  }
  await ok(
    cluster.docker("aws-105", ["volume", "create", "-d", "flocker", "-o", "size=1G", "-o", "profile=silver", "--name", "probe"]),
  );
  expect(await ok(cluster.docker("aws-101", ["volume", "ls", "--filter", "driver=flocker", "--format", "{{.Name}}"]))).toBe(
    "probe",
  );
  await ok(
    cluster.docker("aws-105", ["run", "--rm", "-v", "probe:/data", "busybox", "sh", "-c", "echo written-on-aws-105 > /data/f"], {
      timeoutMs: 180_000,
    }),
  );
  const api = (cert: string, key: string) =>
    `curl -sS --fail --max-time 10 --cacert /etc/flocker/cluster.crt --cert ${cert} --key ${key} --resolve control-service:${FLOCKER_API_PORT}:${CONTROL.ip} https://control-service:${FLOCKER_API_PORT}/v1/configuration/datasets`;
  const datasets = JSON.parse(await ok(cluster.exec("aws-101", api("/etc/flocker/plugin.crt", "/etc/flocker/plugin.key")))) as {
    dataset_id: string;
    maximum_size: number;
    metadata: Record<string, string>;
  }[];
  expect(datasets).toHaveLength(1);
  expect(datasets[0].metadata).toEqual({ name: "probe", "clusterhq:flocker:profile": "silver" });
  expect(datasets[0].maximum_size).toBe(1024 ** 3);
  datasetId = datasets[0].dataset_id;
  // A client whose certificate the cluster's CA did not sign is refused.
  await ok(cluster.exec("aws-101", "umask 077 && base64 -d | tar -xz -C /tmp", { input: strangerTar(pki.stranger) }));
  expect((await cluster.exec("aws-101", api("/tmp/stranger.crt", "/tmp/stranger.key"))).status).not.toBe(0);
}, 600_000);

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

test("a Flocker dataset outlives the replaced node that held it: read back on another node", async () => {
  expect(datasetId).not.toBe("");
  const r = await ok(
    cluster.docker("aws-101", ["run", "--rm", "-v", "probe:/data", "busybox", "cat", "/data/f"], { timeoutMs: 180_000 }),
  );
  expect(r).toBe("written-on-aws-105");
  expect(await ok(cluster.exec("aws-101", `cat /flocker/${datasetId}/f`))).toBe("written-on-aws-105");
}, 300_000);

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
