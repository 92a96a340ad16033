/**
 * tests/slow-tier.txt read as tests/run-all.sh reads it: which suites `npm run test:slow` runs;
 * `npm test` runs every other one.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../common/stackConfig";

export type Tier = "fast" | "slow";

/** The list's entries: suite paths, and directories (ending in /) that take every suite in them. */
export function slowTierEntries(root: string = PROJECT_ROOT): string[] {
  return fs
    .readFileSync(path.join(root, "tests", "slow-tier.txt"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** The tier of a suite given by its path from the repository's root (`tests/bats/common.bats`). */
export function tierOf(suite: string, entries: readonly string[] = slowTierEntries()): Tier {
  const slow = entries.some((entry) => entry === suite || (entry.endsWith("/") && suite.startsWith(entry)));
  return slow ? "slow" : "fast";
}
