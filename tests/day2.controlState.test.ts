/**
 * Day 2 under mocks: the Flocker control service's state on its own EBS volume
 * (components/flockerControlState.ts). The volume's life is the cluster's; its attachment and its
 * mount step follow the control node's instance, so a replaced control node mounts the same state.
 * Also: the snapshot policy selects the volume, and Flocker's access key cannot touch it.
 *
 * The replacement rules read here are the providers': an `ec2.VolumeAttachment` is replaced when
 * its `instanceId` changes (ForceNew in terraform-provider-aws ebs_volume_attachment.go), a
 * `remote.Command` when one of its triggers does; a resource none of whose inputs come from the
 * instance is not touched by the instance's replacement.
 */
import type { ProgramRun, RecordedResource } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import { CONTROL_STATE_TAG } from "../lib/flockerControlState";
import { IamRequest, IamStatement, isAllowed } from "./helpers/iamEval";
import { runIsolated } from "./helpers/isolatedRun";
import { createOf, envOf, named, ofType, waitsFor, waitsTransitivelyFor } from "./helpers/program";

const VOLUME = "aws:ebs/volume:Volume";
const ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment";
const DLM_POLICY = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
const FLOCKER_CLUSTER_TAG = "flocker-cluster-id";
/** The mock account (tools/plan/mockRuntime.ts, getCallerIdentity). */
const ACCOUNT = "123456789012";

let dev: ProgramRun;
let prod: ProgramRun;
let larger: ProgramRun;

beforeAll(async () => {
  dev = await runIsolated("dev");
  prod = await runIsolated("prod");
  larger = await runIsolated("dev", { flockerControlVolumeSizeGiB: "8" });
});

const volumeOf = (run: ProgramRun) => named(run, "flocker-control-state-volume");
const attachmentOf = (run: ProgramRun) => named(run, "flocker-control-state-attachment");
const tagsOf = (resource: RecordedResource) => resource.inputs.tags as Record<string, string>;
const clusterIdOf = (run: ProgramRun) =>
  (named(run, "pki-ca-cert").inputs.subject as { organizationalUnit: string }).organizationalUnit;
/** The node that runs the control service (aws-104 in the book's layout, aws-106 with prod's five managers). */
const controlNode = (run: ProgramRun) => {
  const steps = run.resources.filter((r) => /^flocker-[\w-]+-control$/.test(r.name) && r.name !== "flocker-control-state-mount");
  if (steps.length !== 1) throw new Error(`expected one control step, found ${steps.map((r) => r.name).join(", ")}`);
  return steps[0].name.replace(/^flocker-|-control$/g, "");
};
/** The instance id a node's steps carry: the trigger of its copy of the scripts. */
const instanceIdOf = (run: ProgramRun, node: string) =>
  String((named(run, `nodes-${node}-scripts`).inputs.triggers as string[])[0]);

describe("the volume: the cluster's, not the control node's", () => {
  test.each([
    ["dev", () => dev, "us-east-1a"],
    ["prod", () => prod, "us-west-2b"],
  ])("%s: one encrypted gp3 volume of 4 GiB in the cluster's zone", (_stack, run, zone) => {
    expect(ofType(run(), VOLUME)).toHaveLength(1);
    expect(volumeOf(run()).inputs).toMatchObject({ encrypted: true, type: "gp3", size: 4, availabilityZone: zone });
    // the nodes' zone: the attachment would fail across zones
    expect(named(run(), "network-subnet").inputs.availabilityZone).toBe(zone);
  });

  test("its size is flockerControlVolumeSizeGiB", () => {
    expect(volumeOf(larger).inputs.size).toBe(8);
  });

  test("tagged Name/Stack/Cluster and with its own control-state tag, never with Flocker's cluster tag", () => {
    const tags = tagsOf(volumeOf(prod));
    expect(tags).toEqual({
      Project: "swarm-flocker",
      Stack: "prod",
      Cluster: "spark-prod",
      Name: "flocker-control-state-volume",
      [CONTROL_STATE_TAG]: clusterIdOf(prod),
    });
    // Flocker takes every volume carrying flocker-cluster-id for one of its datasets (ebs.py list_volumes).
    expect(Object.keys(tags)).not.toContain(FLOCKER_CLUSTER_TAG);
    // ... which the instances carry (its IAM policy checks it)
    expect(tagsOf(named(prod, `nodes-${controlNode(prod)}-instance`))[FLOCKER_CLUSTER_TAG]).toBe(clusterIdOf(prod));
  });

  test("a destroy does not fail while the terminating node still holds it: its delete retries for 20 minutes", () => {
    expect(volumeOf(dev).options.customTimeouts?.delete).toBe("20m");
    expect(volumeOf(dev).options.protect).toBe(false);
  });
});

describe("the attachment follows the control node's instance", () => {
  test("the volume on aws-104 as /dev/sdz, only forgotten on delete (the instance's termination detaches it)", () => {
    expect(ofType(dev, ATTACHMENT)).toHaveLength(1);
    const attachment = attachmentOf(dev);
    expect(attachment.inputs).toEqual({
      deviceName: "/dev/sdz",
      volumeId: envOf(createOf(dev, "flocker-control-state-mount")).CONTROL_STATE_VOLUME_ID,
      instanceId: instanceIdOf(dev, "aws-104"),
      skipDestroy: true,
    });
    // never a forced detach under a mounted file system, never a stopped control node
    expect(attachment.inputs.forceDetach).toBeUndefined();
    expect(attachment.inputs.stopInstanceBeforeDetaching).toBeUndefined();
    expect(attachment.dependencies).toEqual(
      expect.arrayContaining([volumeOf(dev).urn, named(dev, "nodes-aws-104-instance").urn]),
    );
    expect(attachment.options.deleteBeforeReplace).toBe(true);
  });

  test("/dev/sdz is the last letter Flocker's EBS driver would pick, which it skips while ours is attached", () => {
    // ebs.py _select_free_device: the first of these whose sdX or xvdX lsblk does not list
    const flockerOrder = [..."fghijklmonpqrstuvwxyz"];
    const letter = String(attachmentOf(dev).inputs.deviceName).replace("/dev/sd", "");
    expect(flockerOrder.indexOf(letter)).toBe(flockerOrder.length - 1);
    // attached with the instance, before any Flocker agent runs on it
    expect(waitsTransitivelyFor(dev, "flocker-aws-104-agents", "flocker-control-state-attachment")).toBe(true);
  });

  test("replacing aws-104's instance replaces the attachment and the mount step, never the volume", () => {
    const id = instanceIdOf(dev, "aws-104");
    const instance = named(dev, "nodes-aws-104-instance");
    const volume = volumeOf(dev);
    // the attachment's ForceNew instanceId is the instance's id
    expect(attachmentOf(dev).inputs.instanceId).toBe(id);
    // the mount step: the node's own step, its id the first (and not ignored) trigger; no delete
    const mount = named(dev, "flocker-control-state-mount");
    expect(mount.inputs.triggers).toEqual([id]);
    expect(mount.options.ignoreChanges).toEqual([]);
    expect(mount.inputs.delete).toBeUndefined();
    // the volume: nothing of the instance among its inputs or what it waits for
    expect(JSON.stringify(volume.inputs)).not.toContain(id);
    expect(waitsTransitivelyFor(dev, "flocker-control-state-volume", "nodes-aws-104-instance")).toBe(false);
    expect(volume.dependencies).not.toContain(instance.urn);
    // no other node's replacement touches any of them
    for (const node of ["aws-101", "aws-105", "aws-110"]) {
      const other = instanceIdOf(dev, node);
      for (const resource of [volume, attachmentOf(dev), mount]) expect(JSON.stringify(resource.inputs)).not.toContain(other);
    }
  });
});

describe("the mount step: after Docker, before the control service, in both modes", () => {
  test("dev (containers): after Docker and the attachment; the control container bind-mounts the state directory", () => {
    const mount = "flocker-control-state-mount";
    expect(createOf(dev, mount)).toMatch(/\/scripts\/flocker-control-volume\.sh$/);
    expect(envOf(createOf(dev, mount))).toMatchObject({
      CONTROL_STATE_DEVICE: "/dev/sdz",
      CONTROL_STATE_MOUNT: "/var/lib/flocker-control",
      CONTROL_STATE_DIR: "/var/lib/flocker-control/state",
      FLOCKER_INSTALL: "containers",
    });
    expect((named(dev, mount).inputs.connection as { host: string }).host).toBe(
      (named(dev, "flocker-aws-104-control").inputs.connection as { host: string }).host,
    );
    expect(waitsFor(dev, mount, "nodes-aws-104-docker")).toBe(true);
    expect(waitsFor(dev, mount, "flocker-control-state-attachment")).toBe(true);
    expect(waitsFor(dev, "flocker-aws-104-control", mount)).toBe(true);
    // the images' pull runs beside it, not before it
    expect(waitsTransitivelyFor(dev, mount, "images-aws-104-flocker")).toBe(false);
    expect(envOf(createOf(dev, "flocker-aws-104-control")).CONTROL_STATE_DIR).toBe("/var/lib/flocker-control/state");
  });

  test("prod (packages): after the packages' install (which may start flocker-control), before the control unit", () => {
    const mount = "flocker-control-state-mount";
    const node = controlNode(prod);
    expect(node).toBe("aws-106");
    expect(attachmentOf(prod).inputs.instanceId).toBe(instanceIdOf(prod, node));
    expect(envOf(createOf(prod, mount)).FLOCKER_INSTALL).toBe("packages");
    expect(waitsFor(prod, mount, `flocker-${node}-install`)).toBe(true);
    expect(waitsTransitivelyFor(prod, mount, `nodes-${node}-docker`)).toBe(true);
    expect(waitsFor(prod, `flocker-${node}-control`, mount)).toBe(true);
    expect(createOf(prod, `flocker-${node}-control`)).toMatch(/flocker-services\.sh control$/);
  });

  test("the services steps have no delete in either mode (a switch of flockerInstall re-runs their create)", () => {
    for (const run of [dev, prod]) {
      const steps = run.resources.filter((r) => /^flocker-aws-\d+-(control|agents)$/.test(r.name));
      expect(steps.length).toBeGreaterThan(10);
      expect(steps.filter((step) => step.inputs.delete !== undefined).map((step) => step.name)).toEqual([]);
    }
  });
});

describe("snapshots select the control-state volume", () => {
  test("prod: the one DLM policy targets Flocker's datasets and the control-state volume (any of its target tags)", () => {
    const policies = ofType(prod, DLM_POLICY);
    expect(policies).toHaveLength(1);
    const targetTags = (policies[0].inputs.policyDetails as { targetTags: Record<string, string> }).targetTags;
    expect(targetTags).toEqual({ [FLOCKER_CLUSTER_TAG]: clusterIdOf(prod), [CONTROL_STATE_TAG]: clusterIdOf(prod) });
    // DLM selects a volume that carries any of the target tags
    const volumeTags = tagsOf(volumeOf(prod));
    expect(Object.entries(targetTags).filter(([key, value]) => volumeTags[key] === value)).toEqual([
      [CONTROL_STATE_TAG, clusterIdOf(prod)],
    ]);
    expect(policies[0].inputs.description).toBe("Snapshots of the Flocker datasets and control state of spark-prod");
  });
});

describe("Flocker's access key cannot touch the control-state volume", () => {
  const region = readStackConfig("prod")["aws:region"];
  const arn = (resource: string) => `arn:aws:ec2:${region}:${ACCOUNT}:${resource}`;
  let statements: readonly IamStatement[];
  let clusterId: string;
  /** A resource with its tags as IAM's condition context (ec2:ResourceTag/<key>). */
  const tagged = (resource: string, tags: Record<string, string>) => ({
    arn: arn(resource),
    context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`ec2:ResourceTag/${k}`, v])),
  });
  const controlVolume = () => tagged("volume/vol-0c0ffee0c0ffee000", tagsOf(volumeOf(prod)));
  const controlInstance = () =>
    tagged("instance/i-0c0ffee0c0ffee000", tagsOf(named(prod, `nodes-${controlNode(prod)}-instance`)));
  /** Flocker's one CreateTags call after CreateVolume (ebs.py create_volume_with_profile). */
  const claim = (target: ReturnType<typeof tagged>): IamRequest => {
    const tags = {
      "flocker-metadata-version": "1",
      [FLOCKER_CLUSTER_TAG]: clusterId,
      "flocker-dataset-id": "d-1",
      Name: "flocker-d-1",
    };
    const context: Record<string, string | string[]> = { "aws:TagKeys": Object.keys(tags) };
    for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
    return { action: "ec2:CreateTags", resources: [target], context };
  };

  beforeAll(() => {
    // the policy as the program registers it for the Flocker user
    statements = JSON.parse(String(named(prod, "storage-flocker-policy").inputs.policy)).Statement as IamStatement[];
    clusterId = clusterIdOf(prod);
  });

  test("no detach, delete or attach of it, even on the control node", () => {
    for (const action of ["ec2:DetachVolume", "ec2:DeleteVolume", "ec2:AttachVolume"]) {
      expect(isAllowed(statements, { action, resources: [controlVolume(), controlInstance()] })).toBe(false);
    }
  });

  test("no claiming it into the cluster with Flocker's tags (after which it could)", () => {
    expect(isAllowed(statements, claim(controlVolume()))).toBe(false);
  });

  test("while Flocker's own calls stay allowed: tagging a new volume, deleting a dataset's volume", () => {
    expect(isAllowed(statements, claim(tagged("volume/vol-new", {})))).toBe(true);
    const dataset = tagged("volume/vol-dataset", { [FLOCKER_CLUSTER_TAG]: clusterId, "flocker-dataset-id": "d-1" });
    expect(isAllowed(statements, { action: "ec2:DeleteVolume", resources: [dataset] })).toBe(true);
    expect(isAllowed(statements, { action: "ec2:AttachVolume", resources: [dataset, controlInstance()] })).toBe(true);
  });
});
