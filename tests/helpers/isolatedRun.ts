/**
 * Runs the program in a fresh module registry, so one test file can evaluate several
 * configurations (the Pulumi runtime and the program's modules are loaded anew each time).
 *
 * Runs are shared between test files: the program under mocks is deterministic, so a run is a
 * function of the program's sources and the configuration, and its record is kept on disk under
 * that digest (most suites start from the same dev or prod stack; evaluating it once instead of in
 * every file is a third of jest's time). Any change to a source file gives a new digest, so a
 * stale record is never read. SWARM_FLOCKER_TEST_RUN_CACHE=0 turns the sharing off.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProgramRun } from "../../tools/plan/mockRuntime";
import { qualifiedConfigKey, readStackConfig } from "../../tools/common/stackConfig";
import { evaluateOnServer, programServerSocket } from "./programServers";

const ROOT = path.join(__dirname, "..", "..");
/** Everything the program (and the mock runtime that runs it) is made of. */
const PROGRAM_SOURCES = ["index.ts", "package-lock.json", "components", "config", "lib", "preflight", "scripts", "tools"];
/** In the tests' one cache directory (jest.config.js sets SWARM_FLOCKER_TEST_CACHE). */
const cacheDir = () =>
  path.join(
    process.env.SWARM_FLOCKER_TEST_CACHE ?? path.join(os.tmpdir(), `swarm-flocker-test-cache-${os.userInfo().uid}`),
    "runs",
  );
/** Records older than this are pruned when a new one is written. */
const CACHE_MAX_AGE_MS = 24 * 3600 * 1000;

/** The stack's config with bare keys overridden (`{ nodeCount: "30" }`). */
export function stackConfigWith(stack: string, overrides: Record<string, string>): Record<string, string> {
  const config = readStackConfig(stack);
  for (const [key, value] of Object.entries(overrides)) config[qualifiedConfigKey(key)] = value;
  return config;
}

export async function runIsolated(stack: string, overrides: Record<string, string> = {}): Promise<ProgramRun> {
  const config = stackConfigWith(stack, overrides);
  const file = cacheFile(stack, config);
  if (file === undefined) return evaluate(stack, config);
  const cached = readRecord(file);
  if (cached) return cached;
  // One evaluation per record: the two workers often start with suites that need the same stack.
  // The first to need it computes it; the other waits for its record instead of computing it too.
  const lock = `${file}.lock`;
  if (!takeLock(lock)) {
    const waited = await recordOnceUnlocked(file, lock);
    if (waited) return waited;
  }
  try {
    const run = await evaluate(stack, config);
    writeRecord(file, run);
    return run;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

async function evaluate(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  // jest.config.js starts a program server per worker: an evaluation there takes a third of the time.
  const socket = programServerSocket();
  if (socket !== undefined) return evaluateOnServer(socket, stack, config);
  let result: ProgramRun | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../../tools/plan/mockRuntime") as typeof import("../../tools/plan/mockRuntime");
    result = await runProgram({ stack, config });
  });
  return result!;
}

/** A lock older than this was left by a run that was killed: it is taken over. */
const LOCK_MAX_AGE_MS = 5 * 60 * 1000;

/** True when this process now holds the lock (a directory: mkdir is atomic). */
function takeLock(lock: string): boolean {
  fs.mkdirSync(path.dirname(lock), { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const stat = fs.statSync(lock, { throwIfNoEntry: false });
    if (stat !== undefined && Date.now() - stat.mtimeMs > LOCK_MAX_AGE_MS) return true;
    return false;
  }
}

/** The record, once the lock's holder has written it (undefined if it gave up without one). */
async function recordOnceUnlocked(file: string, lock: string): Promise<ProgramRun | undefined> {
  const deadline = Date.now() + LOCK_MAX_AGE_MS;
  while (fs.existsSync(lock) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return readRecord(file);
}

let sourcesDigest: string | undefined;

function cacheFile(stack: string, config: Record<string, string>): string | undefined {
  if (process.env.SWARM_FLOCKER_TEST_RUN_CACHE === "0") return undefined;
  sourcesDigest ??= digestOf(PROGRAM_SOURCES.map((entry) => path.join(ROOT, entry)));
  const sortedConfig = Object.keys(config)
    .sort()
    .map((key) => [key, config[key]]);
  const key = crypto
    .createHash("sha256")
    .update(JSON.stringify([sourcesDigest, stack, sortedConfig]))
    .digest("hex");
  return path.join(cacheDir(), `${key.slice(0, 32)}.json`);
}

/** A digest of every file under these paths: their relative names and contents, in a stable order. */
function digestOf(paths: readonly string[]): string {
  const hash = crypto.createHash("sha256");
  const visit = (p: string) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(p).sort()) visit(path.join(p, entry));
      return;
    }
    hash.update(path.relative(ROOT, p)).update("\0").update(fs.readFileSync(p)).update("\0");
  };
  for (const p of paths) visit(p);
  return hash.digest("hex");
}

function readRecord(file: string): ProgramRun | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const stored = JSON.parse(text) as Omit<ProgramRun, "secretOutputs"> & { secretOutputs: string[] };
  return { ...stored, secretOutputs: new Set(stored.secretOutputs) };
}

function writeRecord(file: string, run: ProgramRun): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  for (const entry of fs.readdirSync(dir)) {
    const old = path.join(dir, entry);
    const stat = fs.statSync(old, { throwIfNoEntry: false });
    if (stat !== undefined && now - stat.mtimeMs > CACHE_MAX_AGE_MS) fs.rmSync(old, { recursive: true, force: true });
  }
  // Written whole, then renamed: another jest worker never reads half a record.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify({ ...run, secretOutputs: [...run.secretOutputs] }));
  fs.renameSync(partial, file);
}
