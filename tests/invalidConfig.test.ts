/**
 * Bad configuration stops the program before a single resource is registered, and the message
 * lists every problem with the key, the value and what is allowed.
 */
import type { RecordedResource } from "../tools/plan/mockRuntime";
import { stackConfigWith } from "./helpers/isolatedRun";

test("invalid settings: the program fails with all problems and registers nothing", async () => {
  const registered: RecordedResource[] = [];
  let failure: unknown;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    try {
      await runProgram({
        stack: "dev",
        config: stackConfigWith("dev", { managerCount: "4", adminCidrs: '["0.0.0.0/0"]', instanceType: "t3.medium" }),
        record: registered,
      });
    } catch (error) {
      failure = error;
      expect(error).toBeInstanceOf(pulumi.RunError);
    }
  });
  expect(failure).toBeDefined();
  expect(registered).toHaveLength(0);
  const message = (failure as Error).message;
  expect(message).toContain("Invalid configuration for stack dev");
  expect(message).toMatch(/managerCount: "4"/);
  expect(message).toMatch(/adminCidrs/);
  expect(message).toContain("0.0.0.0/0");
  expect(message).toMatch(/instanceType: "t3.medium"/);
});

test("the same stack with valid settings does register resources into the same kind of list (the check above can fail)", async () => {
  const registered: RecordedResource[] = [];
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/plan/mockRuntime") as typeof import("../tools/plan/mockRuntime");
    await runProgram({ stack: "dev", config: stackConfigWith("dev", {}), record: registered });
  });
  expect(registered.length).toBeGreaterThan(100);
});
