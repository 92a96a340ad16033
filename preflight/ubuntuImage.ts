/**
 * The nodes' image as it exists today: the newest Canonical build of `ubuntuRelease`, deprecated
 * builds included (lib/ubuntuAmi.ts says why), or the pinned `ami`, proven to exist in the region.
 * Resolved once here, before any resource, and handed to the nodes as a plain id.
 */
import type { ClusterConfig } from "../config/schema";
import { CANONICAL_OWNER_ID, ubuntuAmiFilters, ubuntuAmiLookupCommand } from "../lib/ubuntuAmi";
import { errorText, isNoResult, type AwsLookups, type LookupFailure } from "./awsLookups";

export interface NodeImage {
  readonly id: string;
  /** The operator pinned it (`ami`): a changed pin replaces the nodes; a newer Canonical build does not. */
  readonly pinned: boolean;
}

export interface ImageOutcome {
  readonly image?: NodeImage;
  readonly problems: string[];
  readonly failures: LookupFailure[];
}

type ImageConfig = Pick<ClusterConfig, "region" | "ubuntuRelease" | "ami">;

export async function resolveNodeImage(config: ImageConfig, aws: AwsLookups): Promise<ImageOutcome> {
  const { region, ubuntuRelease, ami } = config;
  const find = ubuntuAmiLookupCommand(region, ubuntuRelease);
  if (ami !== undefined) {
    try {
      const image = await aws.getAmi({ region, includeDeprecated: true, filters: [{ name: "image-id", values: [ami] }] });
      return { image: { id: image.id, pinned: true }, problems: [], failures: [] };
    } catch (error) {
      if (!isNoResult(error)) return { problems: [], failures: [{ what: `the pinned image ${ami}`, error: errorText(error) }] };
      return {
        problems: [
          `ami: ${JSON.stringify(ami)} is not an image in ${region} (AMI ids belong to one region, and a deregistered image is gone): ` +
            `pin an image of this region (find Canonical's ${ubuntuRelease} image with: ${find}), ` +
            `or pulumi config rm ami to use the newest Canonical image of ubuntuRelease ${ubuntuRelease}`,
        ],
        failures: [],
      };
    }
  }
  try {
    const image = await aws.getAmi({
      region,
      mostRecent: true,
      owners: [CANONICAL_OWNER_ID],
      includeDeprecated: true,
      filters: ubuntuAmiFilters(ubuntuRelease),
    });
    return { image: { id: image.id, pinned: false }, problems: [], failures: [] };
  } catch (error) {
    if (!isNoResult(error))
      return { problems: [], failures: [{ what: `Canonical's Ubuntu ${ubuntuRelease} image`, error: errorText(error) }] };
    return {
      problems: [
        `ubuntuRelease: ${JSON.stringify(ubuntuRelease)} has no Canonical image in ${region}, deprecated ones included ` +
          `(AWS: ${errorText(error)}): pin an image id with pulumi config set ami ami-... (list candidates with: ${find}; ` +
          "without --include-deprecated AWS hides end-of-life releases), or choose another ubuntuRelease",
      ],
      failures: [],
    };
  }
}
