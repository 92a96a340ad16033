/**
 * The current platform's Spark dataset (components/sparkData.ts) under mocks, on its own: a Spark
 * master's node as the day-2 helpers know it (tests/fixtures/sparkData/program.ts) and the
 * component. The volume, its attachment and the data step; what replacing the master's node does
 * to them (the engine's rules, tests/helpers/replacementPlan.ts); the refusal, before any resource,
 * of a configuration that would lose the deployed volume.
 *
 * The replacement rules read here are the providers': an `ec2.VolumeAttachment` is replaced when
 * its `instanceId`, `volumeId` or `deviceName` changes (ForceNew in terraform-provider-aws
 * ebs_volume_attachment.go), a `remote.Command` when one of its triggers does; a resource none of
 * whose inputs come from the instance is not touched by the instance's replacement.
 */
import * as path from "path";
import { SPARK_DATA_TAG, sparkDataDeviceById, sparkDataRefusal } from "../lib/sparkData";
import type { InvokeAnswer, ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { createOf, envOf, named, ofType, waitsFor, waitsTransitivelyFor } from "./helpers/program";
import { instanceIdOf, replacementPlan } from "./helpers/replacementPlan";

const PROGRAM = path.join(__dirname, "fixtures/sparkData/program.ts");
const VOLUME = "aws:ebs/volume:Volume";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";
const NODE = "aws-105";

interface Attempt {
  readonly run?: ProgramRun;
  readonly error?: Error;
  readonly registered: RecordedResource[];
}

/** The fixture program under the mock runtime, in a fresh module registry. */
async function attempt(config: Record<string, string> = {}, invokes: Record<string, InvokeAnswer> = {}): Promise<Attempt> {
  const registered: RecordedResource[] = [];
  let run: ProgramRun | undefined;
  let error: Error | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    const flat: Record<string, string> = { "aws:region": "us-east-1" };
    for (const [key, value] of Object.entries(config)) flat[`swarm-flocker:${key}`] = value;
    try {
      run = await runProgram({ stack: "current", config: flat, program: PROGRAM, record: registered, invokes });
    } catch (caught) {
      error = caught as Error;
    }
  });
  return { run, error, registered };
}

/** AWS's answers for a stack whose dataset volume exists: one volume with these attributes. */
function deployed(volume: { availabilityZone: string; size: number; encrypted?: boolean }): Record<string, InvokeAnswer> {
  const volumeId = "vol-0deployed0000000a";
  return {
    "aws:ebs/getEbsVolumes:getEbsVolumes": (inputs) => {
      const filters = inputs.filters as { name: string; values: string[] }[];
      // The stack's own volume: its dataset tag, project and stack.
      expect(filters).toEqual(
        expect.arrayContaining([
          { name: `tag:${SPARK_DATA_TAG}`, values: ["spark-current"] },
          { name: "tag:Project", values: ["swarm-flocker"] },
          { name: "tag:Stack", values: ["current"] },
        ]),
      );
      return { id: "us-east-1", ids: [volumeId] };
    },
    "aws:ebs/getVolume:getVolume": () => ({
      id: volumeId,
      volumeId,
      availabilityZone: volume.availabilityZone,
      size: volume.size,
      encrypted: volume.encrypted ?? true,
      type: "gp3",
    }),
  };
}

let first: ProgramRun;
let larger: ProgramRun;
let snapshotted: ProgramRun;

beforeAll(async () => {
  // One at a time: the runtime is process-global.
  const runs = [await attempt(), await attempt({ sizeGiB: "200" }), await attempt({ snapshots: "true" })];
  [first, larger, snapshotted] = runs.map((a) => {
    if (a.error) throw a.error;
    return a.run!;
  });
});

const volumeOf = (run: ProgramRun) => named(run, "spark-data-volume");
const attachmentOf = (run: ProgramRun) => named(run, "spark-data-attachment");
const stepOf = (run: ProgramRun) => named(run, "spark-data-mount");

describe("the volume: the cluster's, not the master node's", () => {
  test("one encrypted gp3 volume of sparkVolumeSize in the cluster's zone, tagged for DLM and the day-2 tools", () => {
    expect(ofType(first, VOLUME)).toHaveLength(1);
    expect(volumeOf(first).inputs).toEqual({
      availabilityZone: "us-east-1a",
      size: 75,
      type: "gp3",
      encrypted: true,
      tags: {
        Project: "swarm-flocker",
        Stack: "current",
        Cluster: "spark-current",
        Name: "spark-data-volume",
        [SPARK_DATA_TAG]: "spark-current",
      },
    });
    expect(volumeOf(larger).inputs.size).toBe(200);
    // the instance's zone: an attachment across zones fails
    expect(named(first, `nodes-${NODE}-instance`).inputs.availabilityZone).toBe(volumeOf(first).inputs.availabilityZone);
  });

  test("a destroy deletes it (not protected, not retained), its delete retrying while the terminating node holds it", () => {
    expect(volumeOf(first).options).toMatchObject({ protect: false, retainOnDelete: false });
    expect(volumeOf(first).options.customTimeouts?.delete).toBe("20m");
  });

  test("under the component, with the component's type token", () => {
    const component = first.resources.find((r) => r.name === "spark-data")!;
    expect(component.type).toBe("swarm-flocker:spark:SparkData");
    for (const child of [volumeOf(first), attachmentOf(first), stepOf(first)]) expect(child.parent).toBe(component.urn);
    expect(first.outputs.volumeId).toMatch(/^vol-[0-9a-f]{17}$/);
  });
});

describe("the attachment follows the master node's instance", () => {
  test("the volume on the master's instance as /dev/sdf; only forgotten on delete; the old one goes first", () => {
    expect(ofType(first, ATTACHMENT)).toHaveLength(1);
    const attachment = attachmentOf(first);
    expect(attachment.inputs).toEqual({
      deviceName: "/dev/sdf",
      volumeId: first.outputs.volumeId,
      instanceId: instanceIdOf(first, NODE),
      skipDestroy: true,
    });
    // never a forced detach under a mounted file system, never a stopped master node
    expect(attachment.inputs.forceDetach).toBeUndefined();
    expect(attachment.inputs.stopInstanceBeforeDetaching).toBeUndefined();
    expect(attachment.options.deleteBeforeReplace).toBe(true);
    expect(attachment.dependencies).toEqual(
      expect.arrayContaining([volumeOf(first).urn, named(first, `nodes-${NODE}-instance`).urn]),
    );
  });
});

describe("the data step: spark-data.sh on the master's node", () => {
  test("create after Docker and the attachment, with the contract's environment; release as its delete", () => {
    const step = stepOf(first);
    expect(createOf(first, "spark-data-mount")).toMatch(/\/scripts\/spark-data\.sh create$/);
    expect(String(step.inputs.delete)).toMatch(/\/scripts\/spark-data\.sh release$/);
    const env = envOf(createOf(first, "spark-data-mount"));
    expect(env).toMatchObject({
      VOLUME_ID: first.outputs.volumeId,
      MOUNT_POINT: "/srv/spark-data",
      VOLUME_NAME: "spark",
      DATA_UID: "185",
    });
    // the same environment for the release
    expect(envOf(String(step.inputs.delete))).toEqual(env);
    // where the node script looks for it
    expect(sparkDataDeviceById(String(env.VOLUME_ID))).toBe(
      `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${String(env.VOLUME_ID).replace("-", "")}`,
    );
    expect((step.inputs.connection as { host: string }).host).toBe(
      (first.outputs.nodes as Record<string, { publicIp: string }>)[NODE].publicIp,
    );
    expect(waitsFor(first, "spark-data-mount", "spark-data-attachment")).toBe(true);
    expect(waitsFor(first, "spark-data-mount", `nodes-${NODE}-docker`)).toBe(true);
    expect(waitsFor(first, "spark-data-mount", `nodes-${NODE}-scripts`)).toBe(true);
  });

  test("it follows the cluster's life: a fixed first trigger, ignored; the old one's delete runs before a new create", () => {
    const step = stepOf(first);
    expect(step.inputs.triggers).toEqual(["lifecycle: cluster"]);
    expect(step.propertyDependencies?.triggers).toEqual([]);
    expect(step.options.ignoreChanges).toEqual(["triggers[0]"]);
    expect(step.options.deleteBeforeReplace).toBe(true);
  });
});

describe("replacing the Spark master's node", () => {
  test("replaces the attachment, re-runs the data step's create on the new node, never touches the volume", () => {
    const plan = replacementPlan(first, NODE);
    expect(plan.replaced).toEqual([`nodes-${NODE}-instance`, `nodes-${NODE}-scripts`, `nodes-${NODE}-docker`].sort());
    // the attachment: ForceNew on instanceId, which is the instance's id
    expect(attachmentOf(first).propertyDependencies?.instanceId).toEqual([named(first, `nodes-${NODE}-instance`).urn]);
    // the data step is not replaced, so its release never runs against the old (maybe unreachable) node
    expect(plan.deletes).toEqual({});
    expect(plan.rerun).toEqual(["spark-data-mount"]);
    // the volume: nothing of the instance among its inputs or what it waits for
    const id = instanceIdOf(first, NODE);
    expect(JSON.stringify(volumeOf(first).inputs)).not.toContain(id);
    expect(waitsTransitivelyFor(first, "spark-data-volume", `nodes-${NODE}-instance`)).toBe(false);
  });
});

describe("snapshots (components/snapshots.ts, datasets: sparkData)", () => {
  test("the DLM policy selects exactly the dataset's volume by its tag, copies the tags, keeps retainCount", () => {
    const policies = ofType(snapshotted, "aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(policies).toHaveLength(1);
    const details = policies[0].inputs.policyDetails as {
      targetTags: Record<string, string>;
      resourceTypes: string[];
      schedules: { copyTags: boolean; retainRule: { count: number }; createRule: { interval: number } }[];
    };
    expect(details.targetTags).toEqual({ [SPARK_DATA_TAG]: "spark-current" });
    expect(details.resourceTypes).toEqual(["VOLUME"]);
    // DLM selects a volume carrying any of the target tags: the dataset's volume carries this one
    const volumeTags = volumeOf(snapshotted).inputs.tags as Record<string, string>;
    expect(Object.entries(details.targetTags).every(([key, value]) => volumeTags[key] === value)).toBe(true);
    expect(details.schedules[0]).toMatchObject({ copyTags: true, retainRule: { count: 7 }, createRule: { interval: 12 } });
    expect(policies[0].inputs.description).toBe("Snapshots of the Spark dataset of spark-current");
    expect(named(snapshotted, "snapshots-dlm-role").inputs.description).toBe(
      "Data Lifecycle Manager: snapshots of the Spark dataset of spark-current",
    );
  });

  test("no Flocker tag anywhere: the current platform has no Flocker cluster", () => {
    const policy = ofType(snapshotted, "aws:dlm/lifecyclePolicy:LifecyclePolicy")[0];
    expect(JSON.stringify(policy.inputs)).not.toMatch(/flocker-cluster-id|control-state/);
    expect(ofType(first, "aws:dlm/lifecyclePolicy:LifecyclePolicy")).toEqual([]);
  });
});

describe("a deployed dataset is never replaced by surprise", () => {
  test("a first deployment (no volume carries the stack's tags) passes", () => {
    expect(ofType(first, VOLUME)).toHaveLength(1);
  });

  test("the same zone and a larger size pass: the volume grows in place", async () => {
    const result = await attempt({ sizeGiB: "100" }, deployed({ availabilityZone: "us-east-1a", size: 75 }));
    expect(result.error).toBeUndefined();
    expect(volumeOf(result.run!).inputs.size).toBe(100);
  });

  test("another zone or a smaller size: refused before any resource, naming the keys, the values and what to do", async () => {
    const result = await attempt(
      { availabilityZone: "us-east-1b", sizeGiB: "50" },
      deployed({ availabilityZone: "us-east-1a", size: 75 }),
    );
    expect(result.error?.message).toContain("The deployed Spark dataset would be lost");
    expect(result.error?.message).toContain(
      'availabilityZone: "us-east-1b" would replace the Spark dataset\'s volume vol-0deployed0000000a in us-east-1a with an empty one',
    );
    expect(result.error?.message).toContain("Keep availabilityZone us-east-1a");
    expect(result.error?.message).toContain(
      "sparkVolumeSize: 50 GiB is smaller than the deployed volume vol-0deployed0000000a (75 GiB), and EBS volumes only grow. Keep 75G or more",
    );
    expect(result.registered.filter((r) => r.custom)).toEqual([]);
  });

  test("two volumes carrying the stack's dataset tag: refused, naming both", async () => {
    const answers = {
      ...deployed({ availabilityZone: "us-east-1a", size: 75 }),
      "aws:ebs/getEbsVolumes:getEbsVolumes": () => ({ id: "us-east-1", ids: ["vol-0aaaaaaaaaaaaaaa1", "vol-0aaaaaaaaaaaaaaa2"] }),
    };
    const result = await attempt({}, answers);
    expect(result.error?.message).toContain(
      `2 volumes are tagged as the Spark dataset of stack current (${SPARK_DATA_TAG}=spark-current): vol-0aaaaaaaaaaaaaaa1, vol-0aaaaaaaaaaaaaaa2`,
    );
    expect(result.registered.filter((r) => r.custom)).toEqual([]);
  });

  test("sparkDataRefusal: an unencrypted volume under the tag is refused too; nothing deployed passes", () => {
    const planned = { availabilityZone: "us-east-1a", sizeGiB: 75 };
    expect(sparkDataRefusal(undefined, planned)).toBeUndefined();
    const same = { volumeId: "vol-1", availabilityZone: "us-east-1a", sizeGiB: 75, encrypted: true };
    expect(sparkDataRefusal(same, planned)).toBeUndefined();
    expect(sparkDataRefusal({ ...same, encrypted: false }, planned)).toContain("vol-1 is not encrypted");
  });
});
