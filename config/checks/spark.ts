/**
 * Checks of the Spark part: the Flocker volume's size and profile, the workers and the smoke test.
 */
import { isStorageProfileName, volumeRequestFor } from "../../lib/ebsProfiles";
import { FLOCKER_DEFAULT_SIZE_GIB, flockerParseNum, isWholeGiB, parseFlockerSize } from "../../lib/flockerSize";
import { sparkMemoryMiB } from "../formats";
import type { StorageProfileName } from "../schema";
import { readBoolean, type Report } from "./report";

/** EBS's largest volume (gp2, io1), GiB. */
export const MAX_VOLUME_GIB = 16384;

const VOLUME_SIZE_FORMAT =
  "use digits and an optional unit K, M, G or T, optionally followed by B or iB, in any case (e.g. 75G or 100GiB)";

/** What Flocker itself would make of a size we refuse, so the user sees why we refuse it. */
function whatFlockerWouldDo(text: string): string {
  const outcome = flockerParseNum(text);
  if (outcome.kind === "error") return "Flocker's Docker plugin would fail on it";
  if (outcome.kind === "default") {
    return `Flocker's Docker plugin cannot read it and would silently create its ${FLOCKER_DEFAULT_SIZE_GIB} GiB default`;
  }
  return `Flocker's Docker plugin would read it as ${outcome.size.gib} GiB`;
}

/** The size in whole GiB, exactly as Flocker will ask EBS for it. */
function checkVolumeSize(text: string, report: Report): number | undefined {
  const size = parseFlockerSize(text);
  if (size === undefined) {
    report(
      "sparkVolumeSize",
      text,
      `is not a size Flocker reads as written (${whatFlockerWouldDo(text)}): ${VOLUME_SIZE_FORMAT}`,
    );
    return undefined;
  }
  if (size.gib < 1 || size.gib > MAX_VOLUME_GIB) {
    report("sparkVolumeSize", text, `is not allowed: use 1 GiB (EBS's minimum) to ${MAX_VOLUME_GIB} GiB, e.g. 75G or 100GiB`);
    return undefined;
  }
  // Flocker rounds the request up to its 1 GiB allocation unit before CreateVolume: refuse sizes
  // where that makes the volume differ from what was written.
  if (!isWholeGiB(size)) {
    const roundedUp = size.gib + 1;
    report(
      "sparkVolumeSize",
      text,
      `is not a whole number of GiB: Flocker would round it up to ${roundedUp} GiB for EBS; write a size in GiB, e.g. ${roundedUp}G or ${size.gib}G`,
    );
    return undefined;
  }
  return size.gib;
}

function checkVolumeProfile(profile: string, report: Report): StorageProfileName | undefined {
  if (isStorageProfileName(profile)) return profile;
  report(
    "sparkVolumeProfile",
    profile,
    "is not a Flocker storage profile: use gold (io1 SSD), silver (gp2 SSD) or bronze (magnetic standard, the default), in lower case",
  );
  return undefined;
}

/** The profile's EBS limits, from the catalog that also documents the profiles. */
function checkProfileFitsSize(profile: StorageProfileName, sizeText: string, gib: number, report: Report): boolean {
  try {
    volumeRequestFor(profile, gib);
    return true;
  } catch (error) {
    const alternative = profile === "bronze" ? "silver or gold for a larger volume" : "a larger size, or silver or bronze";
    const limits = error instanceof Error ? error.message : String(error);
    report(
      "sparkVolumeProfile",
      profile,
      `is not allowed with sparkVolumeSize ${JSON.stringify(sizeText)}: ${limits}; use ${alternative}`,
    );
    return false;
  }
}

export interface SparkVolume {
  readonly gib: number;
  readonly profile: StorageProfileName;
}

export function checkSparkVolume(sizeText: string, profileText: string, report: Report): SparkVolume | undefined {
  const gib = checkVolumeSize(sizeText, report);
  const profile = checkVolumeProfile(profileText, report);
  if (gib === undefined || profile === undefined) return undefined;
  return checkProfileFitsSize(profile, sizeText, gib, report) ? { gib, profile } : undefined;
}

/**
 * The current platform's Spark data volume (components/sparkData.ts): gp3, so any whole number of
 * GiB from 1 to EBS's limit, written as on the book platform; no Flocker parses it and no profile
 * bounds it (sparkVolumeProfile is the book's alone, refused on current).
 */
export function checkCurrentSparkVolume(sizeText: string, profileText: string, report: Report): SparkVolume | undefined {
  const size = parseFlockerSize(sizeText);
  if (size === undefined || !isWholeGiB(size) || size.gib < 1 || size.gib > MAX_VOLUME_GIB) {
    report(
      "sparkVolumeSize",
      sizeText,
      `is not a size of the Spark data volume: use a whole number of GiB from 1 to ${MAX_VOLUME_GIB} (gp3's limits), ` +
        "as digits and an optional unit G or T, optionally followed by B or iB, in any case (e.g. 75G, 100GiB or 2T)",
    );
    return undefined;
  }
  // The profile is the book's: only carried here (its default), and refused when set (checkPlatformKeys).
  return { gib: size.gib, profile: isStorageProfileName(profileText) ? profileText : "bronze" };
}

export function checkWorkerMemory(memory: string, report: Report): string | undefined {
  if (sparkMemoryMiB(memory) !== undefined) return memory;
  report(
    "sparkWorkerMemory",
    memory,
    "is not a Spark memory size: use a whole number and a unit k, m, g or t, at least 1m (e.g. 1g, 512m or 2048m)",
  );
  return undefined;
}

/** SparkPi waits for an executor, so a smoke test with no workers would never finish. */
export function checkSmokeTest(text: string, workerReplicas: number | undefined, report: Report): boolean | undefined {
  const smokeTest = readBoolean("smokeTest", text, report);
  if (smokeTest === true && workerReplicas === 0) {
    report(
      "smokeTest",
      text,
      'is not allowed with sparkWorkerReplicas "0": SparkPi would wait for a worker forever; set smokeTest to false or run at least one worker',
    );
    return undefined;
  }
  return smokeTest;
}
