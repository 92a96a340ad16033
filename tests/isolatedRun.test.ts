/**
 * The shared program runs (tests/helpers/isolatedRun.ts): a configuration is evaluated once, even
 * when two suites ask for it at the same time, and what they get is the same record.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ProgramRun } from "../tools/plan/mockRuntime";
import { runIsolated, stackConfigWith } from "./helpers/isolatedRun";
import { evaluateOnServer, programServerSocket } from "./helpers/programServers";

const SMALL = { nodeCount: "4", managerCount: "1" };
let cache: string;
const previous = process.env.SWARM_FLOCKER_TEST_CACHE;

beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "isolated-run-"));
  process.env.SWARM_FLOCKER_TEST_CACHE = cache;
});
afterEach(() => {
  process.env.SWARM_FLOCKER_TEST_CACHE = previous;
  fs.rmSync(cache, { recursive: true, force: true });
});

test("two asking at once: one evaluates, the other waits for its record; one record, no lock left", async () => {
  const [first, second] = await Promise.all([runIsolated("dev", SMALL), runIsolated("dev", SMALL)]);
  // The wall time is measured per evaluation: equal only when both came from one.
  expect(second.elapsedMs).toBe(first.elapsedMs);
  expect(second.resources).toEqual(first.resources);
  expect(first.resources.filter((r) => r.type === "aws:ec2/instance:Instance")).toHaveLength(4);
  expect(fs.readdirSync(path.join(cache, "runs")).filter((f) => !f.endsWith(".json"))).toEqual([]);
  expect(fs.readdirSync(path.join(cache, "runs"))).toHaveLength(1);
}, 120_000);

test("the program server (one per jest worker) records what an evaluation in jest's own registry records, after another configuration", async () => {
  const socket = programServerSocket();
  expect(socket).toBeDefined();
  await evaluateOnServer(socket!, "dev", stackConfigWith("dev", { nodeCount: "12", managerCount: "5" }));
  const served = await evaluateOnServer(socket!, "dev", stackConfigWith("dev", SMALL));
  let inJest: ProgramRun | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    inJest = await runProgram({ stack: "dev", config: stackConfigWith("dev", SMALL) });
  });
  const comparable = (run: ProgramRun) => ({ ...run, elapsedMs: 0 });
  expect(comparable(served)).toEqual(comparable(inJest!));
  // A failure in the program comes back as the program's error.
  await expect(evaluateOnServer(socket!, "dev", stackConfigWith("dev", { nodeCount: "0" }))).rejects.toThrow(/nodeCount/);
}, 120_000);
