/**
 * Day 2 under mocks, on the current platform's stack (Pulumi.current.yaml): the Spark dataset's
 * EBS volume (components/sparkData.ts) in the whole program. Replacing the Spark master's node
 * replaces its attachment and re-runs the data step there, never touches the volume and never needs
 * the old node; the sparkmaster label and the master's service wait for the `spark` Docker volume
 * to be the bound EBS volume; a destroy releases it on the master's node; snapshots select it. The
 * replacement plan is the engine's rule (tests/helpers/replacementPlan.ts).
 */
import { SPARK_DATA_TAG } from "../lib/sparkData";
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { runIsolated } from "./helpers/isolatedRun";
import { createOf, envOf, named, ofType, TYPES, waitsFor, waitsTransitivelyFor } from "./helpers/program";
import { instanceIdOf, replacementPlan, scriptAndAction } from "./helpers/replacementPlan";

const VOLUME = "aws:ebs/volume:Volume";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";
const DLM_POLICY = "aws:dlm/lifecyclePolicy:LifecyclePolicy";

let current: ProgramRun;
let snapshotted: ProgramRun;
let larger: ProgramRun;

beforeAll(async () => {
  current = await runIsolated("current");
  snapshotted = await runIsolated("current", { snapshots: "true", snapshotRetainCount: "5" });
  larger = await runIsolated("current", { sparkVolumeSize: "200G" });
});

const nodesOf = (run: ProgramRun) => run.outputs.nodes as Record<string, { role: string; publicIp: string }>;
/** The node labelled for the Spark master: the one with the role sparkmaster. */
const masterNode = (run: ProgramRun) => Object.entries(nodesOf(run)).find(([, n]) => n.role === "sparkmaster")![0];

describe("the Spark dataset in the current stack", () => {
  test("one encrypted gp3 volume of sparkVolumeSize in the stack's zone, its id a stack output", () => {
    expect(ofType(current, VOLUME)).toHaveLength(1);
    const volume = named(current, "spark-data-volume");
    expect(volume.inputs).toMatchObject({ encrypted: true, type: "gp3", size: 75, availabilityZone: "us-east-1a" });
    // the cluster's name, which defaults to the stack's
    expect((volume.inputs.tags as Record<string, string>)[SPARK_DATA_TAG]).toBe("current");
    expect(named(larger, "spark-data-volume").inputs.size).toBe(200);
    expect(current.outputs.sparkDataVolumeId).toMatch(/^vol-[0-9a-f]{17}$/);
    expect(current.outputs.platform).toBe("current");
  });

  test("attached to the Spark master's instance, mounted there by spark-data.sh after Docker", () => {
    const node = masterNode(current);
    expect(named(current, "spark-data-attachment").inputs).toMatchObject({
      instanceId: instanceIdOf(current, node),
      volumeId: current.outputs.sparkDataVolumeId,
      skipDestroy: true,
    });
    expect(ofType(current, ATTACHMENT)).toHaveLength(1);
    expect(createOf(current, "spark-data-mount")).toMatch(/spark-data\.sh create$/);
    expect(envOf(createOf(current, "spark-data-mount")).VOLUME_ID).toBe(current.outputs.sparkDataVolumeId);
    expect((named(current, "spark-data-mount").inputs.connection as { host: string }).host).toBe(nodesOf(current)[node].publicIp);
    expect(waitsFor(current, "spark-data-mount", `nodes-${node}-docker`)).toBe(true);
  });

  test("the sparkmaster label and the master's service wait for the bound volume; the service mounts `spark` from the local driver", () => {
    const node = masterNode(current);
    expect(waitsFor(current, `swarm-label-${node}`, "spark-data-mount")).toBe(true);
    expect(waitsFor(current, "spark-master", "spark-data-mount")).toBe(true);
    const spec = JSON.parse(envOf(createOf(current, "spark-master")).SERVICE_SPEC) as { mounts: string[] };
    expect(spec.mounts).toEqual(["type=volume,target=/data,source=spark"]);
    // nothing else mounts the dataset, and no Flocker driver is involved
    expect(JSON.stringify(current.resources.map((r) => r.inputs))).not.toContain("volume-driver=flocker");
  });
});

describe("replacing the Spark master's node", () => {
  test("replaces the attachment, re-runs the data step on the new node, never the volume; nothing runs on the old node", () => {
    const node = masterNode(current);
    const plan = replacementPlan(current, node);
    expect(plan.replaced).not.toContain("spark-data-volume");
    expect(plan.replaced).not.toContain("spark-data-mount");
    expect(plan.rerun).toContain("spark-data-mount");
    expect(named(current, "spark-data-attachment").propertyDependencies?.instanceId).toEqual([
      named(current, `nodes-${node}-instance`).urn,
    ]);
    // the only deletes: the swarm's own, on a manager (the release never runs against the old node)
    expect(plan.clusterDeletes).toEqual({
      [`swarm-member-${node}`]: "swarm-member.sh remove",
      [`swarm-label-${node}`]: "swarm-label.sh remove",
    });
    expect(Object.values(plan.deletes)).not.toContain("spark-data.sh release");
    expect(waitsTransitivelyFor(current, "spark-data-volume", `nodes-${node}-instance`)).toBe(false);
  });

  test("no other node's replacement touches the dataset", () => {
    for (const node of Object.keys(nodesOf(current)).filter((n) => n !== masterNode(current))) {
      const plan = replacementPlan(current, node);
      for (const name of ["spark-data-volume", "spark-data-attachment", "spark-data-mount"]) {
        expect(plan.replaced).not.toContain(name);
      }
    }
  });
});

describe("destroy", () => {
  test("the volume is neither protected nor retained; the release runs on the master's node, after the master's service is gone", () => {
    const volume = named(current, "spark-data-volume");
    expect(volume.options).toMatchObject({ protect: false, retainOnDelete: false });
    const step = named(current, "spark-data-mount");
    expect(scriptAndAction(String(step.inputs.delete))).toBe("spark-data.sh release");
    // deletes run in reverse dependency order: the service and the label go first
    expect(waitsFor(current, "spark-master", "spark-data-mount")).toBe(true);
  });
});

describe("snapshots on the current stack", () => {
  test("the DLM policy targets the dataset's volume by its tag; no policy without snapshots", () => {
    const policies = ofType(snapshotted, DLM_POLICY);
    expect(policies).toHaveLength(1);
    const details = policies[0].inputs.policyDetails as {
      targetTags: Record<string, string>;
      schedules: { retainRule: { count: number } }[];
    };
    const volumeTags = named(snapshotted, "spark-data-volume").inputs.tags as Record<string, string>;
    expect(details.targetTags).toEqual({ [SPARK_DATA_TAG]: volumeTags[SPARK_DATA_TAG] });
    expect(details.schedules[0].retainRule.count).toBe(5);
    expect(ofType(current, DLM_POLICY)).toEqual([]);
    expect(ofType(snapshotted, TYPES.command).filter((c) => /\/flocker-[a-z-]+\.sh/.test(String(c.inputs.create)))).toEqual([]);
  });
});
