/**
 * Bad configuration stops the program before a single resource is registered, and the message
 * lists every problem with the key, the value and what is allowed.
 */
import { runIsolated } from "./helpers/isolatedRun";

test("invalid settings: the program fails with all problems and registers nothing", async () => {
  let registered = -1;
  let message = "";
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../tools/mockRuntime") as typeof import("../tools/mockRuntime");
    const { stackConfigWith } = require("./helpers/isolatedRun") as typeof import("./helpers/isolatedRun");
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
    const seen: string[] = [];
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: unknown, req: { getName(): string }, cb: unknown) {
      seen.push(req.getName());
      return original.call(this, req, cb);
    };
    try {
      await runProgram({
        stack: "dev",
        config: stackConfigWith("dev", { managerCount: "4", adminCidrs: '["0.0.0.0/0"]', instanceType: "t3.medium" }),
      });
    } catch (error) {
      expect(error).toBeInstanceOf(pulumi.RunError);
      message = (error as Error).message;
    } finally {
      MockMonitor.prototype.registerResource = original;
    }
    registered = seen.length;
  });
  expect(registered).toBe(0);
  expect(message).toContain("Invalid configuration for stack dev");
  expect(message).toMatch(/managerCount: "4"/);
  expect(message).toMatch(/adminCidrs/);
  expect(message).toContain("0.0.0.0/0");
  expect(message).toMatch(/instanceType: "t3.medium"/);
});

test("the same stack with valid settings does register resources (the check above can fail)", async () => {
  const run = await runIsolated("dev");
  expect(run.resources.length).toBeGreaterThan(100);
});
