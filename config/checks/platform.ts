/**
 * The platform (`book` or `current`) and the keys that only one of them reads. A key set for the
 * other platform would be silently ignored (an `ami` on a current stack, a `nodeImageId` on a book
 * stack): it is refused instead, with what to do.
 */
import { dockerImageReferenceProblem, isAmiId } from "../formats";
import { isCurrentPlatformInstanceType, isPlausibleInstanceType, isXenInstanceType } from "../../lib/instanceTypes";
import { PLATFORMS, UBUNTU_2404_SSM_PARAMETER, type Platform } from "../../lib/platform";
import type { ConfigKey } from "../schema";
import type { Report } from "./report";

/** Keys only the book platform reads, and what takes their place on the current platform. */
export const BOOK_ONLY_KEYS: Readonly<Partial<Record<ConfigKey, string>>> = {
  ubuntuRelease: "the current platform runs Ubuntu 24.04 (nodeImageId)",
  ami: "the current platform's image is nodeImageId",
  ubuntuArchiveMirror:
    "Ubuntu 24.04 keeps its apt sources in deb822 form (/etc/apt/sources.list.d/ubuntu.sources), which install-docker.sh's mirror rewrite does not edit, and its own regional mirror serves it",
  flockerControlVolumeSizeGiB: "the current platform has no Flocker",
  flockerInstall: "the current platform has no Flocker",
  flockerControlImage: "the current platform has no Flocker",
  flockerDatasetAgentImage: "the current platform has no Flocker",
  flockerContainerAgentImage: "the current platform has no Flocker",
  flockerPluginImage: "the current platform has no Flocker",
  flockerTest: "the current platform has no Flocker",
  flockerTestImage: "the current platform has no Flocker",
  flockerAptSource: "the current platform has no Flocker",
  flockerAptKey: "the current platform has no Flocker",
  flockerAptAllowUnsigned: "the current platform has no Flocker",
  flockerDebDir: "the current platform has no Flocker",
  sparkVolumeProfile: "the current platform's Spark data is an encrypted gp3 volume, without Flocker profiles",
  sparkMasterImage: "the current platform runs one image, sparkImage",
  sparkWorkerImage: "the current platform runs one image, sparkImage",
};

/** Keys only the current platform reads, and what the book platform reads instead. */
export const CURRENT_ONLY_KEYS: Readonly<Partial<Record<ConfigKey, string>>> = {
  nodeImageId: "the book platform's image is ami (or the newest Canonical image of ubuntuRelease)",
  sparkImage: "the book platform's images are sparkMasterImage and sparkWorkerImage",
};

export function checkPlatform(text: string, report: Report): Platform | undefined {
  const platform = PLATFORMS.find((p) => p === text);
  if (platform !== undefined) return platform;
  report(
    "platform",
    text,
    `is not a platform: use book (the chapter as written, with Flocker) or current (Ubuntu 24.04, Nitro, no Flocker); docs/platforms.md compares them`,
  );
  return undefined;
}

/** Refuses every key set in the stack's configuration that the other platform reads. */
export function checkPlatformKeys(platform: Platform, given: Readonly<Partial<Record<ConfigKey, string>>>, report: Report): void {
  const foreign = platform === "book" ? CURRENT_ONLY_KEYS : BOOK_ONLY_KEYS;
  const other: Platform = platform === "book" ? "current" : "book";
  for (const [key, instead] of Object.entries(foreign) as [ConfigKey, string][]) {
    const value = given[key];
    if (value === undefined) continue;
    report(
      key,
      value,
      `is only read on platform ${other}, and this stack's platform is ${platform} (${instead}): remove it (pulumi config rm ${key}), ` +
        `or set platform to ${other} if that is the cluster you mean`,
    );
  }
}

/** The current platform's instance types: Nitro, from the list the price table covers. */
export function checkCurrentInstanceType(instanceType: string, examples: readonly string[], report: Report): string | undefined {
  if (isCurrentPlatformInstanceType(instanceType)) return instanceType;
  const why = !isPlausibleInstanceType(instanceType)
    ? "is not an EC2 instance type name"
    : isXenInstanceType(instanceType)
      ? "is a Xen type, and the current platform runs on Nitro (EBS as NVMe, found by its volume id)"
      : "is not on the current platform's list of Nitro types (lib/instanceTypes.ts; the cost estimate prices exactly these)";
  report("instanceType", instanceType, `${why}: on platform current use one of ${examples.join(", ")}`);
  return undefined;
}

/** An AMI id, or empty (the preflight then stops and prints the id to pin). */
export function checkNodeImageId(text: string, report: Report): string | undefined {
  if (text === "" || isAmiId(text)) return text;
  report(
    "nodeImageId",
    text,
    `is not an AMI id: use ami- followed by 8 or 17 hexadecimal digits, the value of the SSM parameter ${UBUNTU_2404_SSM_PARAMETER} ` +
      "in this stack's region (a preview with nodeImageId unset prints it and the command that pins it)",
  );
  return undefined;
}

/** The current platform's Spark image: a Docker reference pinned by digest. */
export function checkSparkImage(text: string, report: Report): string | undefined {
  const problem = dockerImageReferenceProblem(text);
  if (problem === undefined && /@sha256:[0-9a-f]{64}$/.test(text)) return text;
  report(
    "sparkImage",
    text,
    problem !== undefined
      ? `is not a Docker image reference (${problem}): use name:tag@sha256:<digest>, e.g. apache/spark:3.5.6@sha256:<digest>`
      : "is not pinned by digest: use name:tag@sha256:<digest> (docker buildx imagetools inspect apache/spark:3.5.6 prints the digest), so every node runs the same bytes",
  );
  return undefined;
}
