/**
 * `npm run restore` without AWS, a cluster or the Pulumi CLI: a stub `aws` first on the tool's
 * PATH (tests/fixtures/restore/bin/aws) records every call and answers with AWS's own shapes;
 * ssh and `pulumi stack output` are the injected runners of tools/common/stackAccess.ts, which record
 * the node script's actions (scripts/dataset-restore.sh, tested under bats) and answer for them.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "shell-quote";
import { FLOCKER_CLUSTER_TAG } from "../lib/flockerIamPolicy";
import { type ProgramRun } from "../tools/plan/mockRuntime";
import { DEFAULT_DATASET, runRestore, stackSettings, type RestoreDeps } from "../tools/day2/restore";
import { SPARK_MASTER_SERVICE } from "../tools/day2/restoreRun";
import { waitUntilSnapshotCompleted } from "../tools/day2/restoreSnapshot";
import { PROJECT_ROOT, readStackConfig } from "../tools/common/stackConfig";
import { createOf, envOf, ofType, TYPES } from "./helpers/program";
import { runIsolated } from "./helpers/isolatedRun";

const STUB_BIN = path.join(__dirname, "fixtures/restore/bin");
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUtcmVzdG9yZQ\n-----END OPENSSH PRIVATE KEY-----\n";
const PASSPHRASE = "correct horse battery staple";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const DATASET_ID = "5e4a1c3b-7d2f-4c1e-9a0b-2f6d8e9c1a22";
const OTHER_DATASET_ID = "0b9f3e2a-1c4d-4e5f-8a6b-7c8d9e0f1a2b";
const SNAPSHOT = "snap-0a1b2c3d4e5f60718";
const VOLUME = "vol-0f1e2d3c4b5a69788";
/** The dataset's own volume (Flocker's), and the snapshot the restore takes of it first. */
const LIVE_VOLUME = "vol-0aaabbbcccdddeee1";
const PRE_SNAPSHOT = "snap-0123456789abcdef0";
const UNDO = `npm run restore -- --stack dev --dataset spark --snapshot ${PRE_SNAPSHOT}`;
const INSTANCE = "i-05a5b5c5d5e5f5a5b";
/** Not the stack file's zone (us-east-1a): the volume's zone must come from the instance. */
const INSTANCE_ZONE = "us-east-1b";

const OUTPUTS = {
  nodes: {
    "aws-101": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.1", privateIp: "172.31.0.10" },
    "aws-102": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.2", privateIp: "172.31.0.11" },
    "aws-103": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.3", privateIp: "172.31.0.12" },
    "aws-104": { role: "control", publicIp: "54.0.0.4", privateIp: "172.31.0.13" },
    "aws-105": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.0.5", privateIp: "172.31.0.14" },
    "aws-106": { role: "worker", swarmRole: "worker", publicIp: "54.0.0.6", privateIp: "172.31.0.15" },
  },
  sshUser: "ubuntu",
  sshPrivateKey: KEY,
  flockerControlEndpoint: "https://172.31.0.13:4523",
  flockerStatus: {
    nodes: [{ uuid: "4f2d9c1e-0000-4000-8000-000000000105", address: "172.31.0.14" }],
    datasets: [
      { datasetId: DATASET_ID, name: "spark", sizeGiB: 75, profile: "bronze", status: "attached", address: "172.31.0.14" },
      { datasetId: OTHER_DATASET_ID, name: "flocker-test", sizeGiB: 1, profile: null, status: "detached", address: null },
    ],
  },
};

/** A current stack (Pulumi.current.yaml): no Flocker, the Spark data on the stack's own volume. */
const SPARK_DATA_VOLUME = "vol-0dadadadadadadad1";
const CURRENT_OUTPUTS = {
  platform: "current",
  nodes: {
    "aws-101": { role: "manager", swarmRole: "manager", publicIp: "54.0.1.1", privateIp: "172.31.0.10" },
    "aws-104": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.1.4", privateIp: "172.31.0.14" },
  },
  sshUser: "ubuntu",
  sshPrivateKey: KEY,
  sparkDataVolumeId: SPARK_DATA_VOLUME,
};

// ------------------------------------------------------------------------------ AWS answers
function snapshotAnswer(overrides: Record<string, unknown> = {}) {
  return {
    Snapshots: [
      {
        Description: "Created for policy: policy-0c1d2e3f4a5b6c7d8 schedule: every 24 hours",
        Encrypted: true,
        OwnerId: "123456789012",
        Progress: "100%",
        SnapshotId: SNAPSHOT,
        StartTime: "2024-05-01T03:00:12.345Z",
        State: "completed",
        VolumeId: "vol-0aaabbbcccdddeee1",
        VolumeSize: 75,
        Tags: [
          { Key: "Name", Value: `flocker-${DATASET_ID}` },
          { Key: "flocker-dataset-id", Value: DATASET_ID },
          { Key: FLOCKER_CLUSTER_TAG, Value: "c1a2b3c4-d5e6-4f70-8a9b-0c1d2e3f4a5b" },
          { Key: "dlm:managed", Value: "true" },
        ],
        ...overrides,
      },
    ],
  };
}
const INSTANCES = {
  Reservations: [
    {
      Instances: [
        {
          InstanceId: INSTANCE,
          InstanceType: "t2.medium",
          Placement: { AvailabilityZone: INSTANCE_ZONE, Tenancy: "default" },
          PrivateIpAddress: "172.31.0.14",
          State: { Code: 16, Name: "running" },
        },
      ],
    },
  ],
};
const CREATED = {
  VolumeId: VOLUME,
  Size: 75,
  SnapshotId: SNAPSHOT,
  AvailabilityZone: INSTANCE_ZONE,
  State: "creating",
  Encrypted: true,
};
const volume = (state: string, attached = false) => ({
  Volumes: [
    {
      VolumeId: VOLUME,
      State: state,
      Attachments: attached ? [{ Device: "/dev/sdy", InstanceId: INSTANCE, State: "attached", VolumeId: VOLUME }] : [],
    },
  ],
});
const LIVE = {
  Volumes: [
    {
      VolumeId: LIVE_VOLUME,
      State: "in-use",
      Tags: [{ Key: "flocker-dataset-id", Value: DATASET_ID }],
      Attachments: [{ Device: "/dev/sdf", InstanceId: INSTANCE, State: "attached", VolumeId: LIVE_VOLUME }],
    },
  ],
};
const preSnapshot = (State: string, Progress: string) => ({
  Snapshots: [{ SnapshotId: PRE_SNAPSHOT, VolumeId: LIVE_VOLUME, State, Progress, VolumeSize: 75 }],
});
const ATTACHING = { Device: "/dev/sdy", InstanceId: INSTANCE, State: "attaching", VolumeId: VOLUME };
const DETACHING = { Device: "/dev/sdy", InstanceId: INSTANCE, State: "detaching", VolumeId: VOLUME };

interface Answer {
  readonly stdout?: unknown;
  readonly stderr?: string;
  readonly status?: number;
}
const awsError = (code: string, operation: string, message: string, status = 254): Answer => ({
  stderr: `\nAn error occurred (${code}) when calling the ${operation} operation: ${message}\n`,
  status,
});

// ------------------------------------------------------------------------------ the machine
interface SshCall {
  readonly host: string;
  readonly node: string;
  readonly action: string;
  readonly env: Record<string, string>;
  readonly argv: string[];
  readonly keyMode: number;
  /** How many aws calls had been made when this one ran. */
  readonly awsCallsBefore: number;
}

interface MachineOptions {
  /** The node script's exit code per action (default 0). */
  readonly exitCodes?: Partial<Record<string, number>>;
  /** The stop-master action's stdout (the replicas it had). */
  readonly previousReplicas?: string;
  readonly outputs?: { status: number; stdout: string; stderr: string };
  readonly tools?: string[];
  readonly path?: string;
  readonly confirm?: boolean | undefined;
  /** Called when an action runs, e.g. to send a signal mid-copy. */
  readonly during?: Partial<Record<string, () => void>>;
}

function machine(answers: Record<string, Answer[]>, options: MachineOptions = {}) {
  const stubDir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-aws-"));
  for (const [operation, list] of Object.entries(answers)) {
    const dir = path.join(stubDir, "answers", operation);
    fs.mkdirSync(dir, { recursive: true });
    list.forEach((answer, i) => {
      const stdout = answer.stdout === undefined ? "" : `${JSON.stringify(answer.stdout, null, 4)}\n`;
      fs.writeFileSync(path.join(dir, String(i + 1)), stdout);
      if (answer.stderr !== undefined) fs.writeFileSync(path.join(dir, `${i + 1}.stderr`), answer.stderr);
      if (answer.status !== undefined) fs.writeFileSync(path.join(dir, `${i + 1}.status`), String(answer.status));
    });
  }
  const awsCalls = (): string[][] => {
    const dir = path.join(stubDir, "calls");
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .sort()
      .map((file) => fs.readFileSync(path.join(dir, file), "utf8").split("\0").slice(0, -1));
  };
  const ssh: SshCall[] = [];
  const sleeps: number[] = [];
  const questions: string[] = [];
  let out = "";
  let err = "";
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-tmp-"));
  const byHost = Object.fromEntries(
    [...Object.entries(OUTPUTS.nodes), ...Object.entries(CURRENT_OUTPUTS.nodes)].map(([name, node]) => [node.publicIp, name]),
  );

  function remote(argv: readonly string[]): { status: number; stdout: string } {
    const keyFile = argv[argv.indexOf("-i") + 1];
    const host = argv[argv.length - 2].split("@")[1];
    const words = parse(argv[argv.length - 1]).filter((w): w is string => typeof w === "string");
    const bash = words.indexOf("bash");
    const action = words[bash + 2];
    const env = Object.fromEntries(
      words.slice(words.indexOf("env") + 1, bash).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
    );
    ssh.push({
      host,
      node: byHost[host],
      action,
      env,
      argv: [...argv],
      keyMode: fs.statSync(keyFile).mode & 0o777,
      awsCallsBefore: awsCalls().length,
    });
    options.during?.[action]?.();
    return {
      status: options.exitCodes?.[action] ?? 0,
      stdout: action === "stop-master" ? (options.previousReplicas ?? "1\n") : "",
    };
  }

  const deps: RestoreDeps = {
    env: {
      PATH: options.path ?? `${STUB_BIN}:/usr/bin:/bin`,
      AWS_STUB: stubDir,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    },
    projectBackendUrl: "file://~",
    knownStacks: ["dev", "prod", "current"],
    hasCommand: (command) => (options.tools ?? ["pulumi", "ssh"]).includes(command),
    capture: (argv) => {
      if (argv[0] === "pulumi") return options.outputs ?? { status: 0, stdout: JSON.stringify(OUTPUTS), stderr: "" };
      return { ...remote(argv), stderr: "" };
    },
    interact: (argv) => remote(argv).status,
    tmpDir,
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    projectRoot: PROJECT_ROOT,
    confirm: async (question) => {
      questions.push(question);
      return "confirm" in options ? options.confirm : true;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return {
    deps,
    awsCalls,
    ec2Calls: () => awsCalls().filter((argv) => argv[0] === "ec2"),
    operations: () => awsCalls().map((argv) => argv[1] ?? argv[0]),
    awsEnv: () => fs.readFileSync(path.join(stubDir, "env.log"), "utf8").trim().split("\n"),
    unanswered: () =>
      fs.existsSync(path.join(stubDir, "unanswered")) ? fs.readFileSync(path.join(stubDir, "unanswered"), "utf8") : "",
    ssh,
    actions: () => ssh.map((c) => `${c.node} ${c.action}`),
    sleeps,
    questions,
    tmpDir,
    out: () => out,
    err: () => err,
  };
}

/** Every call answered as on a good day. */
function goodDay(overrides: Record<string, Answer[]> = {}): Record<string, Answer[]> {
  return {
    "describe-snapshots": [
      { stdout: snapshotAnswer() },
      { stdout: preSnapshot("pending", "40%") },
      { stdout: preSnapshot("completed", "100%") },
    ],
    "describe-instances": [{ stdout: INSTANCES }],
    "create-snapshot": [{ stdout: { SnapshotId: PRE_SNAPSHOT, VolumeId: LIVE_VOLUME, State: "pending" } }],
    "create-volume": [{ stdout: CREATED }],
    "describe-volumes": [
      { stdout: LIVE },
      { stdout: volume("creating") },
      { stdout: volume("available") },
      { stdout: volume("in-use", true) },
      { stdout: volume("available") },
    ],
    "attach-volume": [{ stdout: ATTACHING }],
    "detach-volume": [{ stdout: DETACHING }],
    "delete-volume": [{}],
    ...overrides,
  };
}

const RESTORE = ["--stack", "dev", "--snapshot", SNAPSHOT];
const REGION = ["--region", "us-east-1"];
const JSON_OUTPUT = ["--output", "json"];

// ------------------------------------------------------------------------------ the happy path
describe("a restore", () => {
  test("the AWS calls in order, with their arguments: snapshot, instance, volume made in the instance's zone and attached at /dev/sdy, then detached and deleted", async () => {
    const m = machine(goodDay());
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(0);
    expect(m.awsCalls()).toEqual([
      ["--version"],
      ["ec2", "describe-snapshots", ...REGION, "--snapshot-ids", SNAPSHOT, ...JSON_OUTPUT],
      [
        "ec2",
        "describe-instances",
        ...REGION,
        "--filters",
        "Name=private-ip-address,Values=172.31.0.14",
        "Name=tag:Name,Values=aws-105",
        "Name=tag:Stack,Values=dev",
        "Name=tag:Project,Values=swarm-flocker",
        "Name=instance-state-name,Values=running",
        ...JSON_OUTPUT,
      ],
      ["ec2", "describe-volumes", ...REGION, "--filters", `Name=tag:flocker-dataset-id,Values=${DATASET_ID}`, ...JSON_OUTPUT],
      [
        "ec2",
        "create-snapshot",
        ...REGION,
        "--volume-id",
        LIVE_VOLUME,
        "--description",
        `dataset spark of stack dev before npm run restore from ${SNAPSHOT}`,
        "--tag-specifications",
        JSON.stringify([
          {
            ResourceType: "snapshot",
            Tags: [
              { Key: "Name", Value: "dev-pre-restore-spark" },
              { Key: "flocker-dataset-id", Value: DATASET_ID },
              { Key: "swarm-flocker-pre-restore", Value: "dev" },
            ],
          },
        ]),
        ...JSON_OUTPUT,
      ],
      ["ec2", "describe-snapshots", ...REGION, "--snapshot-ids", PRE_SNAPSHOT, ...JSON_OUTPUT],
      ["ec2", "describe-snapshots", ...REGION, "--snapshot-ids", PRE_SNAPSHOT, ...JSON_OUTPUT],
      [
        "ec2",
        "create-volume",
        ...REGION,
        "--snapshot-id",
        SNAPSHOT,
        "--availability-zone",
        INSTANCE_ZONE,
        "--volume-type",
        "gp3",
        "--encrypted",
        "--tag-specifications",
        JSON.stringify([
          {
            ResourceType: "volume",
            Tags: [
              { Key: "Name", Value: `dev-restore-spark-${SNAPSHOT}` },
              { Key: "swarm-flocker-restore", Value: "dev" },
            ],
          },
        ]),
        ...JSON_OUTPUT,
      ],
      ["ec2", "describe-volumes", ...REGION, "--volume-ids", VOLUME, ...JSON_OUTPUT],
      ["ec2", "describe-volumes", ...REGION, "--volume-ids", VOLUME, ...JSON_OUTPUT],
      [
        "ec2",
        "attach-volume",
        ...REGION,
        "--volume-id",
        VOLUME,
        "--instance-id",
        INSTANCE,
        "--device",
        "/dev/sdy",
        ...JSON_OUTPUT,
      ],
      ["ec2", "detach-volume", ...REGION, "--volume-id", VOLUME, ...JSON_OUTPUT],
      ["ec2", "describe-volumes", ...REGION, "--volume-ids", VOLUME, ...JSON_OUTPUT],
      ["ec2", "describe-volumes", ...REGION, "--volume-ids", VOLUME, ...JSON_OUTPUT],
      ["ec2", "delete-volume", ...REGION, "--volume-id", VOLUME, ...JSON_OUTPUT],
    ]);
    expect(m.sleeps).toEqual([15000, 5000, 5000]);
    expect(m.unanswered()).toBe("");
    expect(m.out()).toContain(
      `restore: done: dataset spark of stack dev holds the files of ${SNAPSHOT} (taken 2024-05-01T03:00:12.345Z); spark-master runs again; restore volume ${VOLUME}: deleted\n` +
        `restore: dataset spark: holds the files of ${SNAPSHOT}; its previous files are kept in .pre-restore-${PRE_SNAPSHOT}/ until you remove them (docs/operations.md, "Snapshots and restoring a dataset")\n` +
        `restore: pre-restore snapshot ${PRE_SNAPSHOT}: the dataset as it was before this restore; undo with ${UNDO}\n`,
    );
    expect(m.err()).toBe("");
  });

  test("the new volume carries no Flocker tag (it would be taken for the dataset), only the restore's own", async () => {
    const m = machine(goodDay());
    await runRestore([...RESTORE, "--yes"], m.deps);
    const create = m.ec2Calls().find((argv) => argv[1] === "create-volume")!;
    const specs = JSON.parse(create[create.indexOf("--tag-specifications") + 1]) as Array<{ Tags: Array<{ Key: string }> }>;
    const keys = specs.flatMap((s) => s.Tags.map((t) => t.Key));
    expect(keys).not.toContain(FLOCKER_CLUSTER_TAG);
    expect(keys.filter((k) => k.startsWith("flocker-"))).toEqual([]);
    expect(keys).toContain("swarm-flocker-restore");
    expect(create).toContain("--encrypted");
  });

  test("the node script's actions in order: check and mount on the master's node, the master stopped on a manager, the copy, then unmount before the master comes back and before the detach", async () => {
    const m = machine(goodDay(), { previousReplicas: "2\n" });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(0);
    expect(m.actions()).toEqual([
      "aws-105 check",
      "aws-105 mount",
      "aws-101 stop-master",
      "aws-105 copy",
      "aws-105 unmount",
      "aws-101 start-master",
    ]);
    const node = {
      DATASET: "spark",
      DATASET_DRIVER: "flocker",
      COPY_IMAGE: "fsoppelsa/spark-master",
      DEVICE: "/dev/xvdy",
      MOUNT_POINT: "/mnt/swarm-flocker-restore",
    };
    expect(m.ssh.map((c) => c.env)).toEqual([
      node,
      { ...node, VOLUME_ID: VOLUME },
      { SERVICE_NAME: "spark-master" },
      { ...node, COPY_DIR: `.restore-${SNAPSHOT}`, ASIDE_DIR: `.pre-restore-${PRE_SNAPSHOT}` },
      { MOUNT_POINT: "/mnt/swarm-flocker-restore" },
      { SERVICE_NAME: "spark-master", REPLICAS: "2" },
    ]);
    const position = (operation: string) => m.operations().indexOf(operation) + 1;
    const [check, mount, , , unmount] = m.ssh;
    expect(check.awsCallsBefore).toBeLessThan(position("create-volume"));
    expect(mount.awsCallsBefore).toBe(position("attach-volume"));
    expect(unmount.awsCallsBefore).toBeLessThan(position("detach-volume"));
    expect(m.ssh.every((c) => c.keyMode === 0o600)).toBe(true);
    expect(m.ssh[0].argv.at(-1)).toBe(
      "if [ -f /home/ubuntu/.swarm-flocker/scripts/dataset-restore.sh ]; then sudo env DATASET=spark DATASET_DRIVER=flocker COPY_IMAGE=fsoppelsa/spark-master DEVICE=/dev/xvdy MOUNT_POINT=/mnt/swarm-flocker-restore bash /home/ubuntu/.swarm-flocker/scripts/dataset-restore.sh check; else echo 'dataset-restore.sh is not on this node yet: deploy the current scripts with npm run deploy -- --stack dev' >&2; exit 3; fi",
    );
  });

  test("asks before anything changes; declined or without a terminal: exit 2, no volume made", async () => {
    const asked = machine(goodDay());
    expect(await runRestore(RESTORE, asked.deps)).toBe(0);
    expect(asked.questions).toEqual(["Replace the dataset's files? [y/N] "]);
    expect(asked.out()).toContain(
      `Restore dataset spark (${DATASET_ID}) of stack dev from ${SNAPSHOT} (75 GiB, taken 2024-05-01T03:00:12.345Z):\nFirst a snapshot of the dataset as it is now is taken (its id printed: restoring from it undoes this restore).`,
    );
    for (const [confirm, why] of [
      [false, "restore: not confirmed. Nothing was changed."],
      [undefined, "restore: no terminal to ask on: pass --yes to confirm. Nothing was changed."],
    ] as const) {
      const m = machine(goodDay(), { confirm });
      expect(await runRestore(RESTORE, m.deps)).toBe(2);
      expect(m.err()).toBe(`${why}\n`);
      expect(m.operations()).not.toContain("create-volume");
      expect(m.operations()).not.toContain("create-snapshot");
      expect(m.actions()).toEqual(["aws-105 check"]);
    }
  });

  test("no secret reaches a command line: the key only in a 0600 file (gone afterwards), the passphrase not even in the AWS CLI's environment", async () => {
    const m = machine(goodDay());
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(0);
    const argvs = [...m.awsCalls(), ...m.ssh.map((c) => c.argv)].map((argv) => argv.join(" "));
    expect(argvs.length).toBeGreaterThan(15);
    for (const secret of [KEY.trim(), KEY.split("\n")[1], PASSPHRASE, AWS_SECRET]) {
      expect(argvs.filter((argv) => argv.includes(secret))).toEqual([]);
      expect(m.out() + m.err()).not.toContain(secret);
    }
    // The operator's credentials reach the CLI through its environment, the passphrase never does.
    expect(new Set(m.awsEnv())).toEqual(new Set(["passphrase= aws-secret=set pager="]));
    expect(fs.readdirSync(m.tmpDir)).toEqual([]);
  });

  test("--keep-volume detaches the restore volume and keeps it, saying how to delete it", async () => {
    const m = machine(goodDay());
    expect(await runRestore([...RESTORE, "--yes", "--keep-volume"], m.deps)).toBe(0);
    expect(m.operations()).toContain("detach-volume");
    expect(m.operations()).not.toContain("delete-volume");
    expect(m.out()).toContain(
      `restore volume ${VOLUME}: kept, detached (--keep-volume); delete it with aws ec2 delete-volume --region us-east-1 --volume-id ${VOLUME}`,
    );
  });
});

// ------------------------------------------------------------------------------ the snapshot taken first
describe("a snapshot of the dataset as it is is taken before anything changes", () => {
  test("with --yes too: no question, but the snapshot is completed before the restore volume is made or the master stopped", async () => {
    const m = machine(goodDay());
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(0);
    expect(m.questions).toEqual([]);
    const ops = m.operations();
    expect(ops.indexOf("create-snapshot")).toBeGreaterThan(-1);
    expect(ops.indexOf("create-snapshot")).toBeLessThan(ops.indexOf("create-volume"));
    // the second poll of the new snapshot answers "completed": the volume comes after it
    expect(ops.lastIndexOf("describe-snapshots")).toBeLessThan(ops.indexOf("create-volume"));
    const [, mount] = m.ssh;
    expect(mount.awsCallsBefore).toBeGreaterThan(ops.lastIndexOf("describe-snapshots"));
    expect(m.out()).toContain(`restore: snapshot ${PRE_SNAPSHOT} holds the dataset as it was: ${UNDO} undoes this restore`);
  });

  test("the snapshot it takes is one the restore itself accepts (the dataset's tag), so that the undo command works", async () => {
    const m = machine(goodDay());
    await runRestore([...RESTORE, "--yes"], m.deps);
    const create = m.ec2Calls().find((argv) => argv[1] === "create-snapshot")!;
    const [spec] = JSON.parse(create[create.indexOf("--tag-specifications") + 1]) as Array<{
      Tags: Array<{ Key: string; Value: string }>;
    }>;
    expect(spec.Tags).toContainEqual({ Key: "flocker-dataset-id", Value: DATASET_ID });
    expect(spec.Tags).toContainEqual({ Key: "swarm-flocker-pre-restore", Value: "dev" });
  });

  test("a snapshot that does not complete: each poll 15 s apart, at most 240 (an hour), then a message with the command that waits", async () => {
    // Straight against the wait: 240 calls of the stub aws would outlast the test's timeout.
    const calls: string[][] = [];
    const sleeps: number[] = [];
    const ec2 = {
      region: "us-east-1",
      aws: async (args: readonly string[]) => {
        calls.push([...args]);
        return preSnapshot("pending", "3%");
      },
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
    };
    await expect(waitUntilSnapshotCompleted(ec2, PRE_SNAPSHOT)).rejects.toThrow(
      `snapshot ${PRE_SNAPSHOT} of the dataset is still pending (3%) 60 minutes after it was started; wait for it (aws ec2 wait snapshot-completed --region us-east-1 --snapshot-ids ${PRE_SNAPSHOT}), then run the restore again`,
    );
    expect(calls).toHaveLength(240);
    expect(sleeps).toEqual(Array(239).fill(15000));
  });

  test("a snapshot that fails, or no single volume for the dataset: the restore stops there, nothing else changed", async () => {
    const failed = machine(
      goodDay({ "describe-snapshots": [{ stdout: snapshotAnswer() }, { stdout: preSnapshot("error", "0%") }] }),
    );
    expect(await runRestore([...RESTORE, "--yes"], failed.deps)).toBe(1);
    expect(failed.err()).toContain(`restore failed: snapshot ${PRE_SNAPSHOT} of the dataset is error, not completed`);
    expect(failed.operations()).not.toContain("create-volume");

    const none = machine(goodDay({ "describe-volumes": [{ stdout: { Volumes: [] } }] }));
    expect(await runRestore([...RESTORE, "--yes"], none.deps)).toBe(1);
    expect(none.err()).toContain(
      `restore failed: found no volume tagged flocker-dataset-id=${DATASET_ID} in us-east-1, not one: the restore snapshots the dataset's volume before it changes anything, so it stops here`,
    );
    expect(none.operations()).not.toContain("create-snapshot");
    expect(none.operations()).not.toContain("create-volume");
    expect(none.actions()).toEqual(["aws-105 check"]);
  });
});

// ------------------------------------------------------------------------------ refusals
describe("a snapshot that cannot be restored into the dataset is refused before anything changes (exit 2)", () => {
  const cases: Array<[string, Answer, string]> = [
    [
      "of another dataset, naming both ids",
      { stdout: snapshotAnswer({ Tags: [{ Key: "flocker-dataset-id", Value: OTHER_DATASET_ID }] }) },
      `restore: refused: snapshot ${SNAPSHOT} is of dataset ${OTHER_DATASET_ID} (its flocker-dataset-id tag), not of dataset spark (${DATASET_ID}); the dataset's snapshots: aws ec2 describe-snapshots --region us-east-1 --owner-ids self --filters Name=tag:flocker-dataset-id,Values=${DATASET_ID}. Nothing was changed.\n`,
    ],
    [
      "without the dataset tag",
      { stdout: snapshotAnswer({ Tags: [] }) },
      `restore: refused: snapshot ${SNAPSHOT} has no flocker-dataset-id tag, so nothing says it holds dataset spark (${DATASET_ID}); the dataset's snapshots: aws ec2 describe-snapshots --region us-east-1 --owner-ids self --filters Name=tag:flocker-dataset-id,Values=${DATASET_ID}. Nothing was changed.\n`,
    ],
    [
      "not completed",
      { stdout: snapshotAnswer({ State: "pending", Progress: "42%" }) },
      `restore: refused: snapshot ${SNAPSHOT} is pending (42%), not completed: wait for it (aws ec2 wait snapshot-completed --region us-east-1 --snapshot-ids ${SNAPSHOT}) or pick a completed one. Nothing was changed.\n`,
    ],
    [
      "unknown",
      awsError("InvalidSnapshot.NotFound", "DescribeSnapshots", `The snapshot '${SNAPSHOT}' does not exist.`),
      `restore: refused: snapshot ${SNAPSHOT} does not exist in us-east-1 (or this account cannot see it); the dataset's snapshots: aws ec2 describe-snapshots --region us-east-1 --owner-ids self --filters Name=tag:flocker-dataset-id,Values=${DATASET_ID}. Nothing was changed.\n`,
    ],
  ];
  test.each(cases)("%s", async (_, answer, message) => {
    const m = machine(goodDay({ "describe-snapshots": [answer] }));
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(2);
    expect(m.err()).toBe(message);
    expect(m.operations()).toEqual(["--version", "describe-snapshots"]);
    expect(m.ssh).toEqual([]);
  });

  test("no AWS credentials: a missing prerequisite, with what to do", async () => {
    const m = machine(
      goodDay({
        "describe-snapshots": [
          { stderr: '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n', status: 253 },
        ],
      }),
    );
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(2);
    expect(m.err()).toContain("Cannot restore dataset spark of stack dev: 1 problem (nothing was run).");
    expect(m.err()).toContain("aws ec2 describe-snapshots failed: Unable to locate credentials.");
    expect(m.err()).toContain(
      "→ Give the AWS CLI credentials for the stack's account (aws configure, AWS_PROFILE, or aws sso login).",
    );
  });

  test("no running instance of the master's node: exit 1, nothing changed", async () => {
    const m = machine(goodDay({ "describe-instances": [{ stdout: { Reservations: [] } }] }));
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.err()).toBe(
      "restore: found no running instance of node aws-105 (172.31.0.14, tagged Stack=dev, Project=swarm-flocker) in us-east-1: check the stack's region and the node (npm run status -- --stack dev). Nothing was changed.\n",
    );
    expect(m.operations()).not.toContain("create-volume");
  });

  test("a node that is not ready (the check fails there): exit 2, no volume made", async () => {
    const m = machine(goodDay(), { exitCodes: { check: 1 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(2);
    expect(m.err()).toBe("restore: aws-105 is not ready for the restore (see above). Nothing was changed.\n");
    expect(m.operations()).toEqual(["--version", "describe-snapshots", "describe-instances"]);
  });
});

// ------------------------------------------------------------------------------ failures
describe("after a failure the master comes back, the volume goes, and the state is said", () => {
  test("a copy that fails mid-way: unmount, the master back to its replicas, the volume detached and deleted; exit 1", async () => {
    const m = machine(goodDay(), { exitCodes: { copy: 1 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.actions()).toEqual([
      "aws-105 check",
      "aws-105 mount",
      "aws-101 stop-master",
      "aws-105 copy",
      "aws-105 unmount",
      "aws-101 start-master",
    ]);
    expect(m.ssh.at(-1)!.env.REPLICAS).toBe("1");
    expect(m.operations().slice(-4)).toEqual(["detach-volume", "describe-volumes", "describe-volumes", "delete-volume"]);
    expect(m.err()).toBe(
      [
        "restore failed: the copy on aws-105 stopped before it said it was done (exit 1, see above)",
        "State now:",
        `  dataset spark: its files are unchanged unless the copy had reached the switch: then its previous files are in .pre-restore-${PRE_SNAPSHOT}/ or still in place, the copy's in .restore-${SNAPSHOT}/ or already in place (the node's message above says which); nothing was deleted`,
        "  spark-master: 1 replica(s), as before",
        `  restore volume ${VOLUME}: deleted`,
        `  pre-restore snapshot ${PRE_SNAPSHOT}: the dataset as it was before this restore; undo with ${UNDO}`,
        "",
      ].join("\n"),
    );
  });

  test("a device that never appears (mount fails): the master is never stopped, the volume is removed; the dataset unchanged", async () => {
    const m = machine(goodDay(), { exitCodes: { mount: 1 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.actions()).toEqual(["aws-105 check", "aws-105 mount", "aws-105 unmount"]);
    expect(m.operations()).toContain("delete-volume");
    expect(m.err()).toContain("restore failed: mounting the restore volume on aws-105 failed (exit 1, see above)");
    expect(m.err()).toContain(
      `  dataset spark: its files unchanged (a partial copy may be left in .restore-${SNAPSHOT}/; the next restore from ${SNAPSHOT} replaces it)\n  spark-master: not stopped\n`,
    );
  });

  test("a copy that did not complete (exit 3): nothing was switched, the dataset is said to be unchanged", async () => {
    const m = machine(goodDay(), { exitCodes: { copy: 3 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.err()).toContain("restore failed: the copy did not complete, so nothing was switched (see above)");
    expect(m.err()).toContain("  dataset spark: its files unchanged (a partial copy");
    expect(m.err()).toContain(
      `  pre-restore snapshot ${PRE_SNAPSHOT}: the dataset as it was before this restore; undo with ${UNDO}`,
    );
  });

  test("an attach that fails: the volume, never attached, is deleted (its detach is refused as 'available')", async () => {
    const m = machine(
      goodDay({
        "attach-volume": [
          awsError(
            "InvalidParameterValue",
            "AttachVolume",
            "Invalid value '/dev/sdy' for unixDevice. Attachment point /dev/sdy is already in use",
          ),
        ],
        "detach-volume": [awsError("IncorrectState", "DetachVolume", `Volume '${VOLUME}' is in the 'available' state.`)],
        "describe-volumes": [{ stdout: LIVE }, { stdout: volume("creating") }, { stdout: volume("available") }],
      }),
    );
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.actions()).toEqual(["aws-105 check"]);
    expect(m.operations().slice(-3)).toEqual(["detach-volume", "describe-volumes", "delete-volume"]);
    expect(m.err()).toContain("restore failed: aws ec2 attach-volume failed: An error occurred (InvalidParameterValue)");
    expect(m.err()).toContain(`  restore volume ${VOLUME}: deleted`);
  });

  test("the master cannot be scaled back: exit 1 with the command that does it", async () => {
    const m = machine(goodDay(), { exitCodes: { "start-master": 1 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.err()).toBe(
      [
        "restore: the dataset was restored, but putting things back failed",
        "  also: scaling spark-master back to 1 failed (exit 1, see above)",
        "State now:",
        `  dataset spark: holds the files of ${SNAPSHOT}; its previous files are kept in .pre-restore-${PRE_SNAPSHOT}/ until you remove them (docs/operations.md, "Snapshots and restoring a dataset")`,
        "  spark-master: still at 0 replicas: npm run ssh -- --stack dev aws-101 -- docker service scale spark-master=1",
        `  restore volume ${VOLUME}: deleted`,
        `  pre-restore snapshot ${PRE_SNAPSHOT}: the dataset as it was before this restore; undo with ${UNDO}`,
        "",
      ].join("\n"),
    );
  });

  test("a manager that does not answer over ssh: the next one stops the master, and the same one starts it again", async () => {
    let first = true;
    const m = machine(goodDay());
    const capture = m.deps.capture;
    const deps: RestoreDeps = {
      ...m.deps,
      capture: (argv, env) => {
        if (argv[0] === "ssh" && argv.includes("ubuntu@54.0.0.1") && first) {
          first = false;
          return { status: 255, stdout: "", stderr: "ssh: connect to host 54.0.0.1 port 22: Connection timed out\n" };
        }
        return capture(argv, env);
      },
    };
    expect(await runRestore([...RESTORE, "--yes"], deps)).toBe(0);
    expect(m.actions()).toContain("aws-102 stop-master");
    expect(m.actions().at(-1)).toBe("aws-102 start-master");
    expect(m.err()).toContain("restore: ssh to aws-101 (54.0.0.1) failed; trying the next manager.");
  });

  test("an unmount that fails: the volume stays attached (never detached while mounted), and the report says so", async () => {
    const m = machine(goodDay(), { exitCodes: { unmount: 1 } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.operations()).not.toContain("detach-volume");
    expect(m.operations()).not.toContain("delete-volume");
    expect(m.actions().at(-1)).toBe("aws-101 start-master");
    expect(m.err()).toContain(
      `  restore volume ${VOLUME} (tagged swarm-flocker-restore=dev): still attached to aws-105 at /dev/sdy and maybe mounted at /mnt/swarm-flocker-restore: unmount it, then aws ec2 detach-volume --region us-east-1 --volume-id ${VOLUME} and aws ec2 delete-volume --region us-east-1 --volume-id ${VOLUME}`,
    );
  });

  test("a volume that never becomes available: each wait is bounded (60 polls 5 s apart), and the volume is named for deletion", async () => {
    const m = machine(goodDay({ "describe-volumes": [{ stdout: LIVE }, { stdout: volume("creating") }] }));
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    // one to find the dataset's volume, then 60 after the create and 60 after the (refused) detach
    expect(m.operations().filter((o) => o === "describe-volumes")).toHaveLength(121);
    expect(m.sleeps.slice(1).every((ms) => ms === 5000)).toBe(true);
    expect(m.operations()).not.toContain("attach-volume");
    expect(m.operations()).not.toContain("delete-volume");
    expect(m.err()).toContain(`restore failed: ${VOLUME} is still creating, not available, 300 s after it was created`);
    expect(m.err()).toContain(
      `  restore volume ${VOLUME} (tagged swarm-flocker-restore=dev): left behind: aws ec2 delete-volume --region us-east-1 --volume-id ${VOLUME}`,
    );
    // 121 calls of the stub aws: several seconds on a busy 2-core machine, past jest's default.
  }, 120_000);

  test("Ctrl-C during the copy: the steps stop, and the master and the volume are put back", async () => {
    const m = machine(goodDay(), {
      exitCodes: { copy: 130 },
      during: { copy: () => process.emit("SIGINT", "SIGINT") },
    });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(1);
    expect(m.actions().slice(-2)).toEqual(["aws-105 unmount", "aws-101 start-master"]);
    expect(m.operations()).toContain("delete-volume");
    expect(m.err()).toContain(
      "restore: SIGINT: stopping, then putting things back (master, restore volume); SIGINT again leaves them as they are.",
    );
    expect(m.err()).toContain(
      "restore failed: interrupted: the copy on aws-105 stopped before it said it was done (exit 130, see above)",
    );
    expect(m.err()).toContain(
      `  pre-restore snapshot ${PRE_SNAPSHOT}: the dataset as it was before this restore; undo with ${UNDO}`,
    );
    expect(process.listenerCount("SIGINT")).toBe(0);
  });
});

// ------------------------------------------------------------------------------ the command line
describe("the command line", () => {
  test("--help shows the form, the examples and every exit code", async () => {
    const m = machine({});
    expect(await runRestore(["--help"], m.deps)).toBe(0);
    const help = m.out();
    expect(help).toContain("Usage: npm run restore -- --stack NAME --snapshot snap-ID [--dataset NAME] [--yes] [--keep-volume]");
    expect(help).toContain("npm run restore -- --stack prod --snapshot snap-0123456789abcdef0");
    for (const code of ["0 ", "1 ", "2 ", "3 "]) expect(help).toMatch(new RegExp(`^  ${code}`, "m"));
    expect(help).toContain("2     usage error, missing prerequisite");
    expect(m.awsCalls()).toEqual([]);
  });

  test.each([
    [["--stack", "dev"], "restore: --snapshot is required, as in npm run restore -- --stack dev --snapshot snap-ID"],
    [
      ["--stack", "dev", "--snapshot", "vol-0123"],
      'restore: --snapshot vol-0123 is not a snapshot id: "snap-" and 8 or 17 hex digits',
    ],
    [
      ["--stack", "qa", "--snapshot", SNAPSHOT],
      'restore: no stack "qa": Pulumi.qa.yaml does not exist (stacks: dev, prod, current); for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.qa.yaml',
    ],
    [["--snapshot", SNAPSHOT], "restore: which stack?"],
    [["--stack", "dev", "--snapshots", SNAPSHOT], "restore: unknown option --snapshots: did you mean --snapshot?"],
    [
      ["--stack", "dev", "--snapshot", SNAPSHOT, "--dataset", "../etc"],
      'restore: --dataset "../etc" is not a Docker volume name',
    ],
  ])("usage error %j: exit 2 before anything runs", async (argv, message) => {
    const m = machine(goodDay());
    expect(await runRestore(argv, m.deps)).toBe(2);
    expect(m.err()).toContain(message);
    expect(m.err()).toContain("(npm run restore -- --help for more)");
    expect(m.awsCalls()).toEqual([]);
  });

  test("a dataset the stack does not have: exit 2, listing its datasets", async () => {
    const m = machine(goodDay());
    expect(await runRestore([...RESTORE, "--dataset", "sprak"], m.deps)).toBe(2);
    expect(m.err()).toContain("restore: stack dev has no Flocker dataset named sprak (its datasets: spark, flocker-test)");
    expect(m.ec2Calls()).toEqual([]);
  });

  test("every missing prerequisite at once, the AWS CLI's install line among them: exit 2", async () => {
    const m = machine(goodDay(), { tools: ["ssh"], path: fs.mkdtempSync(path.join(os.tmpdir(), "restore-empty-path-")) });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(2);
    expect(m.err()).toContain("Cannot restore dataset spark of stack dev: 2 problems (nothing was run).");
    expect(m.err()).toContain("The Pulumi CLI is not on PATH");
    expect(m.err()).toContain("The AWS CLI is not on PATH: the restore makes, attaches and deletes an EBS volume with it.");
    expect(m.err()).toContain(
      "→ Install AWS CLI v2 from https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html (Linux: curl -o awscliv2.zip https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip && unzip awscliv2.zip && sudo ./aws/install)",
    );
  });

  test("outputs that cannot be read: exit 3, nothing asked of AWS", async () => {
    const m = machine(goodDay(), { outputs: { status: 255, stdout: "", stderr: "error: no stack named 'dev' found\n" } });
    expect(await runRestore([...RESTORE, "--yes"], m.deps)).toBe(3);
    expect(m.err()).toContain("restore: pulumi stack output --stack dev failed: error: no stack named 'dev' found.");
    expect(m.ec2Calls()).toEqual([]);
  });
});

// ------------------------------------------------------------------------------ the program's contract
describe("what the tool assumes of the program (the dev stack under mocks)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runIsolated("dev");
  });

  test("the service it stops is the one that mounts the dataset, and the copy's image is that service's", () => {
    const master = envOf(createOf(run, "spark-master"));
    expect(master.SERVICE_NAME).toBe(SPARK_MASTER_SERVICE);
    const spec = JSON.parse(master.SERVICE_SPEC) as { image: string; mounts: string[] };
    expect(spec.mounts).toEqual([`type=volume,target=/data,source=${DEFAULT_DATASET},volume-driver=flocker`]);
    expect(spec.image).toBe(stackSettings("dev", PROJECT_ROOT).copyImage);
  });

  test("the instance it looks for carries the tags its filters name", () => {
    const master = ofType(run, TYPES.instance).find((r) => (r.inputs.tags as Record<string, string>).Name === "aws-105")!;
    expect(master.inputs.tags).toMatchObject({ Name: "aws-105", Stack: "dev", Project: "swarm-flocker", Role: "sparkmaster" });
    expect(master.inputs.privateIp).toBe(OUTPUTS.nodes["aws-105"].privateIp);
    expect((run.outputs.nodes as Record<string, { role: string }>)["aws-105"].role).toBe("sparkmaster");
  });
});

// ------------------------------------------------------------------------------ the current platform
describe("a restore on a current stack: the Spark data volume", () => {
  const CURRENT = ["--stack", "current", "--snapshot", SNAPSHOT, "--yes"];
  const sparkSnapshot = (value: string) =>
    snapshotAnswer({
      VolumeId: SPARK_DATA_VOLUME,
      Tags: [
        { Key: "Name", Value: "spark-data-volume" },
        { Key: "swarm-flocker-spark-data", Value: value },
        { Key: "dlm:managed", Value: "true" },
      ],
    });
  const currentDay = (snapshot = sparkSnapshot("current")) =>
    goodDay({
      "describe-snapshots": [
        { stdout: snapshot },
        { stdout: preSnapshot("pending", "40%") },
        { stdout: preSnapshot("completed", "100%") },
      ],
      "describe-volumes": [
        { stdout: volume("creating") },
        { stdout: volume("available") },
        { stdout: volume("in-use", true) },
        { stdout: volume("available") },
      ],
    });
  const currentMachine = (answers: Record<string, Answer[]>) =>
    machine(answers, { outputs: { status: 0, stdout: JSON.stringify(CURRENT_OUTPUTS), stderr: "" } });
  const image = () => readStackConfig("current")["swarm-flocker:sparkImage"];

  test("snapshots the stack's own volume first (tagged as the dataset), then copies the snapshot's data/ through the local spark volume", async () => {
    const m = currentMachine(currentDay());
    expect(await runRestore(CURRENT, m.deps)).toBe(0);
    expect(m.unanswered()).toBe("");
    // the live volume is the sparkDataVolumeId output: no search by tag
    expect(m.operations().filter((op) => op === "describe-volumes")).toHaveLength(4);
    const create = m.ec2Calls().find((argv) => argv[1] === "create-snapshot")!;
    expect(create[create.indexOf("--volume-id") + 1]).toBe(SPARK_DATA_VOLUME);
    const [spec] = JSON.parse(create[create.indexOf("--tag-specifications") + 1]) as Array<{
      Tags: Array<{ Key: string; Value: string }>;
    }>;
    expect(spec.Tags).toContainEqual({ Key: "swarm-flocker-spark-data", Value: "current" });
    expect(m.actions()).toEqual([
      "aws-104 check",
      "aws-104 mount",
      "aws-101 stop-master",
      "aws-104 copy",
      "aws-104 unmount",
      "aws-101 start-master",
    ]);
    const node = {
      DATASET: "spark",
      DATASET_DRIVER: "local",
      COPY_IMAGE: image(),
      MOUNT_POINT: "/mnt/swarm-flocker-restore",
      SOURCE_SUBDIR: "data",
    };
    const [check, mount, , copy] = m.ssh.map((c) => c.env);
    // no device is known before the volume exists; on Nitro it is found by its serial
    expect(check).toEqual(node);
    expect(mount).toEqual({
      ...node,
      DEVICE: `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${VOLUME.replace("-", "")}`,
      VOLUME_ID: VOLUME,
    });
    expect(copy).toEqual({ ...node, COPY_DIR: `.restore-${SNAPSHOT}`, ASIDE_DIR: `.pre-restore-${PRE_SNAPSHOT}` });
    expect(image()).toMatch(/^apache\/spark:3\.5\.\d+@sha256:[0-9a-f]{64}$/);
    expect(m.out()).toContain(
      `npm run restore -- --stack current --dataset spark --snapshot ${PRE_SNAPSHOT} undoes this restore`,
    );
  });

  test("a snapshot of another cluster's Spark data, or a Flocker dataset's, is refused before anything changes (exit 2)", async () => {
    const other = currentMachine(currentDay(sparkSnapshot("spark-prod")));
    expect(await runRestore(CURRENT, other.deps)).toBe(2);
    expect(other.err()).toContain(
      `snapshot ${SNAPSHOT} is of dataset spark-prod (its swarm-flocker-spark-data tag), not of dataset spark (current); the dataset's snapshots: aws ec2 describe-snapshots --region us-east-1 --owner-ids self --filters Name=tag:swarm-flocker-spark-data,Values=current`,
    );
    const flocker = currentMachine(currentDay(snapshotAnswer()));
    expect(await runRestore(CURRENT, flocker.deps)).toBe(2);
    expect(flocker.err()).toContain(`snapshot ${SNAPSHOT} has no swarm-flocker-spark-data tag`);
    for (const m of [other, flocker]) {
      expect(m.operations()).not.toContain("create-snapshot");
      expect(m.operations()).not.toContain("create-volume");
    }
  });

  test("the stack has one dataset, spark: another --dataset is a usage error naming it", async () => {
    const m = currentMachine(currentDay());
    expect(await runRestore([...CURRENT, "--dataset", "flocker-test"], m.deps)).toBe(2);
    expect(m.err()).toContain("stack current has one dataset, spark (its Spark data volume), not flocker-test");
    expect(m.ec2Calls()).toEqual([]);
  });
});

describe("what the tool assumes of the program (the current stack under mocks)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runIsolated("current");
  });

  test("the dataset's tag on the volume is the one the snapshots are checked against; its id is the output the tool reads", () => {
    const [volume] = ofType(run, "aws:ebs/volume:Volume");
    const tags = volume.inputs.tags as Record<string, string>;
    expect(tags["swarm-flocker-spark-data"]).toBe(stackSettings("current", PROJECT_ROOT).clusterName);
    expect(run.outputs.platform).toBe("current");
    expect(run.outputs.sparkDataVolumeId).toMatch(/^vol-/);
  });

  test("the service it stops mounts the local spark volume, the copy's image is that service's, and the data is under data/", () => {
    const master = envOf(createOf(run, "spark-master"));
    expect(master.SERVICE_NAME).toBe(SPARK_MASTER_SERVICE);
    const spec = JSON.parse(master.SERVICE_SPEC) as { image: string; mounts: string[] };
    expect(spec.mounts).toEqual([`type=volume,target=/data,source=${DEFAULT_DATASET}`]);
    expect(spec.image).toBe(stackSettings("current", PROJECT_ROOT).copyImage);
    const step = ofType(run, TYPES.command).find((r) => /spark-data\.sh create$/.test(String(r.inputs.create)))!;
    expect(envOf(String(step.inputs.create)).MOUNT_POINT).toBe("/srv/spark-data");
  });
});
