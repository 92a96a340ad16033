/**
 * The world an offline run sees instead of the internet: every registry speaks the Registry v2
 * token dance and holds every image, every apt repository's index lists the Flocker packages —
 * unless a test says an image or package is missing, or a host does not answer.
 */
import * as zlib from "zlib";
import { FLOCKER_PACKAGES } from "../lib/flockerPackages";
import type { HttpClient, HttpResponse } from "./http";
import { locateImage } from "./registry";

export interface OfflineWorldOptions {
  /** Image references (as config holds them) whose manifest the registry does not have. */
  readonly missingImages?: readonly string[];
  /** Flocker packages the apt repositories' indexes leave out. */
  readonly missingPackages?: readonly string[];
  /** Hosts that give no answer at all. */
  readonly unreachableHosts?: readonly string[];
}

const TOKEN_PATH = "/offline-token";

function answer(status: number, body = "", headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: new TextEncoder().encode(body) };
}

function imageKey(image: string): string {
  const { apiHost, repository, reference } = locateImage(image);
  return `${apiHost}/${repository}@${reference}`;
}

export function offlineWorld(options: OfflineWorldOptions = {}): HttpClient {
  const missingImages = new Set((options.missingImages ?? []).map(imageKey));
  const listed = FLOCKER_PACKAGES.filter((name) => !(options.missingPackages ?? []).includes(name));
  const index = listed.map((name) => `Package: ${name}\nVersion: 1.15.0-1\nArchitecture: amd64\n`).join("\n");
  const unreachable = new Set(options.unreachableHosts ?? []);
  return async (request) => {
    const url = new URL(request.url);
    if (unreachable.has(url.hostname)) throw new Error(`getaddrinfo ENOTFOUND ${url.hostname}`);
    if (url.pathname === TOKEN_PATH) return answer(200, JSON.stringify({ token: "offline-token" }));
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifest) {
      if (request.headers?.Authorization === undefined) {
        return answer(401, "", {
          "www-authenticate": `Bearer realm="https://${url.host}${TOKEN_PATH}",service="${url.host}",scope="repository:${manifest[1]}:pull"`,
        });
      }
      const key = `${url.host}/${manifest[1]}@${manifest[2]}`;
      return missingImages.has(key)
        ? answer(404, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        : answer(200, "", { "docker-content-digest": "sha256:0" });
    }
    if (url.pathname.endsWith("/Packages.gz")) return { status: 200, headers: {}, body: new Uint8Array(zlib.gzipSync(index)) };
    return answer(404);
  };
}
