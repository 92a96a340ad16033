/**
 * Day 2 under mocks: what replacing a node, scaling and upgrading do to the cluster's steps — which
 * are replaced (their delete runs on the old node, their create on the new one), which only re-run
 * their create in place, which deletes run — and the snapshot schedule of the Flocker datasets.
 * The replacement plan (tests/helpers/replacementPlan.ts) is the engine's rule for these resources.
 */
import { criticalPath, levels, stepGraph } from "../tools/plan/graph";
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { isSecretWire } from "../tools/plan/mockRuntime";
import { runIsolated } from "./helpers/isolatedRun";
import { createOf, envOf, maybeNamed, named, ofType, TYPES, waitsFor } from "./helpers/program";
import { instanceIdOf, replacementPlan, scriptAndAction } from "./helpers/replacementPlan";

const DLM_POLICY = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
const IAM_ROLE = "aws:iam/role:Role";
const ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";

let dev: ProgramRun;
let prod: ProgramRun;
let hourly: ProgramRun;
let nineNodes: ProgramRun;
let newDocker: ProgramRun;
let otherPool: ProgramRun;

beforeAll(async () => {
  dev = await runIsolated("dev");
  prod = await runIsolated("prod");
  hourly = await runIsolated("dev", {
    snapshots: "true",
    snapshotIntervalHours: "6",
    snapshotTime: "12:30",
    snapshotRetainCount: "5",
  });
  nineNodes = await runIsolated("dev", { nodeCount: "9" });
  newDocker = await runIsolated("dev", { dockerVersion: "18.09.7-0ubuntu1~16.04.7" });
  otherPool = await runIsolated("dev", { swarmAddressPool: "10.200.0.0/16", swarmAddressPoolMaskLength: "26" });
});

// ------------------------------------------------------------------------------------ the plan

const swarmMembers = ["aws-102", "aws-103", "aws-105", "aws-106", "aws-107", "aws-108", "aws-109", "aws-110"];

describe("replacing a node keeps the data and the one swarm", () => {
  test("the Spark master's node (aws-105): its own steps are replaced, the dataset only re-checked there", () => {
    const plan = replacementPlan(dev, "aws-105");
    expect(plan.replaced).toEqual(
      expect.arrayContaining([
        "nodes-aws-105-instance",
        "swarm-join-aws-105",
        "swarm-member-aws-105",
        "swarm-label-aws-105",
        "flocker-plugin-aws-105",
      ]),
    );
    expect(plan.replaced).not.toContain("spark-volume");
    expect(plan.rerun).toEqual(["spark-volume"]);
    // What runs against the swarm, on a manager: it drains and removes the node's entry, its label
    // goes. Nothing runs on the old node itself; never the dataset's delete, nor a service's.
    expect(plan.clusterDeletes).toEqual({
      "swarm-member-aws-105": "swarm-member.sh remove",
      "swarm-label-aws-105": "swarm-label.sh remove",
    });
    expect(plan.replaced.filter((name) => /^spark-/.test(name))).toEqual([]);
    expect(plan.elsewhere).toEqual([]);
  });

  test("the first manager (aws-101): nobody is removed; it re-joins through the survivors, whose peer steps re-run", () => {
    const plan = replacementPlan(dev, "aws-101");
    expect(plan.replaced).toEqual(
      expect.arrayContaining([
        "swarm-init",
        "swarm-token-manager",
        "swarm-token-worker",
        "swarm-peer-aws-102",
        "swarm-peer-aws-103",
      ]),
    );
    for (const member of swarmMembers) {
      expect(plan.replaced).not.toContain(`swarm-member-${member}`);
      expect(plan.rerun).toContain(`swarm-member-${member}`);
    }
    expect(plan.replaced).not.toContain("swarm-label-aws-105");
    expect(plan.replaced).not.toContain("spark-volume");
    expect(plan.elsewhere).toEqual(["swarm-peer-aws-102", "swarm-peer-aws-103"]);
    // Nothing runs on the old aws-101 (its successor removes its Down entry). Spark's network and
    // services belong to the cluster: their create re-runs on the successor, which finds them.
    expect(plan.clusterDeletes).toEqual({});
    for (const step of ["spark-network", "spark-master", "spark-worker"]) {
      expect(plan.replaced).not.toContain(step);
      expect(plan.rerun).toContain(step);
    }
    expect(Object.keys(plan.deletes).some((name) => /member|volume|label/.test(name))).toBe(false);
  });

  test("a joining manager (aws-102): it is demoted and removed by the first manager, then re-joins; its peer step re-runs", () => {
    const plan = replacementPlan(dev, "aws-102");
    expect(plan.clusterDeletes).toEqual({
      "swarm-member-aws-102": "swarm-member.sh remove",
    });
    expect(plan.replaced).toContain("swarm-peer-aws-102");
    expect(plan.replaced).not.toContain("swarm-init");
  });

  test("a worker (aws-106): drained and removed by a manager, then re-joined; nothing else is touched", () => {
    const plan = replacementPlan(dev, "aws-106");
    expect(plan.clusterDeletes).toEqual({
      "swarm-member-aws-106": "swarm-member.sh remove",
    });
    expect(plan.rerun).toEqual([]);
    expect(plan.elsewhere).toEqual([]);
  });

  test("the Flocker control node (aws-104): only its own steps; no swarm or dataset step", () => {
    const plan = replacementPlan(dev, "aws-104");
    expect(plan.clusterDeletes).toEqual({});
    expect(plan.elsewhere).toEqual([]);
  });

  test("steps that follow the cluster's life hold a fixed mark first in their triggers, ignored (no replacement on upgrade)", () => {
    // Not the target's id: the engine would replace them with their target (tests/day2.unreachable.test.ts).
    const mark = "lifecycle: cluster";
    const volume = named(dev, "spark-volume");
    expect(volume.inputs.triggers).toEqual([mark]);
    expect(volume.propertyDependencies?.triggers).toEqual([]);
    expect(volume.options.ignoreChanges).toEqual(["triggers[0]"]);
    expect(volume.options.deleteBeforeReplace).toBe(true);
    for (const member of swarmMembers) {
      const step = named(dev, `swarm-member-${member}`);
      expect(step.inputs.triggers).toEqual([mark, instanceIdOf(dev, member)]);
      expect(step.options.ignoreChanges).toEqual(["triggers[0]"]);
    }
    const label = named(dev, "swarm-label-aws-105");
    expect(label.inputs.triggers).toEqual([mark, instanceIdOf(dev, "aws-105")]);
    expect(label.options).toMatchObject({ ignoreChanges: ["triggers[0]"], deleteBeforeReplace: true });
    for (const step of ["spark-network", "spark-master", "spark-worker"]) {
      expect(named(dev, step).inputs.triggers).toEqual([mark]);
      expect(named(dev, step).options.ignoreChanges).toEqual(["triggers[0]"]);
    }
    // Steps that belong to their node ignore nothing.
    expect(named(dev, "swarm-join-aws-105").options.ignoreChanges).toEqual([]);
  });
});

describe("the first manager finds the swarm through the others", () => {
  test("each other manager has a peer step on itself: secret output, re-run when aws-101 is a new instance", () => {
    for (const manager of ["aws-102", "aws-103"]) {
      const peer = named(dev, `swarm-peer-${manager}`);
      expect(createOf(dev, `swarm-peer-${manager}`)).toMatch(/swarm-peer\.sh$/);
      expect((peer.inputs.connection as { host: string }).host).toBe(
        (dev.outputs.nodes as Record<string, { publicIp: string }>)[manager].publicIp,
      );
      expect(peer.inputs.triggers).toEqual([instanceIdOf(dev, manager), instanceIdOf(dev, "aws-101")]);
      expect(peer.inputs.logging).toBe("none");
      expect(peer.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
      expect(peer.inputs.delete).toBeUndefined();
      expect(waitsFor(dev, `swarm-peer-${manager}`, `nodes-${manager}-docker`)).toBe(true);
      expect(waitsFor(dev, "swarm-init", `swarm-peer-${manager}`)).toBe(true);
    }
    const init = named(dev, "swarm-init");
    expect(isSecretWire(init.wireInputs.stdin)).toBe(true);
    expect(envOf(createOf(dev, "swarm-init"))).toMatchObject({ ADVERTISE_ADDR: "172.31.0.10", SWARM_PORT: "2377" });
  });

  test("five managers: four peers; the program evaluates without a dependency cycle", () => {
    expect(
      ofType(prod, TYPES.command)
        .filter((c) => c.name.startsWith("swarm-peer-"))
        .map((c) => c.name)
        .sort(),
    ).toEqual(["swarm-peer-aws-102", "swarm-peer-aws-103", "swarm-peer-aws-104", "swarm-peer-aws-105"]);
    expect(() => levels(stepGraph(dev.resources))).not.toThrow();
    expect(() => levels(stepGraph(prod.resources))).not.toThrow();
  });

  test("the bring-up's critical path does not grow beyond one node's chain and the Swarm/Spark steps", () => {
    const path = criticalPath(stepGraph(dev.resources));
    // one node's chain, from its ssh-key step to Docker, then the Swarm and Spark steps
    expect(path.total).toBeLessThanOrEqual(17);
    expect(path.steps.filter((s) => s.name.startsWith("flocker-plugin-"))).toEqual([]);
  });
});

describe("the flocker plugin stays offered to the swarm after a Docker restart", () => {
  test("every swarm node installs the activation unit after its Flocker agents; the control node does not", () => {
    for (const node of ["aws-101", ...swarmMembers]) {
      expect(createOf(dev, `flocker-plugin-${node}`)).toMatch(/flocker-plugin-activate\.sh install$/);
      expect(envOf(createOf(dev, `flocker-plugin-${node}`)).PLUGIN_SOCKET).toBe("/run/docker/plugins/flocker/flocker.sock");
      expect(waitsFor(dev, `flocker-plugin-${node}`, `flocker-${node}-agents`)).toBe(true);
    }
    expect(maybeNamed(dev, "flocker-plugin-aws-104")).toBeUndefined();
    expect(waitsFor(dev, "spark-master", "flocker-plugin-aws-105")).toBe(true);
  });
});

describe("scaling and upgrades", () => {
  test("scaling down (10 -> 9 nodes): the last worker is drained and removed by a manager; nothing else is deleted", () => {
    const kept = new Set(nineNodes.resources.map((r) => r.name));
    const removed = dev.resources.filter((r) => !kept.has(r.name));
    expect(removed.every((r) => r.name.includes("aws-110"))).toBe(true);
    expect(
      removed
        .filter((r) => typeof r.inputs.delete === "string")
        .map((r) => `${r.name}: ${scriptAndAction(String(r.inputs.delete))}`)
        .sort(),
    ).toEqual(expect.arrayContaining(["swarm-member-aws-110: swarm-member.sh remove"]));
    expect(named(dev, "swarm-join-aws-110").inputs.delete).toBeUndefined();
    expect(named(nineNodes, "spark-volume").inputs).toEqual(named(dev, "spark-volume").inputs);
  });

  test("a new Docker version re-runs only the Docker steps, in place: no trigger changes, nothing replaced", () => {
    const before = new Map(dev.resources.map((r) => [r.name, r]));
    const changed = newDocker.resources.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(before.get(r.name)?.inputs));
    expect(changed.map((r) => r.name).every((name) => /^nodes-aws-1\d\d-docker$/.test(name))).toBe(true);
    expect(changed).toHaveLength(10);
    for (const resource of changed) {
      expect(resource.inputs.triggers).toEqual(before.get(resource.name)!.inputs.triggers);
      expect(envOf(String(resource.inputs.create)).DOCKER_VERSION).toBe("18.09.7-0ubuntu1~16.04.7");
    }
  });

  test("a changed swarm address pool reaches only swarm-init, in place: nothing is replaced or re-founded (its create refuses a live swarm's other pool)", () => {
    const before = new Map(dev.resources.map((r) => [r.name, r]));
    const changed = otherPool.resources.filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(before.get(r.name)?.inputs));
    expect(changed.map((r) => r.name)).toEqual(["swarm-init"]);
    const init = changed[0];
    expect(init.inputs.triggers).toEqual(before.get("swarm-init")!.inputs.triggers);
    expect(envOf(String(init.inputs.create))).toMatchObject({
      SWARM_ADDRESS_POOL: "10.200.0.0/16",
      SWARM_ADDRESS_POOL_MASK_LENGTH: "26",
    });
  });

  test("the Flocker access key reaches the nodes only through the files steps, which restart the services when it changes", () => {
    const key = named(dev, "storage-flocker-key").urn;
    for (const node of ["aws-101", "aws-104", "aws-110"]) {
      expect(named(dev, `flocker-${node}-files`).dependencies).toContain(key);
      expect(envOf(createOf(dev, `flocker-${node}-agents`)).CONFIG_DIGEST).toMatch(/^[0-9a-f]{16}$/);
    }
  });
});

// ------------------------------------------------------------------------------------ snapshots

describe("snapshots of the Flocker datasets (Data Lifecycle Manager)", () => {
  const policyOf = (run: ProgramRun) => ofType(run, DLM_POLICY);

  test("prod: on, daily at 03:00 UTC, 14 kept, on the volumes Flocker tags with this cluster's id", () => {
    const [policy] = policyOf(prod);
    const clusterId = (named(prod, "pki-ca-cert").inputs.subject as { organizationalUnit: string }).organizationalUnit;
    expect(policy.inputs).toMatchObject({
      state: "ENABLED",
      description: "Snapshots of the Flocker datasets and control state of spark-prod",
    });
    const details = policy.inputs.policyDetails as Record<string, any>;
    expect(details).toMatchObject({ policyType: "EBS_SNAPSHOT_MANAGEMENT", resourceTypes: ["VOLUME"] });
    // Flocker's EBS driver tags its volumes flocker-cluster-id=<the CA's OU> (ebs.py CLUSTER_ID_LABEL);
    // the control service's state volume has a tag of its own (tests/day2.controlState.test.ts).
    expect(details.targetTags).toEqual({ "flocker-cluster-id": clusterId, "swarm-flocker-control-state": clusterId });
    expect(details.schedules).toHaveLength(1);
    expect(details.schedules[0]).toMatchObject({
      name: "Every 24h keep 14",
      createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
      retainRule: { count: 14 },
      // the dataset id tag travels with each snapshot: a restore finds them by it
      copyTags: true,
      tagsToAdd: { Project: "swarm-flocker", Stack: "prod", Cluster: "spark-prod" },
    });
  });

  test("DLM acts through a role it alone may assume, holding AWS's managed DLM policy", () => {
    const [role] = ofType(prod, IAM_ROLE).filter((r) => r.name === "snapshots-dlm-role");
    expect(JSON.parse(String(role.inputs.assumeRolePolicy))).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const [attachment] = ofType(prod, ROLE_ATTACHMENT).filter((r) => r.name === "snapshots-dlm-access");
    expect(attachment.inputs).toEqual({
      role: "snapshots-dlm-role-mock",
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
    });
    const [policy] = policyOf(prod);
    expect(policy.inputs.executionRoleArn).toBe("arn:aws:iam::123456789012:role/swarm-flocker/snapshots-dlm-role-mock");
    // the policy waits for its permissions
    expect(policy.dependencies).toContain(attachment.urn);
  });

  test("the schedule and retention come from config", () => {
    const details = policyOf(hourly)[0].inputs.policyDetails as Record<string, any>;
    expect(details.schedules[0]).toMatchObject({
      name: "Every 6h keep 5",
      createRule: { interval: 6, intervalUnit: "HOURS", times: "12:30" },
      retainRule: { count: 5 },
    });
  });

  test("off (dev's default): no policy, no role", () => {
    expect(policyOf(dev)).toEqual([]);
    expect(ofType(dev, IAM_ROLE).filter((r) => r.name.startsWith("snapshots-"))).toEqual([]);
  });
});
