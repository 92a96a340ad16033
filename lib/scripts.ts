/**
 * How a remote step runs one of the node scripts in `scripts/`: the command line (parameters in
 * the environment, quoted with shell-quote) and the digest that makes a step re-run when its script
 * changes. Secrets never go here: they travel on stdin.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { quote } from "shell-quote";
import { remoteScriptsDir } from "./remotePaths";

export const LOCAL_SCRIPTS_DIR = path.join(__dirname, "..", "scripts");

/** First 16 hex digits of the sha256 of the files' contents, in order. */
export function digestFiles(files: readonly string[]): string {
  const hash = crypto.createHash("sha256");
  for (const file of files) hash.update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

const digests = new Map<string, string>();

/** `source "$(dirname "${BASH_SOURCE[0]}")/lib/x.sh"`: the one way a script sources a file. */
const SOURCE_LINE = /^\s*(?:source|\.)\s+"\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/([\w./-]+\.sh)"\s*$/;
const ANY_SOURCE = /^\s*(?:source|\.)\s/;

/**
 * The script and every file it sources, in order, found by reading its `source` lines (and theirs):
 * what its step's digest must cover. A `source` line of any other form is refused, so that no
 * sourced file escapes the digest.
 */
export function sourcedFiles(file: string, seen: Set<string> = new Set()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const files = [file];
  fs.readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (!ANY_SOURCE.test(line)) return;
      const match = SOURCE_LINE.exec(line);
      if (!match)
        throw new Error(
          `${file}:${i + 1}: source a file as source "$(dirname "\${BASH_SOURCE[0]}")/lib/<name>.sh", not: ${line.trim()}`,
        );
      files.push(...sourcedFiles(path.join(path.dirname(file), match[1]), seen));
    });
  return files;
}

/** Digest of the script and the files it sources; changes when any of them changes, only then. */
export function scriptDigest(script: string): string {
  let digest = digests.get(script);
  if (digest === undefined) {
    digest = digestFiles(sourcedFiles(path.join(LOCAL_SCRIPTS_DIR, script)));
    digests.set(script, digest);
  }
  return digest;
}

export interface ScriptInvocation {
  readonly user: string;
  /** File name under scripts/, e.g. "swarm-join.sh". */
  readonly script: string;
  /** First argument, e.g. "create" or "delete". */
  readonly action?: string;
  /** Non-secret parameters. */
  readonly env?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Wall-clock bound of the whole run, seconds: `timeout` stops the script (TERM, then KILL after
   * STEP_KILL_AFTER_SECONDS) and the step fails with exit 124. Pulumi's customTimeouts cannot do
   * this: they bound the SSH dial, not a command that hangs. @default no bound
   */
  readonly timeoutSeconds?: number;
}

/** How long a stopped script gets to exit on TERM before `timeout` sends KILL. */
const STEP_KILL_AFTER_SECONDS = 30;

/** A Pulumi custom timeout ("20m", "1h30m", "90s") in seconds. */
export function durationSeconds(duration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || duration === "") throw new Error(`not a duration such as 20m or 1h30m: "${duration}"`);
  const [, hours = "0", minutes = "0", seconds = "0"] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** `KEY=value` with only the value quoted, so the command line stays readable in diffs. */
function assignment(key: string, value: string | number | boolean): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`not an environment variable name: ${key}`);
  const text = String(value);
  return `${key}=${text === "" ? "''" : quote([text])}`;
}

/**
 * `sudo timeout --kill-after=30s <N>s env K=V … SCRIPT_DIGEST=… bash ~/.swarm-flocker/scripts/<script> [action]`
 * (`sudo env …` without a bound). timeout runs as root, so it can stop whatever the script started.
 */
export function scriptCommand(invocation: ScriptInvocation): string {
  const env = { ...invocation.env, SCRIPT_DIGEST: scriptDigest(invocation.script) };
  const assignments = Object.entries(env).map(([key, value]) => assignment(key, value));
  const script = quote([
    `${remoteScriptsDir(invocation.user)}/${invocation.script}`,
    ...(invocation.action ? [invocation.action] : []),
  ]);
  const bound = invocation.timeoutSeconds;
  if (bound !== undefined && (!Number.isInteger(bound) || bound <= 0))
    throw new Error(`a step's bound must be a whole number of seconds, got ${bound}`);
  const runner = bound === undefined ? "sudo env" : `sudo timeout --kill-after=${STEP_KILL_AFTER_SECONDS}s ${bound}s env`;
  return [runner, ...assignments, "bash", script].join(" ");
}
