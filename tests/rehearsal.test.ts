/**
 * The offline rehearsal tier: the whole program under mocks, then every remote step's real script
 * run with bash against stubbed nodes (tests/helpers/rehearsal.ts), each step once the steps it
 * waits for are done, as the engine schedules them (nodes in parallel, one step at a time per
 * node); then every step again (a second run changes nothing), then the deletes in reverse
 * dependency order (nothing is left). A step's stdin is the recorded one, with a dependency's mock
 * output (the join tokens) replaced by what that step's script really printed. A small cluster
 * keeps it fast: one manager, the Flocker control node, the Spark master's node and one worker.
 */
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import {
  attachedDevices,
  missingTools,
  remoteStepsInOrder,
  StubCluster,
  type RemoteStep,
  type StepResult,
} from "./helpers/rehearsal";

const SHAPE = { "swarm-flocker:nodeCount": "4", "swarm-flocker:managerCount": "1" };

/** Steps that cannot run offline, each with the reason; each must exist in the run. */
const NOT_REHEARSED: Readonly<Record<string, string>> = {};

/**
 * Steps whose create is a check that acts each time it runs and undoes what it did: a second run
 * makes calls that change state, but leaves the state as it found it.
 */
const CHECKS_THAT_ACT: Readonly<Record<string, string>> = {
  "flocker-test": "the book's Flocker test: creates a test volume, writes and reads a file through it, deletes the dataset",
  "spark-smoke": "SparkPi in a throw-away (--rm) container on the spark network",
};

/**
 * What the deletes leave on purpose: Flocker's containers on every node (and the control service
 * on the control node). Their steps have no delete, because it would run on the node itself and
 * block when the node is unreachable; a destroy terminates the nodes, and the containers with
 * them. The control service's state is on its own EBS volume, which Pulumi deletes.
 */
function keptOnPurpose(): string[] {
  const agents = ["flocker-dataset-agent", "flocker-container-agent", "flocker-docker-plugin"];
  return cluster
    .allNodes()
    .flatMap((node) =>
      [...(node.host === controlHost ? ["flocker-control-service"] : []), ...agents].map((c) => `${node.host}: container ${c}`),
    );
}

/**
 * What the deletes leave to the instances' termination: no step's delete runs on the node it
 * belongs to (a node that is gone must not block pulumi up), so every swarm node is still in the
 * swarm, the swarm still lists the first manager, whose entry no membership step removes, and
 * Swarm's own ingress network (made by swarm init, gone with the swarm).
 */
function leftToTermination(): string[] {
  const firstManager = steps.find((step) => step.create.script === "swarm-init.sh")!.host;
  const self = fs.readFileSync(path.join(cluster.node(firstManager).state, "docker", "self"), "utf8").trim();
  const inSwarm = cluster.allNodes().filter((node) => node.host !== controlHost);
  return [...inSwarm.map((node) => `${node.host}: swarm active`), `swarm: node ${self}`, "swarm: network ingress"];
}

let steps: RemoteStep[];
let cluster: StubCluster;
/** The Flocker control node: not in the Swarm (the book's dedicated node). */
let controlHost: string | undefined;
const skipped = new Set(Object.keys(NOT_REHEARSED));

function failuresOf(results: readonly StepResult[]): string[] {
  return results
    .filter((result) => result.status !== 0)
    .map((r) => `${r.step} ${r.phase} exited ${r.status}:\n${r.stderr.trim().split("\n").slice(-5).join("\n")}`);
}

beforeAll(async () => {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new Error(
      `the rehearsal runs the node scripts with the bats stubs, which need ${missing.join(" and ")} (see tests/ensure-tools.sh)`,
    );
  }
  const run = await runProgram({ stack: "dev", config: { ...readStackConfig("dev"), ...SHAPE } });
  steps = remoteStepsInOrder(run);
  cluster = new StubCluster([...new Set(steps.map((step) => step.host))], attachedDevices(run));
  controlHost = steps.find((step) => step.create.script === "flocker-containers.sh" && step.create.args[0] === "control")?.host;
}, 60_000);

afterAll(() => cluster?.remove());

describe("offline rehearsal of the dev stack (4 nodes, 1 manager)", () => {
  it("has every remote step after the steps it waits for, on four nodes", () => {
    const at = new Map(steps.map((step, index) => [step.urn, index]));
    for (const [index, step] of steps.entries()) {
      for (const urn of step.after) expect(at.get(urn)).toBeLessThan(index);
    }
    const position = (name: string) => steps.findIndex((step) => step.name === name);
    expect(position("swarm-init")).toBeLessThan(position("swarm-join-aws-103"));
    expect(position("spark-volume")).toBeLessThan(position("spark-master"));
    expect(cluster.allNodes()).toHaveLength(4);
    // The scripts run in place here; on a node they run from the copy, so each step waits for it.
    expect(steps.filter((step) => !step.afterScriptsCopy).map((step) => step.name)).toEqual([]);
    for (const name of skipped) expect(steps.map((step) => step.name)).toContain(name);
  });

  it("brings the cluster up: every step's script succeeds on its node", async () => {
    const results = await cluster.runAll("create", steps, skipped);
    expect(failuresOf(results)).toEqual([]);
    expect(results).toHaveLength(steps.length - skipped.size);
    expect(cluster.invalidCalls()).toEqual([]);
    const up = cluster.leftovers();
    for (const thing of [
      "swarm: service spark-master",
      "swarm: service spark-worker",
      "swarm: network spark",
      "flocker: dataset spark",
    ]) {
      expect(up).toContain(thing);
    }
    const inSwarm = cluster.allNodes().filter((node) => node.host !== controlHost);
    expect(up.filter((line) => / swarm active$/.test(line)).sort()).toEqual(inSwarm.map((n) => `${n.host}: swarm active`).sort());
    expect(inSwarm).toHaveLength(3);
  }, 120_000);

  it("changes nothing when every step runs again", async () => {
    const before = cluster.leftovers();
    const results = await cluster.runAll("create", steps, skipped);
    expect(failuresOf(results)).toEqual([]);
    const changed = results.filter((result) => result.mutations.length > 0).map((result) => result.step);
    expect(changed.sort()).toEqual(Object.keys(CHECKS_THAT_ACT).sort());
    expect(cluster.leftovers()).toEqual(before);
  }, 120_000);

  it("leaves nothing behind after the deletes, in reverse order", async () => {
    const results = await cluster.runAll("delete", steps, skipped);
    expect(failuresOf(results)).toEqual([]);
    expect(cluster.invalidCalls()).toEqual([]);
    expect(cluster.leftovers().sort()).toEqual([...keptOnPurpose(), ...leftToTermination()].sort());
  }, 120_000);
});
