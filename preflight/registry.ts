/**
 * Does an image reference resolve in its registry, as the nodes will pull it (anonymously)?
 * Docker Registry HTTP API v2: ask for the manifest; on 401, fetch an anonymous token from the
 * realm the registry's WWW-Authenticate challenge names, and ask again with it.
 */
import { describeFailure, type HttpClient, type HttpResponse } from "./http";

/** Docker Hub: what `docker pull busybox` talks to. */
const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, "index.docker.io", DOCKER_HUB_API]);

/** Every manifest format a Docker engine of 2016–today pulls, schema 1 included (the Spark images are from 2016). */
const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
  "application/vnd.docker.distribution.manifest.v1+json",
].join(", ");

export interface ImageLocation {
  /** The registry as the reference names it (docker.io when it names none). */
  readonly registry: string;
  /** The host the API is on. */
  readonly apiHost: string;
  /** Repository path in the registry (library/busybox for busybox on Docker Hub). */
  readonly repository: string;
  /** Tag or digest. */
  readonly reference: string;
}

/** Where `docker pull <image>` looks: Docker's normalisation of a reference. */
export function locateImage(image: string): ImageLocation {
  const [nameAndTag, digest] = image.split("@");
  const lastColon = nameAndTag.lastIndexOf(":");
  const hasTag = lastColon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(lastColon + 1) : "latest";
  const [first, ...rest] = name.split("/");
  const hasDomain = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasDomain ? first : DOCKER_HUB;
  let repository = hasDomain ? rest.join("/") : name;
  const hub = DOCKER_HUB_ALIASES.has(registry);
  if (hub && !repository.includes("/")) repository = `library/${repository}`;
  return {
    registry: hub ? DOCKER_HUB : registry,
    apiHost: hub ? DOCKER_HUB_API : registry,
    repository,
    reference: digest ?? tag,
  };
}

export type ImageVerdict =
  | { readonly kind: "present" }
  /** The registry says there is no such manifest (404), or Docker Hub hides the repository (401). */
  | { readonly kind: "missing"; readonly detail: string }
  /** The registry wants credentials the nodes do not have. */
  | { readonly kind: "private"; readonly detail: string }
  /** No answer, or one that says nothing about the image (5xx, 429). */
  | { readonly kind: "unknown"; readonly detail: string };

/** `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."` → its parts. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = /^\s*(\S+)/.exec(header)?.[1]?.toLowerCase() ?? "";
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) params[match[1].toLowerCase()] = match[2];
  return { scheme, params };
}

/** The error code a registry puts in its JSON body (MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED ...). */
function registryErrorCode(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(new TextDecoder().decode(response.body)) as { errors?: { code?: string }[] };
    return body.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

async function anonymousToken(
  http: HttpClient,
  challenge: { params: Record<string, string> },
  location: ImageLocation,
): Promise<string | undefined> {
  const realm = challenge.params.realm;
  if (realm === undefined) return undefined;
  const url = new URL(realm);
  if (challenge.params.service !== undefined) url.searchParams.set("service", challenge.params.service);
  url.searchParams.set("scope", challenge.params.scope ?? `repository:${location.repository}:pull`);
  const answer = await http({ url: url.toString(), method: "GET", headers: { Accept: "application/json" } });
  if (answer.status !== 200) return undefined;
  try {
    const body = JSON.parse(new TextDecoder().decode(answer.body)) as { token?: string; access_token?: string };
    return body.token ?? body.access_token;
  } catch {
    return undefined;
  }
}

async function askForManifest(http: HttpClient, url: string, token: string | undefined): Promise<HttpResponse> {
  const headers: Record<string, string> = { Accept: MANIFEST_TYPES };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const head = await http({ url, method: "HEAD", headers });
  // Some registries answer HEAD on manifests with 405; GET always works.
  return head.status === 405 ? http({ url, method: "GET", headers }) : head;
}

export async function checkImage(image: string, http: HttpClient): Promise<ImageVerdict> {
  const location = locateImage(image);
  const url = `https://${location.apiHost}/v2/${location.repository}/manifests/${location.reference}`;
  try {
    let answer = await askForManifest(http, url, undefined);
    let triedToken = false;
    if (answer.status === 401) {
      const challenge = parseChallenge(answer.headers["www-authenticate"] ?? "");
      if (challenge.scheme !== "bearer") {
        return { kind: "private", detail: `${location.registry} asks for ${challenge.scheme || "unnamed"} credentials (401)` };
      }
      const token = await anonymousToken(http, challenge, location);
      if (token === undefined) return { kind: "private", detail: `${location.registry} gives no anonymous pull token` };
      triedToken = true;
      answer = await askForManifest(http, url, token);
    }
    const code = registryErrorCode(answer);
    if (answer.status >= 200 && answer.status < 300) return { kind: "present" };
    if (answer.status === 404) {
      return {
        kind: "missing",
        detail: `${location.registry}/${location.repository} has no ${location.reference.startsWith("sha256:") ? "manifest" : "tag"} ${location.reference} (404${code ? ` ${code}` : ""})`,
      };
    }
    if (answer.status === 401 && triedToken && location.registry === DOCKER_HUB) {
      // Docker Hub answers an unknown repository like a private one, so as not to reveal which exist.
      return {
        kind: "missing",
        detail: `Docker Hub has no public repository ${location.repository} (401 with an anonymous token)`,
      };
    }
    if (answer.status === 401 || answer.status === 403) {
      return {
        kind: "private",
        detail: `${location.registry} refuses an anonymous pull (${answer.status}${code ? ` ${code}` : ""})`,
      };
    }
    return { kind: "unknown", detail: `${location.apiHost} answered ${answer.status}${code ? ` ${code}` : ""}` };
  } catch (error) {
    return { kind: "unknown", detail: `${location.apiHost} did not answer: ${describeFailure(error)}` };
  }
}
