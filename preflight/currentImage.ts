/**
 * The current platform's node image: Canonical's Ubuntu 24.04 image as its public SSM parameter
 * names it today, and the pin (`nodeImageId`) the nodes actually run. The parameter moves with
 * every Canonical build; following it would replace every node on the next `pulumi up` after a
 * release. So the program never builds from it directly:
 *
 * - unpinned: nothing is created; the message gives the id the parameter names and the exact
 *   `pulumi config set` that pins it (the offline plan notes it like a placeholder and goes on);
 * - pinned: the pin must be Canonical's Ubuntu 24.04 amd64 image in the region; when the parameter
 *   names a newer one, an info line says so and how to move, and the nodes keep the pin.
 */
import type { ClusterConfig } from "../config/schema";
import { CANONICAL_OWNER_ID } from "../lib/ubuntuAmi";
import { pinNodeImageCommand, ubuntu2404LookupCommand, UBUNTU_2404_SSM_PARAMETER } from "../lib/platform";
import { errorText, isNoResult, type AwsLookups, type LookupFailure } from "./awsLookups";
import type { Placeholder } from "./placeholders";
import type { NodeImage } from "./ubuntuImage";

/** Canonical's AMI names of Ubuntu 24.04 (noble) amd64 server images with a gp3 root volume. */
export const UBUNTU_2404_AMI_NAME_PATTERN = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*";

export interface CurrentImageOutcome {
  /** The pin, or (unpinned) the parameter's id, so an offline plan can go on. */
  readonly image?: NodeImage;
  readonly problems: string[];
  readonly failures: LookupFailure[];
  /** nodeImageId unset: refused like a placeholder (a deployment stops; the offline plan lists it). */
  readonly unpinned?: Placeholder;
  /** Info for the preview: a newer Canonical image than the pin. */
  readonly notices: string[];
}

type CurrentImageConfig = Pick<ClusterConfig, "region" | "stack" | "nodeImageId">;

export async function resolveCurrentNodeImage(config: CurrentImageConfig, aws: AwsLookups): Promise<CurrentImageOutcome> {
  const { region, stack, nodeImageId } = config;
  let latest: string | undefined;
  try {
    latest = (await aws.getParameter({ name: UBUNTU_2404_SSM_PARAMETER, region, withDecryption: false })).insecureValue;
  } catch (error) {
    if (!isNoResult(error) && !/ParameterNotFound/.test(errorText(error))) {
      return {
        problems: [],
        failures: [{ what: `the SSM parameter ${UBUNTU_2404_SSM_PARAMETER}`, error: errorText(error) }],
        notices: [],
      };
    }
    return {
      problems: [
        `aws:region: ${JSON.stringify(region)} has no SSM parameter ${UBUNTU_2404_SSM_PARAMETER} (AWS: ${errorText(error)}): ` +
          "Canonical publishes it in every commercial region; check aws:region, or the account's access to public parameters " +
          `(${ubuntu2404LookupCommand(region)})`,
      ],
      failures: [],
      notices: [],
    };
  }
  if (nodeImageId === undefined) {
    return {
      image: { id: latest, pinned: false },
      problems: [],
      failures: [],
      notices: [],
      unpinned: {
        key: "nodeImageId",
        value: "",
        reason:
          `is not set: Canonical's Ubuntu 24.04 image in ${region} is ${latest} today (SSM ${UBUNTU_2404_SSM_PARAMETER}). ` +
          `Pin it, so that a new Canonical build never replaces the nodes by itself: ${pinNodeImageCommand(stack, latest)}`,
      },
    };
  }
  try {
    await aws.getAmi({
      region,
      owners: [CANONICAL_OWNER_ID],
      includeDeprecated: true,
      filters: [
        { name: "image-id", values: [nodeImageId] },
        { name: "name", values: [UBUNTU_2404_AMI_NAME_PATTERN] },
      ],
    });
  } catch (error) {
    if (!isNoResult(error)) {
      return { problems: [], failures: [{ what: `the pinned image ${nodeImageId}`, error: errorText(error) }], notices: [] };
    }
    return {
      problems: [
        `nodeImageId: ${JSON.stringify(nodeImageId)} is not Canonical's Ubuntu 24.04 amd64 image in ${region} (AMI ids belong to one region, ` +
          `and a deregistered image is gone): pin the one Canonical names today, ${pinNodeImageCommand(stack, latest)}`,
      ],
      failures: [],
      notices: [],
    };
  }
  const notices =
    latest === nodeImageId
      ? []
      : [
          `nodeImageId ${nodeImageId} is pinned, and Canonical's current Ubuntu 24.04 image in ${region} is ${latest} ` +
            `(SSM ${UBUNTU_2404_SSM_PARAMETER}). The nodes stay on ${nodeImageId}. To move them (every node is replaced, ` +
            `the data volume and the swarm are kept): ${pinNodeImageCommand(stack, latest)} (docs/platforms.md, "Refreshing the pin")`,
        ];
  return { image: { id: nodeImageId, pinned: true }, problems: [], failures: [], notices };
}
