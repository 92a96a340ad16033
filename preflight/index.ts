/**
 * What must hold outside the stack before anything billable exists: every check runs (all of them,
 * problems gathered) before the program registers its first resource, at preview as at update.
 *
 * - the repository's placeholders are gone (./placeholders.ts), and the privileged images are
 *   pinned by digest (lib/privilegedImages.ts: the shipped defaults are not, since no digest of
 *   ClusterHQ's images could be verified);
 * - the Ubuntu image exists today (./ubuntuImage.ts), and its id is what the nodes get;
 * - zone, instance type, vCPU quota and node memory fit (./capacity.ts);
 * - the Flocker images or package source and the Spark images answer (./artefacts.ts).
 *
 * docs/preflight.md lists every message.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config/schema";
import { CREDENTIAL_KEYS, redactSecrets, secretConfigKeys } from "../config/secretConfig";
import { FLOCKER_IMAGE_KEYS } from "../config/checks/flocker";
import { checkArtefacts, uncheckedHostsFrom } from "./artefacts";
import { providerLookups, type AwsLookups, type LookupFailure } from "./awsLookups";
import { checkCapacity } from "./capacity";
import { offlineHarness } from "./harness";
import { nodeHttp, type HttpClient } from "./http";
import { describePlaceholder, findPlaceholders, type Placeholder } from "./placeholders";
import { resolveNodeImage } from "./ubuntuImage";
import { resolveCurrentNodeImage, type CurrentImageOutcome } from "./currentImage";
import type { NodeImage } from "./ubuntuImage";
import { unpinnedPrivilegedImages } from "../lib/privilegedImages";

export type { NodeImage } from "./ubuntuImage";

/** What the checks learnt that the program builds with. */
export interface BillableFacts {
  readonly image: NodeImage;
  /** Info the preview prints (a newer Canonical image than the current platform's pin). */
  readonly notices: readonly string[];
}

export interface PreflightDependencies {
  readonly aws: AwsLookups;
  readonly http: HttpClient;
  /** Hosts only the nodes reach, whose images and indexes are not fetched from here. */
  readonly uncheckedHosts: ReadonlySet<string>;
  /** Placeholders found; "refuse" stops the program, a function records them and goes on. */
  readonly placeholders: "refuse" | ((found: readonly Placeholder[]) => void);
}

/** A real deployment's dependencies, or an offline run's (tools/plan/mockRuntime.ts) when there is one. */
export function defaultDependencies(env: NodeJS.ProcessEnv = process.env): PreflightDependencies {
  const harness = offlineHarness();
  const uncheckedHosts = uncheckedHostsFrom(env);
  if (harness === undefined) return { aws: providerLookups, http: nodeHttp, uncheckedHosts, placeholders: "refuse" };
  return {
    aws: providerLookups,
    http: harness.http,
    uncheckedHosts,
    placeholders: harness.placeholders === "refuse" ? "refuse" : (found) => harness.recorded.push(...found),
  };
}

/** The program's own placeholder candidates. */
function placeholdersIn(config: ClusterConfig): Placeholder[] {
  if (config.platform === "current") {
    return findPlaceholders(
      {
        adminCidrs: config.adminCidrs,
        ubuntuArchiveMirror: config.ubuntuArchiveMirror,
        images: { sparkImage: config.sparkImage },
      },
      config.stack,
    );
  }
  const images: Record<string, string> = {
    sparkMasterImage: config.sparkMasterImage,
    sparkWorkerImage: config.sparkWorkerImage,
    flockerTestImage: config.flockerTestImage,
  };
  if (config.flocker.kind === "containers") {
    for (const [part, key] of Object.entries(FLOCKER_IMAGE_KEYS))
      images[key] = config.flocker.images[part as keyof typeof FLOCKER_IMAGE_KEYS];
  }
  const packages = config.flocker.kind === "packages" ? config.flocker.packages : undefined;
  return findPlaceholders(
    {
      adminCidrs: config.adminCidrs,
      flockerAptSource: packages?.kind === "apt" ? packages.aptSource : undefined,
      ubuntuArchiveMirror: config.ubuntuArchiveMirror,
      images,
    },
    config.stack,
  );
}

/**
 * Privileged images taken by a tag: refused and recorded like placeholders (a deployment stops,
 * the offline plan lists them), but still looked up in their registry, where the tag must exist.
 */
function unpinnedIn(config: ClusterConfig): Placeholder[] {
  return config.platform === "book" && config.flocker.kind === "containers"
    ? unpinnedPrivilegedImages(config.flocker.images).map(({ key, image, reason }) => ({ key, value: image, reason }))
    : [];
}

/** One line per distinct refusal: with bad credentials every look-up fails the same way. */
function failureProblems(failures: readonly LookupFailure[], current: boolean): string[] {
  const byError = new Map<string, string[]>();
  for (const failure of failures) byError.set(failure.error, [...(byError.get(failure.error) ?? []), failure.what]);
  return [...byError].map(
    ([error, whats]) =>
      `AWS refused to describe ${whats.join(", ")}: ${error} (check the credentials and region this stack runs with: aws sts get-caller-identity; ` +
      `the identity needs ${current ? "ec2:Describe*, servicequotas:GetServiceQuota and ssm:GetParameter" : "ec2:Describe* and servicequotas:GetServiceQuota"})`,
  );
}

/** The nodes' image: the book's Ubuntu 16.04/18.04 lookup, or the current platform's pinned 24.04. */
async function imageOf(config: ClusterConfig, aws: AwsLookups): Promise<CurrentImageOutcome> {
  if (config.platform === "current") return resolveCurrentNodeImage(config, aws);
  return { ...(await resolveNodeImage(config, aws)), notices: [] };
}

/** Throws a RunError listing every problem found; resolves with the facts when the world agrees with the config. */
export async function checkBeforeBillable(
  config: ClusterConfig,
  dependencies: PreflightDependencies = defaultDependencies(),
): Promise<BillableFacts> {
  const placeholders = placeholdersIn(config);
  const aptSource =
    config.flocker.kind === "packages" && config.flocker.packages.kind === "apt" ? config.flocker.packages.aptSource : undefined;
  const secretKeys = secretConfigKeys(config.project, CREDENTIAL_KEYS);
  const secretAptSource = aptSource !== undefined && secretKeys.has("flockerAptSource");
  // Every value that may hold credentials and was set with --secret stays out of the message.
  const secretValues = [
    ...(secretAptSource && aptSource !== undefined ? [aptSource] : []),
    ...(secretKeys.has("ubuntuArchiveMirror") && config.ubuntuArchiveMirror !== "" ? [config.ubuntuArchiveMirror] : []),
  ];
  const [image, capacity, artefacts] = await Promise.all([
    imageOf(config, dependencies.aws),
    checkCapacity(config, dependencies.aws),
    checkArtefacts(config, {
      http: dependencies.http,
      uncheckedHosts: dependencies.uncheckedHosts,
      placeholderKeys: new Set(placeholders.map((p) => p.key)),
      secretAptSource,
    }),
  ]);
  // The current platform's unpinned image is refused like a placeholder: a deployment stops with
  // the id and the command that pins it; the offline plan lists it and goes on.
  const unpinnedImage = image.unpinned !== undefined ? [image.unpinned] : [];
  const blockers = [...placeholders, ...unpinnedIn(config), ...unpinnedImage];
  const problems: string[] = [];
  if (dependencies.placeholders === "refuse") {
    problems.push(...blockers.map(describePlaceholder));
  } else {
    dependencies.placeholders(blockers);
  }
  problems.push(
    ...image.problems,
    ...capacity.problems,
    ...artefacts,
    ...failureProblems([...image.failures, ...capacity.failures], config.platform === "current"),
  );
  if (problems.length > 0 || image.image === undefined) {
    const message =
      `Stack ${config.stack} cannot be deployed as configured (checked before creating anything; nothing was created):\n` +
      problems.map((p) => `  - ${p}`).join("\n");
    // A secret apt line or mirror (a placeholder message quotes it whole) never reaches the screen.
    throw new pulumi.RunError(redactSecrets(message, secretValues));
  }
  return { image: image.image, notices: image.notices };
}
