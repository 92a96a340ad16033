/**
 * Which images each node pulls right after Docker (scripts/pull-images.sh), each with the config
 * key that names it so that a failed pull says what to fix. A node pulls what can run on it: the
 * Flocker containers it runs (containers mode), the Spark service its placement allows (the
 * master only on the labelled node, workers on every other Swarm node, the first manager's SparkPi
 * run included), and the Flocker test's image on the node that runs the test.
 *
 * Two lists per node, because they are awaited by different steps: Flocker's containers need only
 * theirs, and must not wait for a large Spark image.
 */
import { FLOCKER_IMAGE_KEYS, type FlockerImages, type FlockerSource } from "./clusterTypes";
import type { NodeSpec, Topology } from "./topology";

export interface ImageRef {
  /** The config key that names the image, e.g. sparkWorkerImage. */
  readonly key: string;
  readonly image: string;
}

export interface NodeImageLists {
  /** The images of the Flocker containers on this node; empty in packages mode. */
  readonly flocker: readonly ImageRef[];
  /** The images of the Spark services and the Flocker test that can run on this node. */
  readonly services: readonly ImageRef[];
}

/** The part of ClusterConfig that decides what each node pulls. */
export interface NodeImageConfig {
  readonly flocker: FlockerSource;
  readonly sparkMasterImage: string;
  readonly sparkWorkerImage: string;
  readonly flockerTest: boolean;
  readonly flockerTestImage: string;
  /** @default book */
  readonly platform?: "book" | "current";
  /** The current platform's one Spark image (master, workers, SparkPi). */
  readonly sparkImage?: string;
}

/** The node that runs the book's Flocker test: a plain Swarm worker, else the Spark master's. */
export function flockerTestNode(layout: Topology): NodeSpec {
  return layout.workers.find((n) => n.role === "worker") ?? layout.sparkMaster;
}

function flockerImageRefs(images: FlockerImages, withControl: boolean): ImageRef[] {
  const parts: (keyof FlockerImages)[] = withControl
    ? ["control", "datasetAgent", "containerAgent", "plugin"]
    : ["datasetAgent", "containerAgent", "plugin"];
  return parts.map((part) => ({ key: FLOCKER_IMAGE_KEYS[part], image: images[part] }));
}

/** One entry per image: a second key naming the same image adds nothing to pull. */
function distinct(refs: readonly ImageRef[]): ImageRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(ref.image) && seen.add(ref.image) !== undefined);
}

export function nodeImageLists(layout: Topology, config: NodeImageConfig): Record<string, NodeImageLists> {
  if (config.platform === "current") {
    // No Flocker and one image: every Swarm node (all of them) may run a Spark task.
    const image = config.sparkImage;
    if (image === undefined) throw new Error("the current platform needs sparkImage");
    return Object.fromEntries(
      layout.nodes.map((node) => [
        node.name,
        { flocker: [], services: node.swarmRole === undefined ? [] : [{ key: "sparkImage", image }] },
      ]),
    );
  }
  const testNode = config.flockerTest ? flockerTestNode(layout).name : undefined;
  return Object.fromEntries(
    layout.nodes.map((node) => {
      const flocker =
        config.flocker.kind === "containers" ? flockerImageRefs(config.flocker.images, node.name === layout.control?.name) : [];
      const services: ImageRef[] = [];
      if (node.swarmRole !== undefined) {
        services.push(
          node.name === layout.sparkMaster.name
            ? { key: "sparkMasterImage", image: config.sparkMasterImage }
            : { key: "sparkWorkerImage", image: config.sparkWorkerImage },
        );
      }
      if (node.name === testNode) services.push({ key: "flockerTestImage", image: config.flockerTestImage });
      return [node.name, { flocker: distinct(flocker), services: distinct(services) }];
    }),
  );
}

/** The IMAGES parameter of scripts/pull-images.sh: `key=image` pairs separated by spaces. */
export function pullImagesParameter(refs: readonly ImageRef[]): string {
  return refs.map((ref) => `${ref.key}=${ref.image}`).join(" ");
}
