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
const SHARED_LIBRARY = path.join(LOCAL_SCRIPTS_DIR, "lib", "common.sh");

/** First 16 hex digits of the sha256 of the files' contents, in order. */
export function digestFiles(files: readonly string[]): string {
  const hash = crypto.createHash("sha256");
  for (const file of files) hash.update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

const digests = new Map<string, string>();

/** Digest of the script and the library every script sources; changes when either changes. */
export function scriptDigest(script: string): string {
  let digest = digests.get(script);
  if (digest === undefined) {
    digest = digestFiles([path.join(LOCAL_SCRIPTS_DIR, script), SHARED_LIBRARY]);
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
}

/** `KEY=value` with only the value quoted, so the command line stays readable in diffs. */
function assignment(key: string, value: string | number | boolean): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`not an environment variable name: ${key}`);
  const text = String(value);
  return `${key}=${text === "" ? "''" : quote([text])}`;
}

/** `sudo env K=V … SCRIPT_DIGEST=… bash ~/.swarm-flocker/scripts/<script> [action]` */
export function scriptCommand(invocation: ScriptInvocation): string {
  const env = { ...invocation.env, SCRIPT_DIGEST: scriptDigest(invocation.script) };
  const assignments = Object.entries(env).map(([key, value]) => assignment(key, value));
  const script = quote([`${remoteScriptsDir(invocation.user)}/${invocation.script}`, ...(invocation.action ? [invocation.action] : [])]);
  return ["sudo env", ...assignments, "bash", script].join(" ");
}
