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
import type { ProgramRun } from "../../tools/mockRuntime";
import { qualifiedConfigKey, readStackConfig } from "../../tools/stackConfig";

const ROOT = path.join(__dirname, "..", "..");
/** Everything the program (and the mock runtime that runs it) is made of. */
const PROGRAM_SOURCES = ["index.ts", "package-lock.json", "components", "config", "lib", "preflight", "scripts", "tools"];
/** In the tests' one cache directory (jest.config.js sets SWARM_FLOCKER_TEST_CACHE). */
const CACHE_DIR = path.join(
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
  const cached = file === undefined ? undefined : readRecord(file);
  if (cached) return cached;
  let result: ProgramRun | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../../tools/mockRuntime") as typeof import("../../tools/mockRuntime");
    result = await runProgram({ stack, config });
  });
  if (file !== undefined) writeRecord(file, result!);
  return result!;
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
  return path.join(CACHE_DIR, `${key.slice(0, 32)}.json`);
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
  fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
  const now = Date.now();
  for (const entry of fs.readdirSync(CACHE_DIR)) {
    const old = path.join(CACHE_DIR, entry);
    const stat = fs.statSync(old, { throwIfNoEntry: false });
    if (stat !== undefined && now - stat.mtimeMs > CACHE_MAX_AGE_MS) fs.rmSync(old, { force: true });
  }
  // Written whole, then renamed: another jest worker never reads half a record.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, JSON.stringify({ ...run, secretOutputs: [...run.secretOutputs] }));
  fs.renameSync(partial, file);
}
