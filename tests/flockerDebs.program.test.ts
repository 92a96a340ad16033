/**
 * flockerDebDir under mocks: the copy to each node is exactly the three Flocker .deb files, one
 * file each, into a fixed directory beside scripts/ — not the directory (dotfiles, keys, other
 * files stay on the operator's machine), and not over the node scripts even when the local
 * directory is called "scripts".
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramRun, runProgram } from "../tools/plan/mockRuntime";
import { readStackConfig } from "../tools/common/stackConfig";
import { TYPES, waitsFor } from "./helpers/program";

const DEBS = [
  "clusterhq-python-flocker_1.15.0-1_amd64.deb",
  "clusterhq-flocker-node_1.15.0-1_all.deb",
  "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb",
];
let dir: string;
let run: ProgramRun;

beforeAll(async () => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "flocker-debs-")), "scripts");
  fs.mkdirSync(dir);
  for (const file of [...DEBS, "clusterhq-flocker-node_1.14.0-1_all.deb", ".aws-credentials", "id_rsa", "notes.txt"]) {
    // .deb files start as ar archives whose first member is debian-binary (the preflight looks).
    fs.writeFileSync(
      path.join(dir, file),
      file.endsWith(".deb") ? `!<arch>\ndebian-binary   ${file}\n` : `contents of ${file}\n`,
    );
  }
  const config: Record<string, string> = { ...readStackConfig("prod"), "swarm-flocker:flockerDebDir": dir };
  delete config["swarm-flocker:flockerAptSource"];
  delete config["swarm-flocker:flockerAptAllowUnsigned"]; // read only with an apt source
  run = await runProgram({ stack: "prod", config });
}, 300_000);

afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

const copiesOf = (node: string) =>
  run.resources.filter((r) => r.type === TYPES.copy && r.name.startsWith(`nodes-${node}-flocker-deb-`));

test("each node gets exactly the three newest Flocker .deb files, each as a file of its own", () => {
  const copies = copiesOf("aws-101");
  expect(copies.map((c) => path.basename(String((c.inputs.source as Record<string, unknown>).path))).sort()).toEqual(
    [...DEBS].sort(),
  );
  for (const copy of copies) {
    expect(Object.keys(copy.inputs.source as object)).not.toContain("assets");
    expect(String(copy.inputs.remotePath)).toBe(
      `/home/ubuntu/.swarm-flocker/flocker-debs/${path.basename(String((copy.inputs.source as Record<string, unknown>).path))}`,
    );
  }
  const all = run.resources.filter((r) => r.type === TYPES.copy && r.name.includes("-flocker-deb-"));
  expect(all).toHaveLength(3 * 20);
});

test("nothing lands on the scripts directory, although the local directory is called scripts", () => {
  const remotePaths = run.resources.filter((r) => r.type === TYPES.copy).map((r) => String(r.inputs.remotePath));
  expect(remotePaths.filter((p) => p.startsWith("/home/ubuntu/.swarm-flocker/scripts"))).toEqual([]);
  expect(run.resources.some((r) => r.type === TYPES.copy && (r.inputs.source as Record<string, unknown>).path === dir)).toBe(
    false,
  );
});

test("the copies follow the scripts one after the other, and the preflight waits for all of them", () => {
  const names = copiesOf("aws-101").map((c) => c.name);
  expect(names).toEqual([
    "nodes-aws-101-flocker-deb-clusterhq-python-flocker",
    "nodes-aws-101-flocker-deb-clusterhq-flocker-node",
    "nodes-aws-101-flocker-deb-clusterhq-flocker-docker-plugin",
  ]);
  expect(waitsFor(run, names[0], "nodes-aws-101-scripts")).toBe(true);
  expect(waitsFor(run, names[1], names[0])).toBe(true);
  expect(waitsFor(run, names[2], names[1])).toBe(true);
  for (const copy of names) expect(waitsFor(run, "nodes-aws-101-flocker-preflight", copy)).toBe(true);
});
