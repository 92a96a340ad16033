/**
 * Checks of how Flocker gets onto the nodes: the install mode, the four images of containers mode,
 * the package source of packages mode (each source is refused in the mode that does not use it,
 * so a leftover key never silently does nothing), and the Flocker test.
 */
import { FLOCKER_IMAGE_KEYS, type FlockerImageKey, type FlockerImages, type FlockerSource } from "../../lib/clusterTypes";
import type { FileProbe } from "../fileProbe";
import { dockerImageReferenceProblem } from "../formats";
import { checkFlockerPackages, reportAptOnlyKeys, type AptSourceTexts } from "./software";
import type { Report } from "./report";

export { FLOCKER_IMAGE_KEYS };

/** ClusterHQ's repository of each image, for the example in a message about its key. */
const FLOCKER_IMAGE_EXAMPLES: Readonly<Record<keyof FlockerImages, string>> = {
  control: "clusterhq/flocker-control-service",
  datasetAgent: "clusterhq/flocker-dataset-agent",
  containerAgent: "clusterhq/flocker-container-agent",
  plugin: "clusterhq/flocker-docker-plugin",
};

/** A Docker image reference, or a problem naming the key. */
export function checkImageReference(key: string, image: string, example: string, report: Report): string | undefined {
  const problem = dockerImageReferenceProblem(image);
  if (problem === undefined) return image;
  report(
    key,
    image,
    `is not a Docker image reference (${problem}): use [registry/]name[:tag][@sha256:digest] in lower case, e.g. ${example}`,
  );
  return undefined;
}

export interface FlockerSourceTexts {
  readonly install: string;
  readonly images: Readonly<Record<keyof FlockerImages, string>>;
  readonly apt: AptSourceTexts;
  readonly debDir: string;
}

export function checkFlockerSource(
  texts: FlockerSourceTexts,
  files: FileProbe | undefined,
  report: Report,
): FlockerSource | undefined {
  const images: Partial<Record<keyof FlockerImages, string>> = {};
  for (const [part, key] of Object.entries(FLOCKER_IMAGE_KEYS) as [keyof FlockerImages, FlockerImageKey][]) {
    images[part] = checkImageReference(key, texts.images[part], `${FLOCKER_IMAGE_EXAMPLES[part]}@sha256:<digest>`, report);
  }
  if (texts.install === "containers") {
    if (texts.apt.line === "") reportAptOnlyKeys(texts.apt, "flockerInstall is containers", report);
    for (const key of ["flockerAptSource", "flockerDebDir"] as const) {
      const value = key === "flockerAptSource" ? texts.apt.line : texts.debDir;
      if (value !== "") {
        report(
          key,
          value,
          `is only read when flockerInstall is packages, and flockerInstall is containers: remove it (pulumi config rm ${key}) or set flockerInstall to packages`,
        );
      }
    }
    const { control, datasetAgent, containerAgent, plugin } = images;
    if (control === undefined || datasetAgent === undefined || containerAgent === undefined || plugin === undefined)
      return undefined;
    if (texts.apt.line !== "" || texts.debDir !== "") return undefined;
    return { kind: "containers", images: { control, datasetAgent, containerAgent, plugin } };
  }
  if (texts.install === "packages") {
    const packages = checkFlockerPackages(texts.apt, texts.debDir, files, report);
    return packages === undefined ? undefined : { kind: "packages", packages };
  }
  report(
    "flockerInstall",
    texts.install,
    "is not allowed: use containers (ClusterHQ's Flocker images, nothing to build) or packages (Flocker 1.15 packages from flockerAptSource or flockerDebDir)",
  );
  return undefined;
}
