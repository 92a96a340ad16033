#!/usr/bin/env node
// The engine tier's stand-in images (docs/testing.md, "Engine tier"): one small program, run in
// the images built by tests/engine/images.ts under the names the stack pulls. Each role speaks
// the protocol the stack depends on, for real, and logs what it did:
//
//   spark-master            TCP 7077 (workers register, drivers submit), HTTP 8080 (/json/)
//   spark-worker            resolves SPARK_MASTER_IP (tasks.spark-master), registers, runs tasks
//   spark-class CLASS ARGS  as apache/spark's /opt/spark/bin/spark-class: …master.Master is the
//                           master on SPARK_MASTER_HOST, …worker.Worker spark://HOST:PORT a worker
//   run-example SparkPi N   the driver: asks the master, which hands the job to a registered
//                           worker and relays its answer; prints "Pi is roughly …"
//   flocker-control         Flocker's REST API on 4523 (client certificates checked against
//                           /etc/flocker/cluster.crt) and the agents' port 4524 (node certificates)
//   flocker-dataset-agent   "attaches" this node's datasets: a directory per dataset under
//                           /flocker (the tier's shared EBS), reported to the control service
//   flocker-container-agent runs and logs
//   flocker-plugin          a Docker volume plugin (legacy protocol) on
//                           /run/docker/plugins/flocker/flocker.sock, backed by the control service
"use strict";
const fs = require("fs");
const http = require("http");
const https = require("https");
const net = require("net");
const os = require("os");
const path = require("path");
const crypto = require("crypto");
const dns = require("dns");
const { execFileSync } = require("child_process");

const ETC = process.env.FLOCKER_ETC || "/etc/flocker";
const API_PORT = 4523;
const AGENT_PORT = 4524;
const STATE_FILE = "/var/lib/flocker/current_configuration.json";
const EBS = "/flocker";
/** Where each dataset's data lives between attachments: the tier's "EBS", seen by every node. */
const EBS_STORE = "/flocker/.ebs";

/** PATH is a mount point in this mount namespace. */
function isMountPoint(dir) {
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === dir);
}
const SOCKET = "/run/docker/plugins/flocker/flocker.sock";

function log(...args) {
  console.log(`${new Date().toISOString()} ${args.join(" ")}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Spark: newline-delimited JSON over TCP.

function lines(socket, onMessage) {
  let buf = "";
  socket.setEncoding("utf8");
  socket.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) onMessage(JSON.parse(line));
    }
  });
}
const send = (socket, msg) => socket.write(`${JSON.stringify(msg)}\n`);

function sparkMaster(host = process.env.SPARK_MASTER_IP || "0.0.0.0") {
  const port = Number(process.env.SPARK_MASTER_PORT || 7077);
  const workers = new Map();
  const pending = new Map();
  let nextTask = 1;
  const server = net.createServer((socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    lines(socket, (msg) => {
      if (msg.type === "register") {
        workers.set(peer, { socket, ...msg });
        log(`Master: Registering worker ${peer} (${msg.host}) with ${msg.cores} cores, ${msg.memory} RAM`);
        send(socket, { type: "registered", master: `spark://${os.hostname()}:${port}` });
      } else if (msg.type === "submit") {
        log(`Master: Registering app ${msg.app} from ${peer}`);
        const deadline = Date.now() + 60_000;
        const dispatch = () => {
          const worker = [...workers.values()][0];
          if (!worker) {
            if (Date.now() > deadline) {
              send(socket, { type: "failed", reason: "no worker registered with the master within 60 s" });
              return;
            }
            log("Master: Initial job has not accepted any resources; waiting for a worker to register");
            setTimeout(dispatch, 2000);
            return;
          }
          const id = nextTask++;
          pending.set(id, socket);
          log(`Master: Launching task ${id} of ${msg.app} on worker ${worker.host}`);
          send(worker.socket, { type: "task", id, app: msg.app, slices: msg.slices });
        };
        dispatch();
      } else if (msg.type === "result") {
        const driver = pending.get(msg.id);
        pending.delete(msg.id);
        log(`Master: task ${msg.id} finished on ${workers.get(peer)?.host}`);
        if (driver) send(driver, { type: "result", pi: msg.pi, worker: workers.get(peer)?.host });
      }
    });
    socket.on("close", () => {
      if (workers.delete(peer)) log(`Master: Removing worker ${peer}`);
    });
    socket.on("error", () => undefined);
  });
  server.listen(port, host, () => log(`Master: Starting Spark master at spark://${host}:${port}`));
  http
    .createServer((req, res) => {
      const body = {
        url: `spark://${os.hostname()}:${port}`,
        status: "ALIVE",
        aliveworkers: workers.size,
        workers: [...workers.values()].map((w) => ({ host: w.host, cores: w.cores, state: "ALIVE" })),
      };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(body));
    })
    .listen(Number(process.env.SPARK_MASTER_WEBUI_PORT || 8080), host);
}

function estimatePi(slices) {
  const n = 100000 * Math.max(1, slices);
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const x = Math.random() * 2 - 1;
    const y = Math.random() * 2 - 1;
    if (x * x + y * y <= 1) inside++;
  }
  return (4 * inside) / n;
}

function parseMasterUrl(url) {
  const m = /^spark:\/\/([^:/]+)(?::(\d+))?/.exec(url || "");
  if (!m) throw new Error(`not a spark:// master URL: '${url}'`);
  return { host: m[1], port: Number(m[2] || 7077) };
}

async function sparkWorker(host = process.env.SPARK_MASTER_IP, port = Number(process.env.SPARK_MASTER_PORT || 7077)) {
  if (!host) throw new Error("SPARK_MASTER_IP is not set");
  for (;;) {
    try {
      const addr = (await dns.promises.lookup(host, { family: 4 })).address;
      log(`Worker: Connecting to master ${host}:${port} (${addr})...`);
      await new Promise((resolve, reject) => {
        const socket = net.connect(port, addr);
        socket.on("connect", () =>
          send(socket, {
            type: "register",
            host: os.hostname(),
            cores: process.env.SPARK_WORKER_CORES || "1",
            memory: process.env.SPARK_WORKER_MEMORY || "1g",
          }),
        );
        lines(socket, (msg) => {
          if (msg.type === "registered") log(`Worker: Successfully registered with master ${msg.master}`);
          if (msg.type === "task") {
            log(`Worker: Running task ${msg.id} (${msg.app}, ${msg.slices} slices)`);
            send(socket, { type: "result", id: msg.id, pi: estimatePi(msg.slices) });
          }
        });
        socket.on("error", reject);
        socket.on("close", () => reject(new Error("connection to the master closed")));
      });
    } catch (e) {
      log(`Worker: ${e.message}; retrying in 2 s`);
      await sleep(2000);
    }
  }
}

/** apache/spark's spark-class: the two classes the current platform starts, with their arguments. */
function sparkClass(args) {
  const [cls, ...rest] = args;
  if (cls === "org.apache.spark.deploy.master.Master") {
    if (rest.length > 0) throw new Error(`the stand-in Master takes no arguments, got: ${rest.join(" ")}`);
    // Spark 3.5's MasterArguments reads SPARK_MASTER_HOST (SPARK_MASTER_IP is gone in 4.x).
    return sparkMaster(process.env.SPARK_MASTER_HOST || os.hostname());
  }
  if (cls === "org.apache.spark.deploy.worker.Worker") {
    if (rest.length !== 1) throw new Error(`the Worker takes one master URL, got: '${rest.join(" ")}'`);
    const { host, port } = parseMasterUrl(rest[0]);
    return sparkWorker(host, port);
  }
  throw new Error(`the stand-in spark-class runs only the Master and the Worker, not '${cls}'`);
}

async function runExample(args) {
  if (args[0] !== "SparkPi") throw new Error(`the stand-in runs only SparkPi, not '${args[0]}'`);
  const slices = Number(args[1] || 2);
  const { host, port } = parseMasterUrl(process.env.MASTER);
  const addr = (await dns.promises.lookup(host, { family: 4 })).address;
  log(`SparkContext: connecting to master spark://${host}:${port} (${addr})`);
  const result = await new Promise((resolve, reject) => {
    const socket = net.connect(port, addr);
    socket.on("connect", () => send(socket, { type: "submit", app: "Spark Pi", slices }));
    lines(socket, (msg) => {
      socket.end();
      if (msg.type === "result") resolve(msg);
      else reject(new Error(msg.reason || "the master refused the job"));
    });
    socket.on("error", reject);
  });
  log(`DAGScheduler: Job 0 finished on worker ${result.worker}`);
  console.log(`Pi is roughly ${result.pi}`);
}

// ---------------------------------------------------------------------------------------------
// Flocker.

const read = (name) => fs.readFileSync(path.join(ETC, name));

function certSubjectCn(pem) {
  const subject = new crypto.X509Certificate(pem).subject;
  const m = /CN=([^\n,]+)/.exec(subject);
  return m ? m[1] : "";
}

function sizeBytes(text) {
  const m = /^(\d+)([KMGT])?/i.exec(text || "");
  if (!m) return 107374182400;
  const unit = { K: 1, M: 2, G: 3, T: 4 }[(m[2] || "").toUpperCase()] || 0;
  return Number(m[1]) * 1024 ** unit;
}

function body(req) {
  return new Promise((resolve) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => resolve(data ? JSON.parse(data) : {}));
  });
}

function reply(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

function flockerControl() {
  let config = { datasets: {} };
  try {
    config = JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
    log(`control: loaded ${Object.keys(config.datasets).length} dataset(s) from ${STATE_FILE}`);
  } catch {
    log(`control: no ${STATE_FILE}; starting with an empty configuration`);
  }
  const save = () => {
    fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
    fs.writeFileSync(`${STATE_FILE}.tmp`, JSON.stringify(config));
    fs.renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
  };
  // What the dataset agents last reported, per node uuid.
  const nodes = new Map();
  const tls = {
    cert: read("control-service.crt"),
    key: read("control-service.key"),
    ca: read("cluster.crt"),
    requestCert: true,
    rejectUnauthorized: true,
  };
  const datasetsList = () => Object.values(config.datasets);

  https
    .createServer(tls, async (req, res) => {
      const who = certSubjectCn(req.socket.getPeerCertificate(true).raw);
      log(`control: ${req.method} ${req.url} (client ${who})`);
      const url = req.url.replace(/\/+$/, "");
      if (req.method === "GET" && url === "/v1/version") return reply(res, 200, { flocker: "1.15.0-standin" });
      if (req.method === "GET" && url === "/v1/configuration/datasets") return reply(res, 200, datasetsList());
      if (req.method === "GET" && url === "/v1/state/nodes")
        return reply(
          res,
          200,
          [...nodes.values()].map((n) => ({ host: n.host, uuid: n.uuid })),
        );
      if (req.method === "GET" && url === "/v1/state/datasets") {
        const state = [];
        for (const n of nodes.values()) {
          for (const d of n.datasets) state.push({ ...d, primary: n.uuid });
        }
        return reply(res, 200, state);
      }
      if (req.method === "POST" && url === "/v1/configuration/datasets") {
        const b = await body(req);
        const id = b.dataset_id || crypto.randomUUID();
        if (config.datasets[id]) return reply(res, 409, { description: "The provided dataset_id is already in use." });
        const dataset = {
          dataset_id: id,
          primary: b.primary,
          maximum_size: b.maximum_size,
          metadata: b.metadata || {},
          deleted: false,
        };
        config.datasets[id] = dataset;
        save();
        log(`control: dataset ${id} (${dataset.metadata.name || "unnamed"}) configured on ${b.primary}`);
        return reply(res, 201, dataset);
      }
      const m = /^\/v1\/configuration\/datasets\/([0-9a-f-]+)$/.exec(url);
      if (m && config.datasets[m[1]]) {
        const dataset = config.datasets[m[1]];
        if (req.method === "DELETE") {
          dataset.deleted = true;
          save();
          log(`control: dataset ${m[1]} marked deleted`);
          return reply(res, 200, dataset);
        }
        if (req.method === "POST") {
          const b = await body(req);
          if (b.primary) dataset.primary = b.primary;
          save();
          log(`control: dataset ${m[1]} moved to ${dataset.primary}`);
          return reply(res, 200, dataset);
        }
      }
      return reply(res, 404, { description: `not found: ${req.method} ${url}` });
    })
    .listen(API_PORT, () => log(`control: REST API on ${API_PORT}, client certificates checked against cluster.crt`));

  https
    .createServer(tls, async (req, res) => {
      const who = certSubjectCn(req.socket.getPeerCertificate(true).raw);
      if (!who.startsWith("node-")) return reply(res, 403, { description: `${who} is not a node certificate` });
      const b = await body(req);
      const uuid = who.slice("node-".length);
      // The node's address is the one its agent connects from, as Flocker's control service sees it.
      const host = (req.socket.remoteAddress || "").replace(/^::ffff:/, "");
      if (!nodes.has(uuid)) log(`control: agent of node ${uuid} (${host}) connected`);
      nodes.set(uuid, { uuid, host, datasets: b.datasets || [] });
      return reply(res, 200, { uuid, datasets: datasetsList() });
    })
    .listen(AGENT_PORT, () => log(`control: agent port ${AGENT_PORT}`));
}

function agentConfig() {
  // agent.yml is YAML, but the two fields read here are plain "key: value" lines under
  // control-service (the stack writes it with a YAML library in that shape).
  const text = fs.readFileSync(path.join(ETC, "agent.yml"), "utf8");
  const hostname = /hostname:\s*["']?([^"'\s]+)/.exec(text);
  const port = /port:\s*(\d+)/.exec(text);
  if (!hostname) throw new Error("agent.yml names no control-service hostname");
  return { host: hostname[1], port: Number(port ? port[1] : AGENT_PORT) };
}

function postJson(options, payload) {
  return new Promise((resolve, reject) => {
    const req = https.request({ ...options, method: options.method || "POST" }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => {
        if (res.statusCode >= 300) reject(new Error(`${res.statusCode} ${data}`));
        else resolve(data ? JSON.parse(data) : null);
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(payload === undefined ? undefined : JSON.stringify(payload));
  });
}

async function flockerDatasetAgent() {
  const control = agentConfig();
  const nodeCert = read("node.crt");
  const uuid = certSubjectCn(nodeCert).replace(/^node-/, "");
  log(`dataset-agent: node ${uuid}, control service ${control.host}:${control.port}`);
  const tls = {
    host: control.host,
    port: control.port,
    ca: read("cluster.crt"),
    cert: nodeCert,
    key: read("node.key"),
    servername: "control-service",
    path: "/agent",
  };
  let held = [];
  for (;;) {
    try {
      const answer = await postJson(tls, { datasets: held });
      const mine = answer.datasets.filter((d) => d.primary === uuid && !d.deleted);
      for (const d of mine) {
        const dir = path.join(EBS, d.dataset_id);
        if (!isMountPoint(dir)) {
          // As Flocker attaches the EBS volume and mounts it at /flocker/<id>: the dataset's own
          // store (which outlives any node) bind-mounted there, visible to the host through the
          // container's shared /flocker.
          const store = path.join(EBS_STORE, d.dataset_id);
          fs.mkdirSync(store, { recursive: true });
          fs.mkdirSync(dir, { recursive: true });
          execFileSync("/bin/busybox", ["mount", "--bind", store, dir]);
          log(`dataset-agent: attached and mounted dataset ${d.dataset_id} at ${dir}`);
        }
      }
      // A dataset that moved to another node, or was deleted, is unmounted here (detached).
      for (const h of held.filter((x) => !mine.some((d) => d.dataset_id === x.dataset_id))) {
        const dir = path.join(EBS, h.dataset_id);
        if (isMountPoint(dir)) execFileSync("/bin/busybox", ["umount", dir]);
        log(`dataset-agent: unmounted dataset ${h.dataset_id}`);
      }
      for (const d of answer.datasets.filter((x) => x.deleted && held.some((h) => h.dataset_id === x.dataset_id))) {
        fs.rmSync(path.join(EBS_STORE, d.dataset_id), { recursive: true, force: true });
        fs.rmSync(path.join(EBS, d.dataset_id), { recursive: true, force: true });
        log(`dataset-agent: destroyed dataset ${d.dataset_id}`);
      }
      held = mine.map((d) => ({ dataset_id: d.dataset_id, maximum_size: d.maximum_size, path: path.join(EBS, d.dataset_id) }));
    } catch (e) {
      log(`dataset-agent: control service: ${e.message}`);
    }
    await sleep(1000);
  }
}

async function flockerPlugin() {
  const base = new URL(process.env.FLOCKER_CONTROL_SERVICE_BASE_URL || "");
  const me = process.env.MY_NETWORK_IDENTITY;
  const tls = {
    host: base.hostname,
    port: Number(base.port || API_PORT),
    ca: read("cluster.crt"),
    cert: read("plugin.crt"),
    key: read("plugin.key"),
    servername: "control-service",
  };
  const api = (method, p, payload) => postJson({ ...tls, method, path: `/v1${p}` }, payload);
  const myUuid = async () => {
    for (let i = 0; i < 60; i++) {
      const nodes = await api("GET", "/state/nodes");
      const n = nodes.find((x) => x.host === me);
      if (n) return n.uuid;
      await sleep(1000);
    }
    throw new Error(`the control service knows no node with address ${me} (is its dataset agent running?)`);
  };
  const byName = async (name) =>
    (await api("GET", "/configuration/datasets")).find((d) => !d.deleted && d.metadata && d.metadata.name === name);
  const mountedPath = async (id, uuid) => {
    const s = (await api("GET", "/state/datasets")).find((d) => d.dataset_id === id && d.primary === uuid);
    return s ? s.path : "";
  };
  const handlers = {
    "/Plugin.Activate": async () => ({ Implements: ["VolumeDriver"] }),
    "/VolumeDriver.Capabilities": async () => ({ Capabilities: { Scope: "global" } }),
    "/VolumeDriver.Create": async (b) => {
      if (await byName(b.Name)) return { Err: "" };
      const opts = b.Opts || {};
      const metadata = { name: b.Name };
      if (opts.profile) metadata["clusterhq:flocker:profile"] = opts.profile;
      const d = await api("POST", "/configuration/datasets", {
        primary: await myUuid(),
        maximum_size: sizeBytes(opts.size),
        metadata,
      });
      log(`plugin: created dataset ${d.dataset_id} for volume ${b.Name}`);
      return { Err: "" };
    },
    // Flocker's plugin never deletes a dataset on `docker volume rm`.
    "/VolumeDriver.Remove": async () => ({ Err: "" }),
    "/VolumeDriver.Mount": async (b) => {
      const d = await byName(b.Name);
      if (!d) return { Err: `no such volume: ${b.Name}` };
      const uuid = await myUuid();
      if (d.primary !== uuid) {
        log(`plugin: moving dataset ${d.dataset_id} (${b.Name}) here`);
        await api("POST", `/configuration/datasets/${d.dataset_id}`, { primary: uuid });
      }
      for (let i = 0; i < 120; i++) {
        const p = await mountedPath(d.dataset_id, uuid);
        if (p) {
          log(`plugin: volume ${b.Name} mounted at ${p}`);
          return { Mountpoint: p, Err: "" };
        }
        await sleep(1000);
      }
      return { Err: `dataset ${d.dataset_id} did not reach this node within 120 s` };
    },
    "/VolumeDriver.Unmount": async () => ({ Err: "" }),
    "/VolumeDriver.Path": async (b) => {
      const d = await byName(b.Name);
      return { Mountpoint: d ? await mountedPath(d.dataset_id, await myUuid()) : "", Err: "" };
    },
    "/VolumeDriver.Get": async (b) => {
      const d = await byName(b.Name);
      if (!d) return { Err: `no such volume: ${b.Name}` };
      return { Volume: { Name: b.Name, Mountpoint: await mountedPath(d.dataset_id, await myUuid()) }, Err: "" };
    },
    "/VolumeDriver.List": async () => ({
      Volumes: (await api("GET", "/configuration/datasets"))
        .filter((d) => !d.deleted && d.metadata && d.metadata.name)
        .map((d) => ({ Name: d.metadata.name })),
      Err: "",
    }),
  };
  fs.mkdirSync(path.dirname(SOCKET), { recursive: true });
  fs.rmSync(SOCKET, { force: true });
  http
    .createServer(async (req, res) => {
      const handler = handlers[req.url];
      let answer;
      try {
        answer = handler ? await handler(await body(req)) : { Err: `unknown call ${req.url}` };
      } catch (e) {
        answer = { Err: e.message };
      }
      log(`plugin: ${req.url} -> ${JSON.stringify(answer)}`);
      res.writeHead(200, { "content-type": "application/vnd.docker.plugins.v1+json" });
      res.end(JSON.stringify(answer));
    })
    .listen(SOCKET, () => log(`plugin: listening on ${SOCKET}, control service ${base.href}`));
}

async function flockerContainerAgent() {
  log(`container-agent: running (stand-in: Flocker's container agent has nothing to do for the stack)`);
  for (;;) await sleep(3_600_000);
}

const roles = {
  // The roles get the command line's words: the book's Spark roles take none, their defaults come
  // from the environment.
  "spark-master": () => sparkMaster(),
  "spark-worker": () => sparkWorker(),
  "spark-class": sparkClass,
  "run-example": runExample,
  "flocker-control": flockerControl,
  "flocker-dataset-agent": flockerDatasetAgent,
  "flocker-container-agent": flockerContainerAgent,
  "flocker-plugin": flockerPlugin,
};
const [role, ...rest] = process.argv.slice(2);
if (!roles[role]) {
  console.error(`standin: unknown role '${role}' (one of ${Object.keys(roles).join(", ")})`);
  process.exit(2);
}
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
Promise.resolve(roles[role](rest)).catch((e) => {
  console.error(`${role}: ${e.message}`);
  process.exit(1);
});
