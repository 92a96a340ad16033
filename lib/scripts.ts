/**
 * How a remote step runs one of the node scripts in `scripts/`: the command line (parameters in
 * the environment, quoted with shell-quote) and the digest that makes a step re-run when its script
 * changes. Secrets never go here: they travel on stdin.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { quote } from "shell-quote";

export const LOCAL_SCRIPTS_DIR = path.join(__dirname, "..", "scripts");
const SHARED_LIBRARY = path.join(LOCAL_SCRIPTS_DIR, "lib", "common.sh");

/** Directory in the SSH user's home that receives `scripts/` (as `<dir>/scripts`). */
export const REMOTE_DIR_NAME = ".swarm-flocker";

export function remoteHome(user: string): string {
  return user === "root" ? "/root" : `/home/${user}`;
}

export function remoteBaseDir(user: string): string {
  return `${remoteHome(user)}/${REMOTE_DIR_NAME}`;
}

export function remoteScriptsDir(user: string): string {
  return `${remoteBaseDir(user)}/scripts`;
}

const digests = new Map<string, string>();

/** sha256 of the script and the library every script sources; changes when either changes. */
export function scriptDigest(script: string): string {
  let digest = digests.get(script);
  if (digest === undefined) {
    const hash = crypto.createHash("sha256");
    for (const file of [path.join(LOCAL_SCRIPTS_DIR, script), SHARED_LIBRARY]) {
      hash.update(fs.readFileSync(file));
    }
    digest = hash.digest("hex").slice(0, 16);
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

/** `sudo env K=V … SCRIPT_DIGEST=… bash ~/.swarm-flocker/scripts/<script> [action]` */
export function scriptCommand(invocation: ScriptInvocation): string {
  const assignments = Object.entries(invocation.env ?? {}).map(([key, value]) => `${key}=${String(value)}`);
  assignments.push(`SCRIPT_DIGEST=${scriptDigest(invocation.script)}`);
  const words = ["sudo", "env", ...assignments, "bash", `${remoteScriptsDir(invocation.user)}/${invocation.script}`];
  if (invocation.action) words.push(invocation.action);
  return quote(words);
}
