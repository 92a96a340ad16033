/**
 * `npm run status` and `npm run ssh` without the Pulumi CLI or a cluster: the outputs come from a
 * fake `pulumi stack output`, ssh is recorded (with the key file as it was while ssh ran).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runSsh } from "../tools/day2/ssh";
import type { AccessDeps, CapturedRun } from "../tools/common/stackAccess";
import { runStatus } from "../tools/day2/status";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const OUTPUTS = {
  nodes: {
    "aws-101": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.1", privateIp: "172.31.0.10" },
    "aws-102": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.2", privateIp: "172.31.0.11" },
    "aws-104": { role: "control", publicIp: "54.0.0.4", privateIp: "172.31.0.13" },
    "aws-105": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.0.5", privateIp: "172.31.0.14" },
  },
  sshUser: "ubuntu",
  sshPrivateKey: KEY,
  flockerControlEndpoint: "https://172.31.0.13:4523",
};

interface SshCall {
  readonly argv: string[];
  readonly keyMode: number;
  readonly keyText: string;
  readonly keyFile: string;
}

function fakeMachine(
  options: { tools?: string[]; env?: Record<string, string>; outputs?: CapturedRun; exitCodes?: number[] } = {},
) {
  const captured: Array<{ argv: string[]; backend?: string }> = [];
  const ssh: SshCall[] = [];
  const exitCodes = [...(options.exitCodes ?? [0])];
  let out = "";
  let err = "";
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "operator-tools-"));
  const deps: AccessDeps = {
    env: options.env ?? { PULUMI_CONFIG_PASSPHRASE: "correct horse" },
    projectBackendUrl: "file://~",
    knownStacks: ["dev", "prod"],
    hasCommand: (command) => (options.tools ?? ["pulumi", "ssh"]).includes(command),
    capture: (argv, env) => {
      captured.push({ argv: [...argv], backend: env.PULUMI_BACKEND_URL });
      return options.outputs ?? { status: 0, stdout: JSON.stringify(OUTPUTS), stderr: "" };
    },
    interact: (argv) => {
      const keyFile = argv[argv.indexOf("-i") + 1];
      ssh.push({
        argv: [...argv],
        keyFile,
        keyMode: fs.statSync(keyFile).mode & 0o777,
        keyText: fs.readFileSync(keyFile, "utf8"),
      });
      return exitCodes.shift() ?? 0;
    },
    tmpDir,
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
  };
  const leftovers = () => fs.readdirSync(tmpDir);
  return { deps, captured, ssh, out: () => out, err: () => err, leftovers };
}

const SSH_OPTIONS = ["-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=15"];

describe("npm run ssh", () => {
  test("opens a shell on the node with the stack's key, in a 0600 file that is gone afterwards", async () => {
    const machine = fakeMachine({ exitCodes: [0] });
    expect(await runSsh(["--stack", "dev", "aws-105"], machine.deps)).toBe(0);
    expect(machine.captured).toEqual([
      { argv: ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev"], backend: "file://~" },
    ]);
    expect(machine.ssh).toHaveLength(1);
    const [call] = machine.ssh;
    expect(call.argv).toEqual(["ssh", "-i", call.keyFile, ...SSH_OPTIONS, "ubuntu@54.0.0.5"]);
    expect(call.keyMode).toBe(0o600);
    expect(call.keyText).toBe(KEY);
    expect(fs.existsSync(call.keyFile)).toBe(false);
    expect(machine.leftovers()).toEqual([]);
  });

  test("a bare stack name works; words after `--` are the remote command; its exit code is the tool's", async () => {
    const machine = fakeMachine({ exitCodes: [7] });
    expect(await runSsh(["prod", "aws-101", "--", "docker", "node", "ls"], machine.deps)).toBe(7);
    expect(machine.captured[0].argv.at(-1)).toBe("prod");
    expect(machine.ssh[0].argv.slice(-4)).toEqual(["ubuntu@54.0.0.1", "docker", "node", "ls"]);
  });

  test("PULUMI_BACKEND_URL chooses the backend the outputs are read from", async () => {
    const machine = fakeMachine({ env: { PULUMI_CONFIG_PASSPHRASE: "p", PULUMI_BACKEND_URL: "s3://state?region=us-east-1" } });
    await runSsh(["--stack", "dev", "aws-105"], machine.deps);
    expect(machine.captured[0].backend).toBe("s3://state?region=us-east-1");
  });

  test.each([
    [
      ["aws-105"],
      'ssh: which stack? Name it ("aws-105" is not a stack): npm run ssh -- --stack dev NODE (stacks in this repository: dev, prod)',
    ],
    [["--stack", "dev"], "ssh: missing NODE: npm run ssh -- --stack dev NODE"],
    [
      ["--stack", "qa", "aws-105"],
      'ssh: no stack "qa": Pulumi.qa.yaml does not exist (stacks: dev, prod); for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.qa.yaml',
    ],
    [["--stack", "dev", "aws-105", "aws-106"], "ssh: too many words: aws-105 aws-106 (expected NODE)"],
  ])("usage error for %j: exit 2, nothing read or run", async (argv, message) => {
    const machine = fakeMachine();
    expect(await runSsh(argv, machine.deps)).toBe(2);
    expect(machine.err()).toContain(message);
    expect(machine.err()).toContain("Usage: npm run ssh -- --stack NAME [--tunnel] NODE [-- COMMAND...]");
    expect(machine.captured).toEqual([]);
    expect(machine.ssh).toEqual([]);
  });

  test("an unknown node lists the nodes and the nearest name; no key is written", async () => {
    const machine = fakeMachine();
    expect(await runSsh(["--stack", "dev", "aws-15"], machine.deps)).toBe(2);
    expect(machine.err()).toContain(
      'ssh: no node "aws-15" in this stack (nodes: aws-101, aws-102, aws-104, aws-105); did you mean aws-105?',
    );
    expect(machine.ssh).toEqual([]);
    expect(machine.leftovers()).toEqual([]);
  });

  test("every missing prerequisite is listed at once, with what to do", async () => {
    const machine = fakeMachine({ tools: [], env: {} });
    expect(await runSsh(["--stack", "dev", "aws-105"], machine.deps)).toBe(2);
    expect(machine.err()).toMatch(/^Cannot open a shell on aws-105 of stack dev: 3 problems \(nothing was run\)\./);
    expect(machine.err()).toContain("The Pulumi CLI is not on PATH");
    expect(machine.err()).toContain("export PULUMI_CONFIG_PASSPHRASE=");
    expect(machine.err()).toContain("sudo apt-get install openssh-client");
    expect(machine.captured).toEqual([]);
  });

  test("outputs that cannot be read: exit 3 with the CLI's reason and what to check", async () => {
    const machine = fakeMachine({ outputs: { status: 255, stdout: "", stderr: "error: no stack named 'dev' found\n" } });
    expect(await runSsh(["--stack", "dev", "aws-105"], machine.deps)).toBe(3);
    expect(machine.err()).toBe(
      "ssh: pulumi stack output --stack dev failed: error: no stack named 'dev' found. Has the stack been deployed (npm run deploy -- --stack dev)?\n",
    );
    const notSecret = fakeMachine({
      outputs: { status: 0, stdout: JSON.stringify({ ...OUTPUTS, sshPrivateKey: "[secret]" }), stderr: "" },
    });
    expect(await runSsh(["--stack", "dev", "aws-105"], notSecret.deps)).toBe(3);
    expect(notSecret.err()).toContain("the sshPrivateKey output is not a private key (was it read without --show-secrets?)");
  });

  test("--tunnel forwards Spark's three ports from this machine's loopback to the node's private address, and runs nothing", async () => {
    const machine = fakeMachine({ exitCodes: [0] });
    expect(await runSsh(["--stack", "dev", "--tunnel", "aws-102"], machine.deps)).toBe(0);
    const [call] = machine.ssh;
    expect(call.argv).toEqual([
      "ssh",
      "-i",
      call.keyFile,
      ...SSH_OPTIONS,
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-L",
      "127.0.0.1:8080:172.31.0.11:8080",
      "-L",
      "127.0.0.1:7077:172.31.0.11:7077",
      "-L",
      "127.0.0.1:6066:172.31.0.11:6066",
      "ubuntu@54.0.0.2",
    ]);
    expect(call.keyMode).toBe(0o600);
    expect(fs.existsSync(call.keyFile)).toBe(false);
    expect(machine.err()).toContain("localhost:8080 -> aws-102 172.31.0.11:8080  Spark master web UI");
    expect(machine.err()).toContain("localhost:6066 -> aws-102 172.31.0.11:6066  Spark REST submission");
    const short = fakeMachine();
    await runSsh(["dev", "-L", "aws-105"], short.deps);
    expect(short.ssh[0].argv).toContain("127.0.0.1:7077:172.31.0.14:7077");
  });

  test("--tunnel refuses a node outside the Swarm (no routing mesh there) and a remote command", async () => {
    const control = fakeMachine();
    expect(await runSsh(["--stack", "dev", "--tunnel", "aws-104"], control.deps)).toBe(2);
    expect(control.err()).toContain(
      "ssh: aws-104 is not in the Swarm, so the routing mesh does not publish Spark's ports there: tunnel through a Swarm node (aws-101, aws-102, aws-105)",
    );
    expect(control.ssh).toEqual([]);
    expect(control.leftovers()).toEqual([]);
    const command = fakeMachine();
    expect(await runSsh(["--stack", "dev", "--tunnel", "aws-105", "--", "uptime"], command.deps)).toBe(2);
    expect(command.err()).toContain("ssh: --tunnel runs no command: drop `-- uptime`, or drop --tunnel");
    expect(command.captured).toEqual([]);
  });

  test("--help shows the forms, the examples and the exit codes", async () => {
    const machine = fakeMachine();
    expect(await runSsh(["--help"], machine.deps)).toBe(0);
    expect(machine.out()).toContain("Usage: npm run ssh -- --stack NAME [--tunnel] NODE");
    expect(machine.out()).toContain("  npm run ssh -- --stack dev --tunnel aws-105");
    expect(machine.out()).toContain("  npm run ssh -- dev aws-101 -- docker node ls\n");
    expect(machine.out()).toMatch(/\n {2}255 +ssh could not connect\n/);
  });
});

describe("npm run status", () => {
  test("asks the first manager to run the deployed status script with the cluster's expectations", async () => {
    const machine = fakeMachine({ exitCodes: [0] });
    expect(await runStatus(["--stack", "dev"], machine.deps)).toBe(0);
    expect(machine.ssh).toHaveLength(1);
    const { argv, keyMode, keyFile } = machine.ssh[0];
    expect(argv.slice(0, 10)).toEqual(["ssh", "-i", keyFile, ...SSH_OPTIONS, "ubuntu@54.0.0.1"]);
    expect(argv[10]).toBe(
      "if [ -f /home/ubuntu/.swarm-flocker/scripts/cluster-status.sh ]; then " +
        "sudo env EXPECTED_FLOCKER_NODES=4 FLOCKER_CONTROL_HOST=172.31.0.13 FLOCKER_ETC=/etc/flocker FLOCKER_API_PORT=4523 FLOCKER_AGENT_PORT=4524 SPARK_UI_URL=http://127.0.0.1:8080 bash /home/ubuntu/.swarm-flocker/scripts/cluster-status.sh; " +
        "else echo 'cluster-status.sh is not on this node yet: deploy the current scripts with npm run deploy -- --stack dev' >&2; exit 3; fi",
    );
    expect(keyMode).toBe(0o600);
    expect(machine.out()).toBe("Cluster status of stack dev, asked of aws-101 (54.0.0.1)\n");
    expect(machine.leftovers()).toEqual([]);
  });

  test("unhealthy: the script's non-zero exit becomes exit 1, said on stderr", async () => {
    const machine = fakeMachine({ exitCodes: [1] });
    expect(await runStatus(["dev"], machine.deps)).toBe(1);
    expect(machine.err()).toBe("status: stack dev is unhealthy (cluster-status.sh exited with 1).\n");
  });

  test("a manager that does not answer, or cannot tell, is skipped for the next; none telling is exit 3", async () => {
    const next = fakeMachine({ exitCodes: [255, 0] });
    expect(await runStatus(["--stack", "dev"], next.deps)).toBe(0);
    expect(next.ssh.map((c) => c.argv[9])).toEqual(["ubuntu@54.0.0.1", "ubuntu@54.0.0.2"]);
    expect(next.err()).toBe("status: ssh to aws-101 (54.0.0.1) failed; asking the next manager.\n");
    const none = fakeMachine({ exitCodes: [2, 255] });
    expect(await runStatus(["--stack", "dev"], none.deps)).toBe(3);
    expect(none.err()).toBe(
      "status: aws-101 cannot tell (see above); asking the next manager.\n" +
        "status: ssh to aws-102 (54.0.0.2) failed.\n" +
        "status: no manager could tell (aws-101, aws-102): is port 22 open to this machine (adminCidrs), and is a manager of the swarm up?\n",
    );
    expect(none.leftovers()).toEqual([]);
  });

  test("--node asks that manager only; a node that is not a manager is refused", async () => {
    const chosen = fakeMachine();
    expect(await runStatus(["--stack", "dev", "--node", "aws-102"], chosen.deps)).toBe(0);
    expect(chosen.ssh.map((c) => c.argv[9])).toEqual(["ubuntu@54.0.0.2"]);
    const worker = fakeMachine();
    expect(await runStatus(["--stack", "dev", "--node", "aws-104"], worker.deps)).toBe(2);
    expect(worker.err()).toContain(
      "status: aws-104 is not a Swarm manager (its role: control); --node takes a manager: aws-101, aws-102",
    );
    expect(worker.ssh).toEqual([]);
  });

  test("the stack is required: no silent default to dev", async () => {
    const machine = fakeMachine();
    expect(await runStatus([], machine.deps)).toBe(2);
    expect(machine.err()).toMatch(
      /^status: which stack\? Name it: npm run status -- --stack dev \(stacks in this repository: dev, prod\)\n/,
    );
    expect(machine.captured).toEqual([]);
  });

  test("the key is removed even when ssh cannot be started", async () => {
    const machine = fakeMachine();
    const deps: AccessDeps = {
      ...machine.deps,
      interact: () => {
        throw new Error("spawn ssh ENOENT");
      },
    };
    await expect(runStatus(["--stack", "dev"], deps)).rejects.toThrow("spawn ssh ENOENT");
    expect(machine.leftovers()).toEqual([]);
  });

  test("--help shows the exit codes: 0 healthy, 1 unhealthy, 2 usage, 3 unknown", async () => {
    const machine = fakeMachine();
    expect(await runStatus(["-h"], machine.deps)).toBe(0);
    expect(machine.out()).toMatch(
      /Exit codes:\n {2}0 +healthy.*\n {2}1 +unhealthy.*\n {2}2 +usage error.*\n {2}3 +the health is unknown/,
    );
  });
});

describe("npm run status on a current stack: the Spark dataset's volume too", () => {
  const VOLUME = "vol-0123456789abcdef0";
  const CURRENT_OUTPUTS = {
    platform: "current",
    nodes: {
      "aws-101": { role: "manager", swarmRole: "manager", publicIp: "54.0.0.1", privateIp: "172.31.0.10" },
      "aws-104": { role: "sparkmaster", swarmRole: "worker", publicIp: "54.0.0.4", privateIp: "172.31.0.13" },
    },
    sshUser: "ubuntu",
    sshPrivateKey: KEY,
    sparkDataVolumeId: VOLUME,
  };
  const currentMachine = (exitCodes: number[]) =>
    fakeMachine({
      exitCodes,
      outputs: { status: 0, stdout: JSON.stringify(CURRENT_OUTPUTS), stderr: "" },
    });

  test("after the manager, the Spark master's node reports the volume: mounted, bound, the stack's by id", async () => {
    const machine = currentMachine([0, 0]);
    expect(await runStatus(["--stack", "dev"], machine.deps)).toBe(0);
    expect(machine.ssh.map((c) => c.argv[9])).toEqual(["ubuntu@54.0.0.1", "ubuntu@54.0.0.4"]);
    // no Flocker on the manager's screen
    expect(machine.ssh[0].argv[10]).toContain("FLOCKER_CONTROL_HOST='' ");
    expect(machine.ssh[1].argv[10]).toBe(
      "if [ -f /home/ubuntu/.swarm-flocker/scripts/cluster-status.sh ]; then " +
        `sudo env SPARK_DATA_MOUNT=/srv/spark-data SPARK_DATA_VOLUME_NAME=spark SPARK_DATA_VOLUME_ID=${VOLUME} bash /home/ubuntu/.swarm-flocker/scripts/cluster-status.sh spark-data; ` +
        "else echo 'cluster-status.sh is not on this node yet: deploy the current scripts with npm run deploy -- --stack dev' >&2; exit 3; fi",
    );
    expect(machine.out()).toBe(
      "Cluster status of stack dev, asked of aws-101 (54.0.0.1)\nThe Spark dataset, asked of aws-104 (54.0.0.4)\n",
    );
    expect(machine.leftovers()).toEqual([]);
  });

  test("a healthy swarm with an unhealthy dataset is unhealthy (1); an unreachable master node is unknown (3)", async () => {
    const unhealthy = currentMachine([0, 1]);
    expect(await runStatus(["dev"], unhealthy.deps)).toBe(1);
    expect(unhealthy.err()).toBe(
      "status: the Spark dataset of stack dev is unhealthy (cluster-status.sh spark-data exited with 1).\n",
    );
    const unreachable = currentMachine([0, 255]);
    expect(await runStatus(["dev"], unreachable.deps)).toBe(3);
    expect(unreachable.err()).toBe("status: ssh to aws-104 (54.0.0.4) failed: the Spark dataset's state is unknown.\n");
    // an unhealthy swarm stays unhealthy whatever the dataset says
    const both = currentMachine([1, 255]);
    expect(await runStatus(["dev"], both.deps)).toBe(1);
  });

  test("a book stack asks nothing of the Spark master's node", async () => {
    const machine = fakeMachine({ exitCodes: [0] });
    expect(await runStatus(["dev"], machine.deps)).toBe(0);
    expect(machine.ssh).toHaveLength(1);
  });
});

describe("one strict command line in status and ssh", () => {
  test.each([
    [["-stack", "dev"], "-stack has one dash: long options take two, as in --stack dev"],
    [["--stack", "dev", "--stack", "prod"], "--stack given twice (dev, prod): give it once"],
    [["--stack", "prdo"], 'no stack "prdo": Pulumi.prdo.yaml does not exist (stacks: dev, prod); did you mean prod?'],
    [["--stack", "dev", "--nodes", "aws-101"], "unknown option --nodes: did you mean --node?"],
  ])("status %j: exit 2 with the right form, nothing read", async (argv, message) => {
    const machine = fakeMachine();
    expect(await runStatus(argv, machine.deps)).toBe(2);
    expect(machine.err()).toContain(`status: ${message}`);
    expect(machine.captured).toEqual([]);
  });

  test("ssh answers a mistyped stack exactly as status does", async () => {
    const [status, ssh] = [fakeMachine(), fakeMachine()];
    await runStatus(["--stack", "prdo"], status.deps);
    await runSsh(["--stack", "prdo", "aws-105"], ssh.deps);
    expect(
      ssh
        .err()
        .split("\n")[0]
        .replace(/^ssh: /, ""),
    ).toBe(
      status
        .err()
        .split("\n")[0]
        .replace(/^status: /, ""),
    );
  });

  test("status --help: the form, exit 0", async () => {
    const machine = fakeMachine();
    expect(await runStatus(["--help"], machine.deps)).toBe(0);
    expect(machine.out()).toMatch(/^Usage: npm run status -- --stack NAME/);
  });
});
