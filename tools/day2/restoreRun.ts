/**
 * The part of `npm run restore` that changes things, once every check has passed: the restore
 * volume's life (tools/day2/restoreVolume.ts) around the node script's actions (scripts/dataset-restore.sh)
 * over ssh, the clean-up that runs whatever fails, and the report of what state is left.
 */
import * as os from "os";
import { sparkDataDeviceById } from "../../lib/sparkData";
import type { NodeOutput } from "../../lib/stackOutputs";
import { EXIT_FAILED, EXIT_OK } from "../common/cli";
import {
  RESTORE_DEVICE,
  RESTORE_DEVICE_ON_NODE,
  RESTORE_VOLUME_TAG,
  attachRestoreVolume,
  createRestoreVolume,
  deleteRestoreVolume,
  deleteVolumeCommand,
  detachRestoreVolume,
  waitUntilAvailable,
  type DatasetTag,
  type Ec2,
  type NodeInstance,
  type Snapshot,
} from "./restoreVolume";
import { createPreRestoreSnapshot, findDatasetVolume, waitUntilSnapshotCompleted } from "./restoreSnapshot";
import { withoutPulumiPassphrase } from "../common/childEnv";
import { deployedScriptCommand, sshCommand, type AccessDeps, type AccessOutputs, type TemporaryKey } from "../common/stackAccess";

/** The service that mounts the Spark dataset (components/spark.ts; tests/restore.test.ts checks it against the program). */
export const SPARK_MASTER_SERVICE = "spark-master";
/** The node script (the repository's copy is what `pulumi up` put on every node). */
const RESTORE_SCRIPT = "dataset-restore.sh";
/** Where the restore volume is mounted on the node, read-only, for the copy. */
const MOUNT_POINT = "/mnt/swarm-flocker-restore";
/** The remote wrapper's exit code when the node has no dataset-restore.sh, and the copy's "did nothing". */
const DID_NOTHING = 3;
/** ssh's own exit code for a connection it could not make. */
export const SSH_FAILED = 255;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export interface Request {
  readonly stack: string;
  readonly snapshotId: string;
  readonly dataset: string;
  readonly yes: boolean;
  readonly keepVolume: boolean;
}

/**
 * The dataset as each platform keeps it: a Flocker dataset (book) is the whole file system of a
 * volume Flocker made, reached through the flocker volume driver; the Spark dataset of the current
 * platform is the `data` directory of the stack's own volume, reached through the `spark` volume of
 * the local driver bound to it (docs/storage.md).
 */
export interface DatasetKind {
  /** The tag that names the dataset on its volume and snapshots. */
  readonly tag: DatasetTag;
  /** The Docker volume driver of the dataset on the master's node. */
  readonly driver: "flocker" | "local";
  /** The dataset's live volume when the stack knows it; otherwise the one volume with its tag. */
  readonly volumeId?: string;
  /** Where the dataset's files are on a volume made from its snapshot: its root ("") or a directory. */
  readonly subdir: string;
}

/** The dataset's id and where the restore runs. */
export interface Target {
  /** The dataset's tag value (what the snapshots are checked against). */
  readonly datasetId: string;
  readonly kind: DatasetKind;
  readonly nodeName: string;
  readonly node: NodeOutput;
  /** Swarm managers, in the order they are asked to scale the master. */
  readonly managers: readonly string[];
}

/** Everything one restore needs once the checks have passed. */
export interface Run {
  readonly request: Request;
  readonly deps: AccessDeps;
  readonly outputs: AccessOutputs;
  readonly target: Target;
  readonly ec2: Ec2;
  readonly instance: NodeInstance;
  readonly snapshot: Snapshot;
  /** An image already on the node (the Spark master's): the copy pulls nothing. */
  readonly copyImage: string;
  readonly key: TemporaryKey;
}

/** Where things stand, for the clean-up and the report. */
interface RestoreState {
  /** The snapshot of the dataset as it was, taken first; set once it is completed. */
  preRestoreSnapshot?: string;
  volumeId?: string;
  attachRequested: boolean;
  mountRequested: boolean;
  unmounted: boolean;
  volume: "none" | "attached" | "detached" | "deleted";
  master?: { manager: string; previous: number; restored: boolean };
  /** "partial": the copy stopped without saying where; the live files change only in its last step, the switch. */
  dataset: "unchanged" | "replaced" | "partial";
}

class StepFailed extends Error {}

function say(run: Run, text: string): void {
  run.deps.stdout(`restore: ${text}\n`);
}

/** The deployed node script, as root, with `env`. */
function remoteScript(run: Run, action: string, env: Readonly<Record<string, string>>): string[] {
  return deployedScriptCommand({
    sshUser: run.outputs.sshUser,
    script: RESTORE_SCRIPT,
    action,
    env,
    stack: run.request.stack,
    missingExit: DID_NOTHING,
  });
}

function sshTo(run: Run, nodeName: string, action: string, env: Readonly<Record<string, string>>): string[] {
  return sshCommand(run.key, run.outputs.sshUser, run.outputs.nodes[nodeName].publicIp, remoteScript(run, action, env));
}

/**
 * How the master's node sees the restore volume: on Xen (Flocker's instances) as RESTORE_DEVICE's
 * xvd name; on Nitro by its NVMe serial, known once the volume exists.
 */
function nodeDevice(run: Run, volumeId: string | undefined): string | undefined {
  if (run.target.kind.driver === "flocker") return RESTORE_DEVICE_ON_NODE;
  return volumeId === undefined ? undefined : sparkDataDeviceById(volumeId);
}

/** What the master's node gets for check, mount and copy. */
function nodeEnv(run: Run, volumeId?: string): Record<string, string> {
  const device = nodeDevice(run, volumeId);
  const { driver, subdir } = run.target.kind;
  return {
    DATASET: run.request.dataset,
    DATASET_DRIVER: driver,
    COPY_IMAGE: run.copyImage,
    ...(device === undefined ? {} : { DEVICE: device }),
    MOUNT_POINT,
    ...(subdir === "" ? {} : { SOURCE_SUBDIR: subdir }),
  };
}

/** Where, on the dataset, the copy is written and the previous files are put aside (scripts/dataset-restore.sh). */
export function restoreDirectories(source: string, preRestoreSnapshot: string): { copy: string; aside: string } {
  return { copy: `.restore-${source}`, aside: `.pre-restore-${preRestoreSnapshot}` };
}

/** How the operator undoes the restore: another restore, from the snapshot it took first. */
function undoCommand(run: Run, preRestoreSnapshot: string): string {
  return `npm run restore -- --stack ${run.request.stack} --dataset ${run.request.dataset} --snapshot ${preRestoreSnapshot}`;
}

/** Runs an action of the node script on `nodeName`, its output on the operator's terminal; its exit code. */
function onNode(run: Run, nodeName: string, action: string, env: Readonly<Record<string, string>>): number {
  return run.deps.interact(sshTo(run, nodeName, action, env));
}

/** The same on the first manager that answers over ssh, `first` first; stdout is captured. */
function onManager(run: Run, action: string, env: Readonly<Record<string, string>>, first?: string) {
  const order = first ? [first, ...run.target.managers.filter((m) => m !== first)] : run.target.managers;
  let code = SSH_FAILED;
  for (const manager of order) {
    const result = run.deps.capture(sshTo(run, manager, action, env), withoutPulumiPassphrase(run.deps.env));
    run.deps.stderr(result.stderr);
    code = result.status;
    if (code !== SSH_FAILED) return { manager, code, stdout: result.stdout };
    const next = manager !== order.at(-1) ? "; trying the next manager" : "";
    run.deps.stderr(`restore: ssh to ${manager} (${run.outputs.nodes[manager].publicIp}) failed${next}.\n`);
  }
  return { manager: undefined, code, stdout: "" };
}

/** The read-only check on the master's node, before anything changes; its exit code. */
export function checkNode(run: Run): number {
  say(
    run,
    `checking ${run.target.nodeName} (dataset ${run.request.dataset}, image ${run.copyImage}${run.target.kind.driver === "flocker" ? `, ${RESTORE_DEVICE_ON_NODE} free` : ""})`,
  );
  return onNode(run, run.target.nodeName, "check", nodeEnv(run));
}

/** The steps that change things, in order; throws at the first that fails or after a signal. */
async function restoreSteps(run: Run, state: RestoreState, interrupted: () => boolean): Promise<void> {
  const { ec2, request, target, instance } = run;
  const checkpoint = () => {
    if (interrupted()) throw new StepFailed("stopped before the next step");
  };
  // Before anything else changes: what the dataset holds now, restorable with this same tool.
  const liveVolume = target.kind.volumeId ?? (await findDatasetVolume(ec2, target.kind.tag));
  say(run, `snapshotting the dataset's volume ${liveVolume} first, so that this restore can be undone`);
  const preRestore = await createPreRestoreSnapshot(ec2, {
    volumeId: liveVolume,
    tag: target.kind.tag,
    stack: request.stack,
    dataset: request.dataset,
    source: request.snapshotId,
  });
  say(run, `snapshot ${preRestore} started; waiting until it is completed`);
  await waitUntilSnapshotCompleted(ec2, preRestore);
  state.preRestoreSnapshot = preRestore;
  say(run, `snapshot ${preRestore} holds the dataset as it was: ${undoCommand(run, preRestore)} undoes this restore`);
  checkpoint();
  say(run, `creating an encrypted volume from ${request.snapshotId} in ${instance.zone}`);
  state.volumeId = await createRestoreVolume(ec2, {
    snapshotId: request.snapshotId,
    zone: instance.zone,
    stack: request.stack,
    dataset: request.dataset,
  });
  await waitUntilAvailable(ec2, state.volumeId, "created");
  checkpoint();
  say(run, `attaching ${state.volumeId} to ${target.nodeName} (${instance.instanceId}) at ${RESTORE_DEVICE}`);
  state.attachRequested = true;
  await attachRestoreVolume(ec2, state.volumeId, instance.instanceId);
  state.volume = "attached";
  checkpoint();

  say(run, `mounting it read-only at ${MOUNT_POINT} on ${target.nodeName}`);
  state.mountRequested = true;
  const mounted = onNode(run, target.nodeName, "mount", { ...nodeEnv(run, state.volumeId), VOLUME_ID: state.volumeId });
  if (mounted !== 0)
    throw new StepFailed(`mounting the restore volume on ${target.nodeName} failed (exit ${mounted}, see above)`);
  checkpoint();

  say(run, `scaling ${SPARK_MASTER_SERVICE} to 0`);
  const stopped = onManager(run, "stop-master", { SERVICE_NAME: SPARK_MASTER_SERVICE });
  // The script prints the replicas before it changes anything: known, they are brought back.
  const previous = /^(\d+)$/m.exec(stopped.stdout)?.[1];
  if (stopped.manager !== undefined && previous !== undefined) {
    state.master = { manager: stopped.manager, previous: Number(previous), restored: false };
  }
  if (stopped.code !== 0) {
    throw new StepFailed(
      stopped.manager === undefined
        ? `no manager answered over ssh (${target.managers.join(", ")}), so ${SPARK_MASTER_SERVICE} could not be stopped`
        : `stopping ${SPARK_MASTER_SERVICE} on ${stopped.manager} failed (exit ${stopped.code}, see above)`,
    );
  }
  if (state.master?.previous === 0) say(run, `${SPARK_MASTER_SERVICE} had 0 replicas before the restore: it stays at 0`);
  checkpoint();

  const dirs = restoreDirectories(request.snapshotId, preRestore);
  say(
    run,
    `copying the snapshot's files into ${dirs.copy}/ on dataset ${request.dataset} on ${target.nodeName}, checking the copy, then switching: its present files go to ${dirs.aside}/ (a big dataset takes a while)`,
  );
  const copied = onNode(run, target.nodeName, "copy", { ...nodeEnv(run), COPY_DIR: dirs.copy, ASIDE_DIR: dirs.aside });
  if (copied === DID_NOTHING) throw new StepFailed(`the copy did not complete, so nothing was switched (see above)`);
  if (copied !== 0) {
    state.dataset = "partial";
    throw new StepFailed(`the copy on ${target.nodeName} stopped before it said it was done (exit ${copied}, see above)`);
  }
  state.dataset = "replaced";
}

/**
 * Puts back what the steps changed, as far as it can: the copy stopped and the volume unmounted on
 * the node (before the master may write again), the master's replicas, the volume detached and
 * deleted (kept with --keep-volume). Returns what it could not do.
 */
async function cleanUp(run: Run, state: RestoreState): Promise<string[]> {
  const problems: string[] = [];
  const { ec2, request, target } = run;
  if (state.mountRequested) {
    const code = onNode(run, target.nodeName, "unmount", { MOUNT_POINT });
    if (code === 0) state.unmounted = true;
    else problems.push(`unmounting ${MOUNT_POINT} on ${target.nodeName} failed (exit ${code}, see above)`);
  }
  if (state.master && state.master.previous > 0) {
    say(run, `scaling ${SPARK_MASTER_SERVICE} back to ${state.master.previous}`);
    const env = { SERVICE_NAME: SPARK_MASTER_SERVICE, REPLICAS: String(state.master.previous) };
    const started = onManager(run, "start-master", env, state.master.manager);
    if (started.code === 0) state.master.restored = true;
    else
      problems.push(`scaling ${SPARK_MASTER_SERVICE} back to ${state.master.previous} failed (exit ${started.code}, see above)`);
  } else if (state.master) {
    state.master.restored = true;
  }
  if (state.volumeId === undefined) return problems;
  if (state.mountRequested && !state.unmounted) {
    problems.push(`${state.volumeId} is not detached: it may still be mounted on ${target.nodeName}`);
    return problems;
  }
  try {
    if (state.attachRequested) {
      say(run, `detaching ${state.volumeId}`);
      await detachRestoreVolume(ec2, state.volumeId);
    } else {
      await waitUntilAvailable(ec2, state.volumeId, "created");
    }
    state.volume = "detached";
    if (!request.keepVolume) {
      say(run, `deleting ${state.volumeId}`);
      await deleteRestoreVolume(ec2, state.volumeId);
      state.volume = "deleted";
    }
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  return problems;
}

/** The state lines of the report: the dataset, the master, the restore volume. */
function stateReport(run: Run, state: RestoreState): string[] {
  const { request, target, ec2 } = run;
  const pre = state.preRestoreSnapshot;
  const dirs = pre === undefined ? undefined : restoreDirectories(request.snapshotId, pre);
  const dataset = {
    unchanged: `dataset ${request.dataset}: its files unchanged${dirs ? ` (a partial copy may be left in ${dirs.copy}/; the next restore from ${request.snapshotId} replaces it)` : ""}`,
    replaced: `dataset ${request.dataset}: holds the files of ${request.snapshotId}; its previous files are kept in ${dirs?.aside}/ until you remove them (docs/operations.md, "Snapshots and restoring a dataset")`,
    partial: `dataset ${request.dataset}: its files are unchanged unless the copy had reached the switch: then its previous files are in ${dirs?.aside}/ or still in place, the copy's in ${dirs?.copy}/ or already in place (the node's message above says which); nothing was deleted`,
  }[state.dataset];
  const snapshot =
    pre === undefined
      ? "pre-restore snapshot: none completed (nothing was changed before it)"
      : `pre-restore snapshot ${pre}: the dataset as it was before this restore; undo with ${undoCommand(run, pre)}`;
  let master: string;
  if (state.master === undefined) master = `${SPARK_MASTER_SERVICE}: not stopped`;
  else if (state.master.restored) master = `${SPARK_MASTER_SERVICE}: ${state.master.previous} replica(s), as before`;
  else {
    const scale = `docker service scale ${SPARK_MASTER_SERVICE}=${state.master.previous}`;
    master = `${SPARK_MASTER_SERVICE}: still at 0 replicas: npm run ssh -- --stack ${request.stack} ${target.managers[0]} -- ${scale}`;
  }
  const id = state.volumeId;
  let volume: string;
  if (id === undefined) volume = "restore volume: none was made";
  else if (state.volume === "deleted") volume = `restore volume ${id}: deleted`;
  else if (state.volume === "detached" && request.keepVolume) {
    volume = `restore volume ${id}: kept, detached (--keep-volume); delete it with ${deleteVolumeCommand(ec2.region, id)}`;
  } else if (state.volume === "attached") {
    const mounted = state.unmounted ? "" : ` and maybe mounted at ${MOUNT_POINT}`;
    volume = `restore volume ${id} (tagged ${RESTORE_VOLUME_TAG}=${request.stack}): still attached to ${target.nodeName} at ${RESTORE_DEVICE}${mounted}: unmount it, then aws ec2 detach-volume --region ${ec2.region} --volume-id ${id} and ${deleteVolumeCommand(ec2.region, id)}`;
  } else {
    volume = `restore volume ${id} (tagged ${RESTORE_VOLUME_TAG}=${request.stack}): left behind: ${deleteVolumeCommand(ec2.region, id)}`;
  }
  return [dataset, master, volume, snapshot];
}

/**
 * Ctrl-C, TERM and HUP while the tool holds the key: before anything changes they end the tool
 * (the key removed); once things change the first one stops the steps and lets the clean-up put
 * things back, a second one leaves them as they are and says so.
 */
export class Interrupts {
  private count = 0;
  private report: (() => string[]) | undefined;
  private readonly listener = (signal: NodeJS.Signals) => this.received(signal);

  constructor(
    private readonly key: TemporaryKey,
    private readonly stderr: (text: string) => void,
  ) {
    for (const signal of SIGNALS) process.on(signal, this.listener);
  }

  get requested(): boolean {
    return this.count > 0;
  }

  /** From now on a signal stops the steps instead of the tool; `report` says where things stand. */
  changing(report: () => string[]): void {
    this.report = report;
  }

  dispose(): void {
    for (const signal of SIGNALS) process.removeListener(signal, this.listener);
  }

  private received(signal: NodeJS.Signals): void {
    this.count += 1;
    if (this.report !== undefined && this.count === 1) {
      this.stderr(
        `restore: ${signal}: stopping, then putting things back (master, restore volume); ${signal} again leaves them as they are.\n`,
      );
      return;
    }
    if (this.report !== undefined) {
      this.stderr(
        ["restore: stopped before putting things back. State now:", ...this.report().map((l) => `  ${l}`), ""].join("\n"),
      );
    }
    this.key.remove();
    this.dispose();
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  }
}

/** Runs the steps, then the clean-up whatever happened; prints the outcome; the tool's exit code. */
export async function executeRestore(run: Run, interrupts: Interrupts): Promise<number> {
  const state: RestoreState = {
    attachRequested: false,
    mountRequested: false,
    unmounted: false,
    volume: "none",
    dataset: "unchanged",
  };
  interrupts.changing(() => stateReport(run, state));
  let failure: string | undefined;
  try {
    await restoreSteps(run, state, () => interrupts.requested);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    // A Ctrl-C also ends the ssh or aws child the step waited for: let its listener run first.
    await new Promise((resolve) => setImmediate(resolve));
    if (interrupts.requested) failure = `interrupted: ${failure}`;
  }
  const problems = await cleanUp(run, state);
  const { request } = run;
  if (failure === undefined && problems.length === 0) {
    const [dataset, , volume, snapshot] = stateReport(run, state);
    say(
      run,
      `done: dataset ${request.dataset} of stack ${request.stack} holds the files of ${request.snapshotId} (taken ${run.snapshot.startTime}); ${SPARK_MASTER_SERVICE} runs again; ${volume}`,
    );
    say(run, dataset);
    say(run, snapshot);
    return EXIT_OK;
  }
  const lines = [
    failure !== undefined ? `restore failed: ${failure}` : "restore: the dataset was restored, but putting things back failed",
    ...problems.map((p) => `  also: ${p}`),
    "State now:",
    ...stateReport(run, state).map((l) => `  ${l}`),
    "",
  ];
  run.deps.stderr(lines.join("\n"));
  return EXIT_FAILED;
}
