/**
 * The engine tier's runner: the steps a program run registered (tools/plan/mockRuntime.ts) — every
 * `command:remote:Command`, `command:remote:CopyToRemote` and the nodes' `command:local:Command`
 * ssh-key steps — run the way pulumi-command runs them, against real hosts:
 *
 * - a remote command over real SSH (OpenSSH's client, from the hub namespace the hosts live in):
 *   its exact `create`/`update`/`delete` line as the session's command (no PTY), its `environment`
 *   as SSH setenv requests (pulumi-command's `Setenv`), its `stdin`; host keys unchecked and the
 *   dial bounded by the connection's `perDialTimeout` × `dialErrorLimit`, as pulumi-command dials;
 * - a copy over SFTP, the archive's directory put under `remotePath`;
 * - a local command with bash in the project's directory, its `environment` and `stdin`.
 *
 * Order is Pulumi's: a step starts once every step it depends on (directly or through other
 * resources) is done, independent steps at the same time; deletes in the reverse order. After a
 * failure no new step starts, as `pulumi up` stops. Each step is bounded by its customTimeouts.
 * The connection's host is the mock's public address of an instance: `addressOf` maps it to the
 * engine node that stands for that instance. A step's stdin that carries another step's mock
 * output (a join token) gets that step's real output instead.
 *
 * Secrets (the private key, a step's secret stdin or stdout) go to files and pipes, never on a
 * command line, and the log shows a secret output only by its size.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { mockCommandStdout, type ProgramRun, type RecordedResource } from "../../tools/plan/mockRuntime";
import { nearestAncestors } from "../helpers/program";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const STEP_TYPES = {
  "command:remote:Command": "remote",
  "command:remote:CopyToRemote": "copy",
  "command:local:Command": "local",
} as const;

export type StepKind = (typeof STEP_TYPES)[keyof typeof STEP_TYPES];
export type Phase = "create" | "update" | "delete";

export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  readonly dialErrorLimit: number;
  readonly perDialTimeout: number;
}

export interface EngineStep {
  readonly name: string;
  readonly urn: string;
  readonly kind: StepKind;
  /** Remote steps: where they connect. */
  readonly connection?: Connection;
  readonly create?: string;
  readonly update?: string;
  readonly delete?: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly stdin: string;
  /** Copies: the archive's directory (relative to the project) and where it goes. */
  readonly source?: string;
  readonly remotePath?: string;
  /** The steps this one waits for, directly or through other resources. */
  readonly after: readonly string[];
  /** Per phase, the step's bound in ms (customTimeouts). */
  readonly timeoutMs: Readonly<Record<Phase, number>>;
  /** Pulumi keeps the step's stdout or stderr secret (additionalSecretOutputs): neither is logged. */
  readonly secretOutput: boolean;
  /** What the step printed under mocks; a later step's stdin may carry it. */
  readonly mockStdout: string;
}

export interface StepOutcome {
  readonly step: string;
  readonly phase: Phase;
  /** The host the step ran against ("local" for the operator's machine). */
  readonly where: string;
  /** The command's exit status; null when it was killed (bound reached) or never connected. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Set when the step's bound (customTimeouts) stopped it. */
  readonly timedOut: boolean;
}

/** Pulumi's default customTimeouts when a resource sets none: the provider's own (none) — keep one anyway. */
const DEFAULT_TIMEOUT_MS = 20 * 60 * 1000;

/** "20m", "30s", "1h30m" (Go durations, as customTimeouts take them) in ms. */
function durationMs(text: string | undefined, fallback = DEFAULT_TIMEOUT_MS): number {
  if (text === undefined || text === "") return fallback;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  const rest = text.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, value: string, unit: string) => {
    total += Number(value) * units[unit];
    return "";
  });
  if (rest !== "") throw new Error(`not a duration: ${text}`);
  return total;
}

function stringRecord(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function connectionOf(resource: RecordedResource): Connection {
  const c = resource.inputs.connection as Record<string, unknown> | undefined;
  if (c === undefined || typeof c.host !== "string") throw new Error(`${resource.name} has no connection host`);
  return {
    host: c.host,
    port: Number(c.port ?? 22),
    user: String(c.user ?? "root"),
    privateKey: String(c.privateKey ?? ""),
    dialErrorLimit: Number(c.dialErrorLimit ?? 10),
    perDialTimeout: Number(c.perDialTimeout ?? 15),
  };
}

/** The archive's path from a recorded `source` (a FileArchive of a directory of the project). */
function archivePath(resource: RecordedResource): string {
  const source = resource.inputs.source as Record<string, unknown> | undefined;
  if (typeof source?.path !== "string") throw new Error(`${resource.name}: only a FileArchive of a directory can be copied`);
  return source.path;
}

/** Every step of a run, with what it waits for (the nearest steps among its dependencies). */
export function engineSteps(run: ProgramRun): EngineStep[] {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const isStep = (r: RecordedResource | undefined) => r !== undefined && r.type in STEP_TYPES;
  return run.resources.filter(isStep).map((resource): EngineStep => {
    const kind = STEP_TYPES[resource.type as keyof typeof STEP_TYPES];
    const text = (key: string) =>
      typeof resource.inputs[key] === "string" && resource.inputs[key] !== "" ? String(resource.inputs[key]) : undefined;
    const timeouts = resource.options.customTimeouts ?? {};
    return {
      name: resource.name,
      urn: resource.urn,
      kind,
      connection: kind === "local" ? undefined : connectionOf(resource),
      create: text("create"),
      update: text("update"),
      delete: text("delete"),
      environment: stringRecord(resource.inputs.environment),
      stdin: text("stdin") ?? "",
      source: kind === "copy" ? archivePath(resource) : undefined,
      remotePath: kind === "copy" ? text("remotePath") : undefined,
      after: nearestAncestors(byUrn, resource, isStep),
      timeoutMs: {
        create: durationMs(timeouts.create),
        update: durationMs(timeouts.update),
        delete: durationMs(timeouts.delete),
      },
      secretOutput: resource.options.additionalSecretOutputs.some((o) => o === "stdout" || o === "stderr"),
      mockStdout: kind === "remote" ? mockCommandStdout(text("create") ?? "") : "",
    };
  });
}

/** Which command a phase runs: an update runs `update` when set, otherwise `create` again (pulumi-command). */
function commandFor(step: EngineStep, phase: Phase): string | undefined {
  if (phase === "update") return step.update ?? step.create;
  return phase === "create" ? step.create : step.delete;
}

export interface RunnerOptions {
  /** The network namespace the hosts are reachable from: ssh and sftp run there. */
  readonly hubNetns: string;
  /** The address that stands for a connection's host (the mock's public IP of an instance). */
  readonly addressOf: (host: string) => string;
  /**
   * The local steps' environment variables that hold a host (the ssh-key step's SSH_HOST): mapped
   * through addressOf too, and the step runs in the hub namespace.
   */
  readonly localHostVariables?: readonly string[];
  /** Where each outcome is reported. @default a line per step on stdout */
  readonly log?: (line: string) => void;
  /**
   * A stdin the program computed from other steps' outputs in a way a text substitution cannot
   * redo (the mocks printed nothing to replace): the step's real stdin from their real outputs.
   */
  readonly stdinFrom?: (step: EngineStep, outputOf: (urn: string) => string | undefined) => string | undefined;
  /** Steps run at once at most (Pulumi's --parallel). @default 16 */
  readonly parallel?: number;
}

export interface PhaseResult {
  readonly outcomes: readonly StepOutcome[];
  /** Steps that did not start because a step failed first (pulumi up stops scheduling). */
  readonly notStarted: readonly string[];
}

/** Runs steps against real hosts; remembers each step's real output for later stdins. */
export class StepRunner {
  private readonly outputs = new Map<string, string>();
  private readonly scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sfe-steps-"));

  constructor(
    private readonly steps: readonly EngineStep[],
    private readonly options: RunnerOptions,
  ) {
    fs.chmodSync(this.scratch, 0o700);
  }

  step(name: string): EngineStep {
    const found = this.steps.find((s) => s.name === name);
    if (found === undefined) throw new Error(`no step named ${name}`);
    return found;
  }

  /**
   * Runs a phase of the given steps (default: all) in Pulumi's order. For create and update a step
   * waits for the steps it depends on; for delete, for the steps that depend on it. Steps outside
   * `names` count as done.
   */
  async runPhase(phase: Phase, names?: ReadonlySet<string>): Promise<PhaseResult> {
    const chosen = this.steps.filter((s) => names === undefined || names.has(s.name));
    return this.runPlan(new Map(chosen.map((s) => [s.name, phase])));
  }

  /**
   * Runs a plan: each named step in its own phase (a replacement creates some steps and re-runs
   * others in one `pulumi up`). Deletes may not be mixed with creates or updates: Pulumi runs a
   * replacement's deletes as a pass of their own, in the reverse order.
   */
  async runPlan(plan: ReadonlyMap<string, Phase>): Promise<PhaseResult> {
    const phases = new Set(plan.values());
    if (phases.has("delete") && phases.size > 1) throw new Error("a plan runs deletes on their own, in reverse order");
    const reverse = phases.has("delete");
    const chosen = this.steps.filter((s) => plan.has(s.name));
    for (const name of plan.keys()) this.step(name);
    const chosenUrns = new Set(chosen.map((s) => s.urn));
    const blockers = new Map<string, Set<string>>(chosen.map((s) => [s.urn, new Set<string>()]));
    // A step waits for every chosen step it depends on through any chain, not only its nearest
    // ones: a membership step re-run on a replaced first manager waits for that manager's init,
    // though the token step between them is not part of the plan.
    const byUrn = new Map(this.steps.map((s) => [s.urn, s]));
    for (const step of chosen) {
      const seen = new Set<string>();
      const pending = [...step.after];
      while (pending.length > 0) {
        const urn = pending.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        if (chosenUrns.has(urn)) {
          if (reverse) blockers.get(urn)!.add(step.urn);
          else blockers.get(step.urn)!.add(urn);
        }
        pending.push(...(byUrn.get(urn)?.after ?? []));
      }
    }
    const outcomes: StepOutcome[] = [];
    const started = new Set<string>();
    const running = new Set<Promise<void>>();
    const limit = this.options.parallel ?? 16;
    let failed = false;
    const finish = (urn: string) => blockers.forEach((waiting) => waiting.delete(urn));
    for (;;) {
      if (!failed) {
        for (const step of chosen) {
          if (started.has(step.urn) || blockers.get(step.urn)!.size > 0 || running.size >= limit) continue;
          started.add(step.urn);
          const task: Promise<void> = this.runStep(step, plan.get(step.name)!).then((outcome) => {
            if (outcome !== undefined) outcomes.push(outcome);
            if (outcome !== undefined && outcome.status !== 0) failed = true;
            else finish(step.urn);
            running.delete(task);
          });
          running.add(task);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running);
    }
    const notStarted = chosen.filter((s) => !started.has(s.urn)).map((s) => s.name);
    if (!failed && notStarted.length > 0) throw new Error(`steps wait for each other in a cycle: ${notStarted.join(", ")}`);
    return { outcomes, notStarted };
  }

  /** One phase of one step; undefined when the phase has nothing to run (a copy's delete, no command). */
  async runStep(step: EngineStep, phase: Phase): Promise<StepOutcome | undefined> {
    if (step.kind === "copy" && phase === "delete") return undefined; // CopyToRemote has no delete
    const command = step.kind === "copy" ? "sftp" : commandFor(step, phase);
    if (command === undefined) return undefined;
    const started = Date.now();
    const where = step.kind === "local" ? "local" : this.options.addressOf(step.connection!.host);
    const result =
      step.kind === "copy"
        ? await this.copy(step, where, step.timeoutMs[phase])
        : step.kind === "local"
          ? await this.local(step, command, step.timeoutMs[phase])
          : await this.remote(step, where, command, step.timeoutMs[phase]);
    const outcome: StepOutcome = { step: step.name, phase, where, ...result, ms: Date.now() - started };
    if (phase !== "delete" && outcome.status === 0) this.outputs.set(step.urn, outcome.stdout);
    (this.options.log ?? ((line) => process.stdout.write(`${line}\n`)))(describe(outcome, step.secretOutput));
    return outcome;
  }

  /** The real stdout a step printed last (create or update). */
  outputOf(name: string): string | undefined {
    return this.outputs.get(this.step(name).urn);
  }

  remove(): void {
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }

  /** The recorded stdin, with a dependency's mock output replaced by what that step really printed. */
  private stdinOf(step: EngineStep): string {
    const computed = this.options.stdinFrom?.(step, (urn) => this.outputs.get(urn));
    if (computed !== undefined) return computed;
    let stdin = step.stdin;
    for (const urn of step.after) {
      const source = this.steps.find((s) => s.urn === urn);
      const real = this.outputs.get(urn);
      if (source === undefined || source.mockStdout === "" || real === undefined) continue;
      stdin = stdin.split(source.mockStdout).join(real.trim());
    }
    // A mock value left in (its step has not run here, or failed) would reach the node as if real.
    const unreplaced = this.steps.find((s) => step.after.includes(s.urn) && s.mockStdout !== "" && stdin.includes(s.mockStdout));
    if (unreplaced !== undefined)
      throw new Error(`${step.name}'s stdin needs the real output of ${unreplaced.name}, which has not run`);
    return stdin;
  }

  /** A private ssh config for one step: the key file and its environment as SetEnv (not argv). */
  private sshConfig(step: EngineStep): { dir: string; config: string } {
    const dir = fs.mkdtempSync(path.join(this.scratch, "step-"));
    const key = path.join(dir, "key");
    const connection = step.connection!;
    fs.writeFileSync(key, connection.privateKey.endsWith("\n") ? connection.privateKey : `${connection.privateKey}\n`, {
      mode: 0o600,
    });
    const setEnv = Object.entries(step.environment).map(([k, v]) => `  SetEnv ${k}="${v.replace(/(["\\])/g, "\\$1")}"`);
    const config = path.join(dir, "config");
    fs.writeFileSync(
      config,
      [
        "Host *",
        `  User ${connection.user}`,
        `  Port ${connection.port}`,
        `  IdentityFile ${key}`,
        "  IdentitiesOnly yes",
        "  BatchMode yes",
        // pulumi-command ignores host keys unless the connection names one (docs/security.md).
        "  StrictHostKeyChecking no",
        "  UserKnownHostsFile /dev/null",
        "  LogLevel ERROR",
        ...(connection.perDialTimeout > 0 ? [`  ConnectTimeout ${connection.perDialTimeout}`] : []),
        `  ConnectionAttempts ${connection.dialErrorLimit > 0 ? connection.dialErrorLimit : 1000}`,
        ...setEnv,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    return { dir, config };
  }

  private async remote(step: EngineStep, address: string, command: string, timeoutMs: number) {
    const { dir, config } = this.sshConfig(step);
    try {
      return await bounded(
        "ip",
        ["netns", "exec", this.options.hubNetns, "ssh", "-F", config, "-T", address, command],
        this.stdinOf(step),
        timeoutMs,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async copy(step: EngineStep, address: string, timeoutMs: number) {
    const { dir, config } = this.sshConfig(step);
    const source = path.resolve(REPO_ROOT, step.source!);
    const target = path.posix.join(step.remotePath!, path.basename(source));
    const batch = path.join(dir, "batch");
    // "-" lets a command fail without ending the batch: the directories may exist from a last copy.
    const dirs = [step.remotePath!, target];
    fs.writeFileSync(
      batch,
      [...dirs.map((d) => `-mkdir ${sftpQuote(d)}`), `put -r -p ${sftpQuote(source)}/. ${sftpQuote(target)}`, ""].join("\n"),
    );
    try {
      return await bounded(
        "ip",
        ["netns", "exec", this.options.hubNetns, "sftp", "-F", config, "-b", batch, address],
        "",
        timeoutMs,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async local(step: EngineStep, command: string, timeoutMs: number) {
    const environment: Record<string, string> = { ...step.environment };
    for (const variable of this.options.localHostVariables ?? []) {
      if (environment[variable] !== undefined) environment[variable] = this.options.addressOf(environment[variable]);
    }
    return bounded("ip", ["netns", "exec", this.options.hubNetns, "bash", "-c", command], this.stdinOf(step), timeoutMs, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...environment },
    });
  }
}

function sftpQuote(p: string): string {
  if (/["\s]/.test(p)) return `"${p.replace(/"/g, '\\"')}"`;
  return p;
}

/** Runs a process with stdin, collecting its output, killed (whole group) when the bound passes. */
function bounded(
  file: string,
  args: readonly string[],
  stdin: string,
  timeoutMs: number,
  extra: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ status: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], detached: true, ...extra });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdin.on("error", () => undefined); // a command that exits before reading its stdin
    child.stdin.end(stdin);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: timedOut ? null : code, stdout, stderr, timedOut });
    });
  });
}

/** One log entry: the step, its real exit and time, and the last lines it printed. */
function describe(outcome: StepOutcome, secretOutput: boolean, lines = 4): string {
  const exit = outcome.timedOut ? "stopped at its bound (customTimeouts)" : `exit ${outcome.status}`;
  const tail = (text: string) =>
    text
      .trimEnd()
      .split("\n")
      .filter((l) => l !== "")
      .slice(-lines);
  const body = secretOutput
    ? [`    (output secret: ${outcome.stdout.length} + ${outcome.stderr.length} bytes)`]
    : [...tail(outcome.stdout).map((l) => `    | ${l}`), ...tail(outcome.stderr).map((l) => `    ! ${l}`)];
  return [
    `[engine] ${outcome.phase} ${outcome.step} @ ${outcome.where}: ${exit} in ${(outcome.ms / 1000).toFixed(1)} s`,
    ...body,
  ].join("\n");
}
