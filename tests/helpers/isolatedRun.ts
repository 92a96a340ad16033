/**
 * Runs the program in a fresh module registry, so one test file can evaluate several
 * configurations (the Pulumi runtime and the program's modules are loaded anew each time).
 */
import type { ProgramRun } from "../../tools/mockRuntime";
import { qualifiedConfigKey, readStackConfig } from "../../tools/stackConfig";

/** The stack's config with bare keys overridden (`{ nodeCount: "30" }`). */
export function stackConfigWith(stack: string, overrides: Record<string, string>): Record<string, string> {
  const config = readStackConfig(stack);
  for (const [key, value] of Object.entries(overrides)) config[qualifiedConfigKey(key)] = value;
  return config;
}

export async function runIsolated(stack: string, overrides: Record<string, string> = {}): Promise<ProgramRun> {
  let result: ProgramRun | undefined;
  await jest.isolateModulesAsync(async () => {
    const { runProgram } = require("../../tools/mockRuntime") as typeof import("../../tools/mockRuntime");
    result = await runProgram({ stack, config: stackConfigWith(stack, overrides) });
  });
  return result!;
}
