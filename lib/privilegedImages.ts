/**
 * The images that run with the node in their hands (scripts/flocker-containers.sh): in containers
 * mode the Flocker dataset agent (--privileged, the host's / and /dev), the container agent
 * (--privileged, the Docker socket), the Docker plugin (the Docker socket directory) and the control
 * service (the cluster's state and key) all run with host networking and /etc/flocker, which holds
 * the node's certificates and Flocker's AWS key. Whoever can move a tag they are pulled by owns every
 * node, so a deployment takes them by digest only (docs/security.md, "Privileged images").
 */
import { FLOCKER_IMAGE_KEYS, type FlockerImages } from "./clusterTypes";

/** How each image runs, for the message that asks for its digest. */
const HOW_IT_RUNS: Readonly<Record<keyof FlockerImages, string>> = {
  control: "runs with host networking and the cluster's state",
  datasetAgent: "runs --privileged with host networking and the host's / and /dev",
  containerAgent: "runs --privileged with host networking and the Docker socket",
  plugin: "runs with host networking and the Docker socket directory",
};

/** What every one of them also mounts. */
const FLOCKER_ETC = "/etc/flocker (the node's keys and Flocker's AWS key)";

/** `name@sha256:<64 hex>` or `name:tag@sha256:<64 hex>`: the digest decides what is pulled, the tag is a label. */
export function isPinnedByDigest(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

/**
 * The commands that print an image's digest on any machine with a plain Docker engine: `docker
 * pull` then the repository digest the pull recorded. Neither needs the buildx plugin (`docker
 * buildx imagetools inspect`) nor a manifest format `docker manifest inspect` can read (ClusterHQ's
 * 2016 images may be schema 1), and pulling runs nothing.
 */
export function digestCommand(image: string): string {
  return `docker pull ${image} && docker image inspect --format '{{index .RepoDigests 0}}' ${image}`;
}

export interface UnpinnedImage {
  /** The config key, e.g. flockerDatasetAgentImage. */
  readonly key: string;
  readonly image: string;
  /** Why it must be pinned and how to find the digest. */
  readonly reason: string;
}

/** The privileged images (containers mode's four) that are not pinned by digest, in key order. */
export function unpinnedPrivilegedImages(images: FlockerImages): UnpinnedImage[] {
  return (Object.keys(FLOCKER_IMAGE_KEYS) as (keyof FlockerImages)[])
    .filter((part) => !isPinnedByDigest(images[part]))
    .map((part) => ({
      key: FLOCKER_IMAGE_KEYS[part],
      image: images[part],
      reason:
        `is not pinned by digest, and it ${HOW_IT_RUNS[part]} and ${FLOCKER_ETC}: whoever moves its tag runs code as root on every node. ` +
        `Print the digest with \`${digestCommand(images[part])}\`, check it is the image you mean, and set ` +
        `pulumi config set ${FLOCKER_IMAGE_KEYS[part]} <name>:<tag>@sha256:<digest> (or mirror it to your own registry)`,
    }));
}
