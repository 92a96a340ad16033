/**
 * A step re-runs when its script or a file its script sources changes, and only then: the digest
 * in its command line covers the script plus the `lib/` files named by its `source` lines.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { digestFiles, LOCAL_SCRIPTS_DIR, scriptCommand, sourcedFiles } from "../lib/scripts";
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { runIsolated } from "./helpers/isolatedRun";
import { ofType, TYPES } from "./helpers/program";

/** A copy of scripts/ to edit, with each script's digest as the program computes it. */
function copyOfScripts(): { dir: string; digests: () => Record<string, string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scripts-"));
  fs.cpSync(LOCAL_SCRIPTS_DIR, dir, { recursive: true });
  const scripts = fs.readdirSync(dir).filter((f) => f.endsWith(".sh"));
  const digests = () => Object.fromEntries(scripts.map((s) => [s, digestFiles(sourcedFiles(path.join(dir, s)))]));
  return { dir, digests };
}

function changedBy(edit: (dir: string) => void): string[] {
  const { dir, digests } = copyOfScripts();
  const before = digests();
  edit(dir);
  const after = digests();
  fs.rmSync(dir, { recursive: true, force: true });
  return Object.keys(before)
    .filter((s) => before[s] !== after[s])
    .sort();
}

const append = (file: string) => (dir: string) => fs.appendFileSync(path.join(dir, file), "\n# edited\n");

let run: ProgramRun;
beforeAll(async () => {
  run = await runIsolated("dev");
});

/** The steps of the dev stack that run one of the scripts. */
function stepsRunning(scripts: readonly string[]): string[] {
  return ofType(run, TYPES.command)
    .filter((c) => scripts.some((s) => String(c.inputs.create).includes(`/scripts/${s}`)))
    .map((c) => c.name)
    .sort();
}

test("editing the services helpers re-runs only the Swarm service steps", () => {
  const changed = changedBy(append("lib/services.sh"));
  expect(changed).toEqual(["swarm-service.sh"]);
  expect(stepsRunning(changed)).toEqual(["spark-master", "spark-worker"]);
});

test("editing the Flocker helpers re-runs only steps whose scripts talk to Flocker's control service", () => {
  const changed = changedBy(append("lib/flocker.sh"));
  expect(changed).toEqual([
    "flocker-containers.sh",
    // it stops the control service while its state moves
    "flocker-control-volume.sh",
    "flocker-services.sh",
    "flocker-status.sh",
    "flocker-test.sh",
    "flocker-volume.sh",
  ]);
  expect(stepsRunning(changed).some((name) => /^swarm-|^spark-(master|worker|network)$/.test(name))).toBe(false);
});

test("editing the Swarm helpers leaves Flocker's files and the image pulls alone; editing core.sh re-runs every step", () => {
  const swarm = changedBy(append("lib/swarm.sh"));
  expect(swarm).toEqual(expect.arrayContaining(["swarm-init.sh", "swarm-join.sh", "swarm-service.sh", "spark-network.sh"]));
  expect(swarm).not.toEqual(expect.arrayContaining(["flocker-files.sh"]));
  expect(swarm).not.toContain("pull-images.sh");
  const all = fs
    .readdirSync(LOCAL_SCRIPTS_DIR)
    .filter((f) => f.endsWith(".sh"))
    .sort();
  expect(changedBy(append("lib/core.sh"))).toEqual(all);
});

test("a script's own edit changes its digest only", () => {
  expect(changedBy(append("swarm-join.sh"))).toEqual(["swarm-join.sh"]);
});

test("a source line of another form is refused, so no sourced file escapes the digest", () => {
  const { dir } = copyOfScripts();
  const script = path.join(dir, "odd.sh");
  fs.writeFileSync(script, '#!/usr/bin/env bash\nsource "$HERE/lib/core.sh"\n');
  expect(() => sourcedFiles(script)).toThrow(/odd\.sh:2: source a file as source/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the command line carries the digest of the script and its sources", () => {
  const digest = digestFiles(sourcedFiles(path.join(LOCAL_SCRIPTS_DIR, "swarm-service.sh")));
  expect(scriptCommand({ user: "ubuntu", script: "swarm-service.sh", action: "create" })).toContain(`SCRIPT_DIGEST=${digest}`);
});
