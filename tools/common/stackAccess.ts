/**
 * What `npm run status` and `npm run ssh` share: the stack's outputs read with the Pulumi CLI
 * (`pulumi stack output --json --show-secrets`), the stack's SSH key in a 0600 temporary file that
 * is removed when the tool ends, and the ssh command line. Everything that touches the machine
 * (commands, files, output) is handed in, so the tests need neither the Pulumi CLI nor a cluster.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { distance } from "fastest-levenshtein";
import { remoteScriptsDir } from "../../lib/remotePaths";
import type { NodeOutput } from "../../lib/stackOutputs";
import { DEFAULT_BACKEND_URL, PULUMI_INSTALL_URL, displayCommand, resolveBackendUrl } from "../deploy/deployPreflight";
import type { Problem } from "./problem";

export interface CapturedRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The machine as these tools see it; tests replace every part. */
export interface AccessDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly projectBackendUrl: string | undefined;
  readonly knownStacks: readonly string[];
  /** True when `command` runs (`pulumi version`, `ssh -V`). */
  readonly hasCommand: (command: string) => boolean;
  /** Runs a command and captures its output (the Pulumi CLI). */
  readonly capture: (argv: readonly string[], env: Readonly<Record<string, string | undefined>>) => CapturedRun;
  /** Runs a command on the operator's terminal (ssh); `input` is sent on its stdin when given. */
  readonly interact: (argv: readonly string[], input?: string) => number;
  /** Where the temporary key directory is made. */
  readonly tmpDir: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The outputs these tools use (lib/stackOutputs.ts has the whole contract). */
export interface AccessOutputs {
  readonly nodes: Readonly<Record<string, NodeOutput>>;
  readonly sshUser: string;
  readonly sshPrivateKey: string;
  readonly flockerControlEndpoint?: string;
  /** "current" on a current stack; absent on a book stack (lib/stackOutputs.ts). */
  readonly platform?: "book" | "current";
  /** The current platform's Spark dataset volume. */
  readonly sparkDataVolumeId?: string;
}

/** Exit code when the stack's outputs or a node cannot be reached (the cluster's health is unknown). */
export const EXIT_UNREACHABLE = 3;

/** What must be on this machine before the CLI is asked for anything. */
export function accessProblems(deps: AccessDeps, needs: readonly ("pulumi" | "ssh")[]): Problem[] {
  const problems: Problem[] = [];
  if (needs.includes("pulumi") && !deps.hasCommand("pulumi")) {
    problems.push({
      problem: "The Pulumi CLI is not on PATH (`pulumi version` does not run): the stack's outputs are read with it.",
      fix: `Install it from ${PULUMI_INSTALL_URL}, then open a new shell.`,
    });
  }
  const passphrase = deps.env.PULUMI_CONFIG_PASSPHRASE ?? "";
  const passphraseFile = deps.env.PULUMI_CONFIG_PASSPHRASE_FILE ?? "";
  if (needs.includes("pulumi") && passphrase === "" && passphraseFile === "") {
    problems.push({
      problem:
        "No secrets passphrase: the SSH key is a secret output, and the self-managed backend decrypts it with the stack's passphrase.",
      fix: "export PULUMI_CONFIG_PASSPHRASE='…' (or PULUMI_CONFIG_PASSPHRASE_FILE), the one the stack was created with.",
    });
  }
  if (needs.includes("ssh") && !deps.hasCommand("ssh")) {
    problems.push({
      problem: "ssh is not on PATH.",
      fix: "Install an OpenSSH client (Debian/Ubuntu: sudo apt-get install openssh-client).",
    });
  }
  return problems;
}

/** The problems as the operator reads them: numbered, each with what to do. */
export function formatAccessProblems(what: string, problems: readonly Problem[]): string {
  const lines = [`Cannot ${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"} (nothing was run).`];
  problems.forEach((p, i) => lines.push(`  ${i + 1}. ${p.problem}`, `     → ${p.fix}`));
  return lines.join("\n") + "\n";
}

/** The CLI call that reads the outputs; the backend goes in the environment so the operator's `pulumi login` is left alone. */
export function outputsCommand(stack: string): string[] {
  return ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack];
}

/** Reads and checks the stack's outputs; throws an Error that says what to do. */
export function readOutputs(stack: string, deps: AccessDeps): AccessOutputs {
  const backend = resolveBackendUrl(deps.env, deps.projectBackendUrl);
  const result = deps.capture(outputsCommand(stack), { ...deps.env, PULUMI_BACKEND_URL: backend });
  if (result.status !== 0) {
    const why = result.stderr.trim().split("\n").filter(Boolean).slice(-3).join(" / ") || `exit code ${result.status}`;
    const login = backend === DEFAULT_BACKEND_URL ? "" : ` (backend ${backend})`;
    throw new Error(
      `pulumi stack output --stack ${stack} failed${login}: ${why}. Has the stack been deployed (npm run deploy -- --stack ${stack})?`,
    );
  }
  let outputs: Partial<AccessOutputs>;
  try {
    outputs = JSON.parse(result.stdout) as Partial<AccessOutputs>;
  } catch {
    throw new Error(
      `pulumi stack output --json printed something that is not JSON: ${JSON.stringify(result.stdout.slice(0, 80))}`,
    );
  }
  const missing = (["nodes", "sshUser", "sshPrivateKey"] as const).filter((key) => outputs[key] === undefined);
  if (missing.length > 0) {
    throw new Error(
      `stack ${stack} has no ${missing.join(", ")} output${missing.length > 1 ? "s" : ""}: deploy it first (npm run deploy -- --stack ${stack})`,
    );
  }
  if (!String(outputs.sshPrivateKey).includes("PRIVATE KEY")) {
    throw new Error("the sshPrivateKey output is not a private key (was it read without --show-secrets?)");
  }
  return outputs as AccessOutputs;
}

/** The node called `name`, or an error that lists the nodes and the closest name. */
export function findNode(outputs: AccessOutputs, name: string): NodeOutput {
  const node = outputs.nodes[name];
  if (node) return node;
  const names = Object.keys(outputs.nodes);
  const guess = names.reduce<{ name?: string; d: number }>(
    (best, n) => (distance(n, name) < best.d ? { name: n, d: distance(n, name) } : best),
    { d: 3 },
  ).name;
  throw new Error(`no node "${name}" in this stack (nodes: ${names.join(", ")})${guess ? `; did you mean ${guess}?` : ""}`);
}

/** A private key in a fresh directory, mode 0600; `remove` deletes both (also on Ctrl-C or SIGTERM). */
export interface TemporaryKey {
  readonly file: string;
  readonly remove: () => void;
}

/**
 * `removeOnSignal: false` is for a tool that must go on using the key after Ctrl-C to put things
 * back (npm run restore scales the Spark master back up): it handles the signals and removes the key.
 */
export function writeTemporaryKey(key: string, tmpDir: string, removeOnSignal = true): TemporaryKey {
  const dir = fs.mkdtempSync(path.join(tmpDir, "swarm-flocker-ssh-"));
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, "id");
  // ssh refuses a key others can read, and the key must never be readable by them anyway.
  fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600, flag: "wx" });
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    fs.rmSync(dir, { recursive: true, force: true });
    for (const signal of SIGNALS) process.removeListener(signal, onSignal[signal]);
  };
  const onSignal = Object.fromEntries(
    SIGNALS.map((signal) => [
      signal,
      () => {
        remove();
        process.kill(process.pid, signal);
      },
    ]),
  ) as Record<(typeof SIGNALS)[number], () => void>;
  if (removeOnSignal) for (const signal of SIGNALS) process.once(signal, onSignal[signal]);
  return { file, remove };
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * ssh to a node with the stack's key and nothing else (IdentitiesOnly: an agent's keys are not
 * tried first). Host keys: the nodes' are not known in advance (the stack does not pin them), so
 * the first one seen is accepted and remembered in the operator's known_hosts (accept-new); a
 * changed key on a known address still stops ssh.
 */
export function sshCommand(
  key: TemporaryKey,
  user: string,
  host: string,
  remote: readonly string[] = [],
  sshOptions: readonly string[] = [],
): string[] {
  return [
    "ssh",
    "-i",
    key.file,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=accept-new",
    "-o",
    "ConnectTimeout=15",
    ...sshOptions,
    `${user}@${host}`,
    ...remote,
  ];
}

/**
 * The remote command that runs a deployed node script (`scripts/<script>` as `pulumi up` put it on
 * every node) as root with `env`, or, on a node deployed before the script existed, says so and
 * exits `missingExit`. One string: ssh joins its arguments with spaces for the remote shell.
 */
export function deployedScriptCommand(args: {
  readonly sshUser: string;
  readonly script: string;
  readonly action?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly stack: string;
  readonly missingExit: number;
}): string[] {
  const word = (text: string) => displayCommand([text]);
  const file = `${remoteScriptsDir(args.sshUser)}/${args.script}`;
  const assignments = Object.entries(args.env).map(([name, value]) => `${name}=${word(value)}`);
  const run = ["sudo", "env", ...assignments, "bash", word(file), ...(args.action ? [args.action] : [])].join(" ");
  const missing = `${args.script} is not on this node yet: deploy the current scripts with npm run deploy -- --stack ${args.stack}`;
  return [`if [ -f ${word(file)} ]; then ${run}; else echo ${word(missing)} >&2; exit ${args.missingExit}; fi`];
}

/** The real machine: the CLI and ssh as child processes, the terminal attached to ssh. */
export function systemAccess(knownStacks: readonly string[], projectBackendUrl: string | undefined): AccessDeps {
  return {
    env: process.env,
    projectBackendUrl,
    knownStacks,
    hasCommand: (command) => {
      const result = spawnSync(command, [command === "ssh" ? "-V" : "version"], { stdio: "ignore", timeout: 30_000 });
      return !result.error && result.status === 0;
    },
    capture: (argv, env) => {
      const result = spawnSync(argv[0], argv.slice(1), {
        env: { ...env } as NodeJS.ProcessEnv,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      return {
        status: result.error ? 127 : (result.status ?? 1),
        stdout: result.stdout ?? "",
        stderr: result.error ? result.error.message : (result.stderr ?? ""),
      };
    },
    interact: (argv, input) => {
      const result = spawnSync(
        argv[0],
        argv.slice(1),
        input === undefined ? { stdio: "inherit" } : { input, stdio: ["pipe", "inherit", "inherit"] },
      );
      if (result.error) return 127;
      if (result.signal) return 128 + (os.constants.signals[result.signal] ?? 0);
      return result.status ?? 1;
    },
    tmpDir: os.tmpdir(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}
