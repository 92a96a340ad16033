/**
 * How an offline run (tests, `npm run plan`) tells the preflight that it runs under mocks: a value
 * on the global object under a registered symbol, put there only by tools/plan/mockRuntime.ts's
 * runProgram. A real `pulumi up` has no way to set it — no config key, environment variable or
 * file does — so the program's own refusal of placeholders cannot be switched off by a stack.
 */
import type { HttpClient } from "./http";
import type { Placeholder } from "./placeholders";

/** Registered (Symbol.for), so that modules loaded in separate jest registries see the same mark. */
const OFFLINE_HARNESS = Symbol.for("swarm-flocker/preflight/offline-harness");

export interface OfflineHarness {
  /** The world the registry and repository checks see instead of the internet. */
  readonly http: HttpClient;
  /**
   * "record": placeholders are noted in `recorded` and the run goes on (the offline plan of the
   * shipped stacks); "refuse": they stop the program, as in a deployment.
   */
  readonly placeholders: "record" | "refuse";
  readonly recorded: Placeholder[];
}

type Marked = typeof globalThis & { [OFFLINE_HARNESS]?: OfflineHarness };

export function installOfflineHarness(harness: OfflineHarness): void {
  (globalThis as Marked)[OFFLINE_HARNESS] = harness;
}

export function removeOfflineHarness(): void {
  delete (globalThis as Marked)[OFFLINE_HARNESS];
}

/** The harness of the current offline run; undefined in a real deployment. */
export function offlineHarness(): OfflineHarness | undefined {
  return (globalThis as Marked)[OFFLINE_HARNESS];
}
