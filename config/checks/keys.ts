/**
 * Keys in the project's config namespace that the program does not read: a misspelt key would
 * otherwise be ignored and its default silently used (`nodecount: 3` building ten nodes).
 */
import { closest, distance } from "fastest-levenshtein";
import type { Report } from "./report";

/** A suggestion is made within this many edits of a known key (or on a case-only difference). */
const MAX_SUGGESTION_DISTANCE = 3;

/** The known key a mistyped one most likely means, or undefined when none is close. */
export function nearestKnownKey(key: string, known: readonly string[]): string | undefined {
  const sameLetters = known.find((candidate) => candidate.toLowerCase() === key.toLowerCase());
  if (sameLetters !== undefined) return sameLetters;
  const nearest = closest(key, [...known]);
  return nearest !== undefined && distance(key.toLowerCase(), nearest.toLowerCase()) <= MAX_SUGGESTION_DISTANCE
    ? nearest
    : undefined;
}

/**
 * Keys that reach the program through the stack's configuration (`pulumi config set`, the stack
 * file): the fix is a `pulumi config` command. The offline plan refuses its own `--set` overrides
 * before the program runs (tools/plan/plan.ts), with a fix in its own terms.
 */
export function checkUnknownKeys(project: string, given: readonly string[], known: readonly string[], report: Report): void {
  const prefix = `${project}:`;
  for (const qualified of given) {
    if (!qualified.startsWith(prefix)) continue;
    const key = qualified.slice(prefix.length);
    if (known.includes(key)) continue;
    const nearest = nearestKnownKey(key, known);
    const suggestion =
      nearest !== undefined
        ? `did you mean ${nearest}? (pulumi config rm ${key} && pulumi config set ${nearest} ...)`
        : `remove it (pulumi config rm ${key}); the keys this stack reads are listed in docs/configuration.md`;
    report(key, undefined, `is not a setting of this stack: ${suggestion}`);
  }
}
