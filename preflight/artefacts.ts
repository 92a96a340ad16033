/**
 * Everything the nodes will download, proven from the operator's side: the Flocker images
 * (containers mode) or package source (packages mode), the Spark images, the Flocker test's image.
 */
import type { ClusterConfig } from "../config/schema";
import { FLOCKER_IMAGE_KEYS } from "../config/checks/flocker";
import type { HttpClient } from "./http";
import { checkAptSource, checkDebDir } from "./packageSource";
import { checkImage, locateImage, type ImageVerdict } from "./registry";

/** Environment variable: hosts (comma- or space-separated) only the nodes can reach, not checked from here. */
const UNCHECKED_HOSTS_VARIABLE = "SWARM_FLOCKER_UNCHECKED_HOSTS";

function skipHint(host: string): string {
  return `if only the nodes can reach ${host}, skip this check: ${UNCHECKED_HOSTS_VARIABLE}=${host} pulumi up`;
}

type ArtefactConfig = Pick<
  ClusterConfig,
  "flocker" | "sparkMasterImage" | "sparkWorkerImage" | "flockerTest" | "flockerTestImage"
> &
  Partial<Pick<ClusterConfig, "platform" | "sparkImage">>;

/** Image references to check, by config key. */
function imagesToCheck(config: ArtefactConfig): [string, string][] {
  // The current platform runs one image and no Flocker.
  if (config.platform === "current") return config.sparkImage === undefined ? [] : [["sparkImage", config.sparkImage]];
  const images: [string, string][] = [];
  if (config.flocker.kind === "containers") {
    for (const [part, key] of Object.entries(FLOCKER_IMAGE_KEYS)) {
      images.push([key, config.flocker.images[part as keyof typeof FLOCKER_IMAGE_KEYS]]);
    }
  }
  images.push(["sparkMasterImage", config.sparkMasterImage], ["sparkWorkerImage", config.sparkWorkerImage]);
  if (config.flockerTest) images.push(["flockerTestImage", config.flockerTestImage]);
  return images;
}

function imageProblem(key: string, image: string, verdict: ImageVerdict, host: string): string | undefined {
  const quoted = JSON.stringify(image);
  switch (verdict.kind) {
    case "present":
      return undefined;
    case "missing":
      return (
        `${key}: ${quoted} cannot be pulled: ${verdict.detail}. Check the name and tag (docker manifest inspect ${image}), then set one that ` +
        `exists (pulumi config set ${key} <name>:<tag>, or <name>@sha256:<digest> to pin it), or mirror the image to a registry the nodes can pull from`
      );
    case "private":
      return (
        `${key}: ${quoted} needs credentials: ${verdict.detail}. The nodes pull without logging in: make the repository public, or mirror ` +
        `the image to a registry that allows anonymous pulls. If the nodes can pull it another way, confirm with docker pull ${image} ` +
        `on a node, then ${skipHint(host)}`
      );
    case "unknown":
      return `${key}: could not check ${quoted}: ${verdict.detail}; try docker manifest inspect ${image} from this machine, or ${skipHint(host)}`;
  }
}

export interface ArtefactOptions {
  readonly http: HttpClient;
  /** Hosts not checked from here. */
  readonly uncheckedHosts: ReadonlySet<string>;
  /** Keys whose values are placeholders (reported on their own, not fetched). */
  readonly placeholderKeys: ReadonlySet<string>;
  /** flockerAptSource is a Pulumi secret: no URL of it in a message. @default false */
  readonly secretAptSource?: boolean;
}

export async function checkArtefacts(config: ArtefactConfig, options: ArtefactOptions): Promise<string[]> {
  const { http, uncheckedHosts, placeholderKeys } = options;
  const verdicts = new Map<string, Promise<ImageVerdict>>();
  const imageChecks = imagesToCheck(config)
    .filter(([key, image]) => {
      if (placeholderKeys.has(key)) return false;
      const location = locateImage(image);
      return !uncheckedHosts.has(location.registry) && !uncheckedHosts.has(location.apiHost);
    })
    .map(async ([key, image]) => {
      // Two keys naming one image ask the registry once.
      let verdict = verdicts.get(image);
      if (verdict === undefined) {
        verdict = checkImage(image, http);
        verdicts.set(image, verdict);
      }
      return imageProblem(key, image, await verdict, locateImage(image).registry);
    });
  const packages = config.platform !== "current" && config.flocker.kind === "packages" ? config.flocker.packages : undefined;
  let sourceCheck: Promise<string[]> = Promise.resolve([]);
  if (packages?.kind === "apt" && !placeholderKeys.has("flockerAptSource")) {
    const host = /:\/\/(?:[^/\s@]*@)?([^/\s:]+)/.exec(packages.aptSource)?.[1] ?? "";
    if (!uncheckedHosts.has(host))
      sourceCheck = checkAptSource(packages.aptSource, http, { skip: skipHint, secret: options.secretAptSource });
  } else if (packages?.kind === "debs") {
    sourceCheck = Promise.resolve(checkDebDir(packages.debDir));
  }
  const [images, source] = await Promise.all([Promise.all(imageChecks), sourceCheck]);
  return [...source, ...images.filter((problem): problem is string => problem !== undefined)];
}

/** SWARM_FLOCKER_UNCHECKED_HOSTS="registry.corp.example, repo.corp.example" → the set of hosts. */
export function uncheckedHostsFrom(env: NodeJS.ProcessEnv): Set<string> {
  return new Set((env[UNCHECKED_HOSTS_VARIABLE] ?? "").split(/[\s,]+/).filter((host) => host !== ""));
}
