/**
 * The preflight's parts on their own, against fakes of the outside world: a Docker Hub that hides
 * unknown repositories behind 401, private registries, apt repositories flat and pooled, the
 * placeholders, the Docker floor, and a step's bound on its command line.
 */
import * as zlib from "zlib";
import { checkBeforeBillable, type PreflightDependencies } from "../preflight";
import { checkArtefacts } from "../preflight/artefacts";
import type { AwsLookups } from "../preflight/awsLookups";
import type { HttpClient, HttpRequest, HttpResponse } from "../preflight/http";
import { redactUrl } from "../preflight/http";
import { aptIndexUrls, checkAptSource } from "../preflight/packageSource";
import { findPlaceholders, isDocumentationCidr, isPlaceholderAptSource } from "../preflight/placeholders";
import { checkImage, locateImage, parseChallenge } from "../preflight/registry";
import { digestCommand, isPinnedByDigest } from "../lib/privilegedImages";
import { dockerVersionAtLeast } from "../config/checks/software";
import { validateConfig } from "../config/validate";
import { durationSeconds, scriptCommand } from "../lib/scripts";
import type { ClusterConfig } from "../config/schema";

const text = (body: string) => new TextEncoder().encode(body);
const reply = (status: number, body = "", headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: text(body),
});

/** A fake HTTP world from a routing function, recording every request. */
function world(route: (request: HttpRequest, url: URL) => HttpResponse | Promise<HttpResponse>): {
  http: HttpClient;
  seen: HttpRequest[];
} {
  const seen: HttpRequest[] = [];
  return {
    seen,
    http: async (request) => {
      seen.push(request);
      return route(request, new URL(request.url));
    },
  };
}

/** Docker Hub as it behaves: anonymous tokens for anything, 401 for a repository it does not have. */
function dockerHub(repositories: Record<string, string[]>) {
  return world((request, url) => {
    if (url.host === "auth.docker.io") {
      expect(url.pathname).toBe("/token");
      expect(url.searchParams.get("service")).toBe("registry.docker.io");
      return reply(200, JSON.stringify({ token: `token-for ${url.searchParams.get("scope")}` }));
    }
    expect(url.host).toBe("registry-1.docker.io");
    const [, repository, reference] = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname)!;
    const challenge = `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:${repository}:pull"`;
    if (request.headers?.Authorization !== `Bearer token-for repository:${repository}:pull`) {
      return reply(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', { "www-authenticate": challenge });
    }
    const tags = repositories[repository];
    if (tags === undefined)
      return reply(401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
        "www-authenticate": challenge,
      });
    return tags.includes(reference)
      ? reply(200, "", { "docker-content-digest": "sha256:1" })
      : reply(404, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
}

describe("image references, as docker pull reads them", () => {
  test.each([
    ["busybox", { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "library/busybox", reference: "latest" }],
    [
      "busybox:1.36",
      { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "library/busybox", reference: "1.36" },
    ],
    [
      "docker.io/fsoppelsa/spark-master",
      { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "fsoppelsa/spark-master", reference: "latest" },
    ],
    [
      "index.docker.io/library/busybox",
      { registry: "docker.io", apiHost: "registry-1.docker.io", repository: "library/busybox", reference: "latest" },
    ],
    [
      "localhost:5000/flocker/control:1.15",
      { registry: "localhost:5000", apiHost: "localhost:5000", repository: "flocker/control", reference: "1.15" },
    ],
    [
      `quay.io/a/b:tag@sha256:${"c".repeat(64)}`,
      { registry: "quay.io", apiHost: "quay.io", repository: "a/b", reference: `sha256:${"c".repeat(64)}` },
    ],
  ])("%s", (image, expected) => {
    expect(locateImage(image)).toEqual(expected);
  });

  test("a WWW-Authenticate challenge is read into its scheme and parameters", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/busybox:pull" },
    });
  });
});

describe("privileged images are pinned by a sha256 digest, whatever else the reference says", () => {
  const hex = "0123456789abcdef".repeat(4);
  test.each([
    [`clusterhq/flocker-dataset-agent@sha256:${hex}`, true],
    [`clusterhq/flocker-dataset-agent:1.15.0@sha256:${hex}`, true],
    [`registry.internal:5000/flocker/agent:1.15.0@sha256:${hex}`, true],
    ["clusterhq/flocker-dataset-agent", false],
    ["clusterhq/flocker-dataset-agent:1.15.0", false],
    ["clusterhq/flocker-dataset-agent:sha256", false],
    [`clusterhq/flocker-dataset-agent@sha256:${hex.slice(1)}`, false],
    [`clusterhq/flocker-dataset-agent@sha512:${hex}${hex}`, false],
  ])("%s -> %s", (image, pinned) => {
    expect(isPinnedByDigest(image)).toBe(pinned);
  });

  test("the digest command needs nothing but a Docker engine, and quotes its Go template for the shell", () => {
    expect(digestCommand("clusterhq/flocker-docker-plugin:1.15.0")).toBe(
      "docker pull clusterhq/flocker-docker-plugin:1.15.0 && docker image inspect --format '{{index .RepoDigests 0}}' clusterhq/flocker-docker-plugin:1.15.0",
    );
  });
});

describe("does an image resolve in its registry", () => {
  test("Docker Hub: an anonymous token from the challenge's realm, then the manifest with every format a 2016-2026 engine pulls", async () => {
    const hub = dockerHub({ "library/busybox": ["latest"] });
    expect(await checkImage("busybox", hub.http)).toEqual({ kind: "present" });
    expect(hub.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      "HEAD https://registry-1.docker.io/v2/library/busybox/manifests/latest",
      "GET https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull",
      "HEAD https://registry-1.docker.io/v2/library/busybox/manifests/latest",
    ]);
    const accept = hub.seen[0].headers!.Accept;
    for (const type of [
      "manifest.list.v2+json",
      "manifest.v2+json",
      "oci.image.index.v1+json",
      "oci.image.manifest.v1+json",
      "manifest.v1+prettyjws",
    ]) {
      expect(accept).toContain(type);
    }
  });

  test("a digest is asked for as the reference", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const hub = dockerHub({ "fsoppelsa/spark-master": [digest] });
    expect(await checkImage(`fsoppelsa/spark-master@${digest}`, hub.http)).toEqual({ kind: "present" });
    expect(hub.seen[2].url).toBe(`https://registry-1.docker.io/v2/fsoppelsa/spark-master/manifests/${digest}`);
  });

  test("a tag the repository lacks is missing (404); a repository Docker Hub lacks is missing too (its 401)", async () => {
    const hub = dockerHub({ "fsoppelsa/spark-master": ["latest"] });
    expect(await checkImage("fsoppelsa/spark-master:2.0", hub.http)).toEqual({
      kind: "missing",
      detail: "docker.io/fsoppelsa/spark-master has no tag 2.0 (404 MANIFEST_UNKNOWN)",
    });
    expect(await checkImage("fsoppelsa/no-such-image", hub.http)).toEqual({
      kind: "missing",
      detail: "Docker Hub has no public repository fsoppelsa/no-such-image (401 with an anonymous token)",
    });
  });

  test("private registries: Basic credentials, no anonymous token, or a token that still gets 401", async () => {
    const basic = world(() =>
      reply(401, "", {
        "www-authenticate": 'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      }),
    );
    expect(await checkImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/flocker/control:1.15", basic.http)).toEqual({
      kind: "private",
      detail: "123456789012.dkr.ecr.us-east-1.amazonaws.com asks for basic credentials (401)",
    });
    const noToken = world((_, url) =>
      url.pathname === "/token"
        ? reply(401)
        : reply(401, "", { "www-authenticate": `Bearer realm="https://${url.host}/token",service="${url.host}"` }),
    );
    expect(await checkImage("registry.corp.net/flocker/control", noToken.http)).toEqual({
      kind: "private",
      detail: "registry.corp.net gives no anonymous pull token",
    });
    const stillRefused = world((_, url) =>
      url.pathname === "/token"
        ? reply(200, '{"access_token":"anon"}')
        : reply(401, '{"errors":[{"code":"DENIED"}]}', { "www-authenticate": `Bearer realm="https://${url.host}/token"` }),
    );
    expect(await checkImage("ghcr.io/corp/flocker-control", stillRefused.http)).toEqual({
      kind: "private",
      detail: "ghcr.io refuses an anonymous pull (401 DENIED)",
    });
  });

  test("a registry that refuses HEAD on manifests is asked with GET", async () => {
    const old = world((request) => (request.method === "HEAD" ? reply(405) : reply(200, "{}")));
    expect(await checkImage("registry.corp.net/spark-master:1.6.2", old.http)).toEqual({ kind: "present" });
    expect(old.seen.map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  test("no answer at all is reported as such", async () => {
    const down = world(() => {
      throw Object.assign(new TypeError("fetch failed"), {
        cause: Object.assign(new Error("getaddrinfo ENOTFOUND registry.corp.net"), { code: "ENOTFOUND" }),
      });
    });
    expect(await checkImage("registry.corp.net/x", down.http)).toEqual({
      kind: "unknown",
      detail: "registry.corp.net did not answer: fetch failed (ENOTFOUND)",
    });
  });
});

const SPARK = {
  sparkMasterImage: "fsoppelsa/spark-master",
  sparkWorkerImage: "fsoppelsa/spark-worker",
  flockerTest: false,
  flockerTestImage: "busybox",
};

describe("artefact messages", () => {
  test("a private registry: what the nodes would do, how to verify, and how to skip; a skipped host is not asked", async () => {
    const basic = world(() => reply(401, "", { "www-authenticate": 'Basic realm="x"' }));
    const config = {
      ...SPARK,
      sparkMasterImage: "registry.corp.net/spark/master:1.6.2",
      flocker: { kind: "packages" as const, packages: { kind: "debs" as const, debDir: "/nonexistent" } },
    };
    const hub = dockerHub({ "fsoppelsa/spark-worker": ["latest"] });
    const http: HttpClient = (request) => (request.url.includes("corp.net") ? basic.http(request) : hub.http(request));
    const problems = await checkArtefacts(config, { http, uncheckedHosts: new Set(), placeholderKeys: new Set() });
    expect(problems).toEqual([
      'sparkMasterImage: "registry.corp.net/spark/master:1.6.2" needs credentials: registry.corp.net asks for basic credentials (401). ' +
        "The nodes pull without logging in: make the repository public, or mirror the image to a registry that allows anonymous pulls. " +
        "If the nodes can pull it another way, confirm with docker pull registry.corp.net/spark/master:1.6.2 on a node, then if only the nodes can reach " +
        "registry.corp.net, skip this check: SWARM_FLOCKER_UNCHECKED_HOSTS=registry.corp.net pulumi up",
    ]);
    basic.seen.length = 0;
    expect(
      await checkArtefacts(config, { http, uncheckedHosts: new Set(["registry.corp.net"]), placeholderKeys: new Set() }),
    ).toEqual([]);
    expect(basic.seen).toEqual([]);
  });

  test("containers mode checks the four Flocker images and, with the Flocker test on, its image; one image named twice is asked once", async () => {
    const hub = dockerHub({
      "clusterhq/flocker-control-service": ["latest"],
      "clusterhq/flocker-dataset-agent": ["latest"],
      "clusterhq/flocker-container-agent": ["latest"],
      "library/busybox": ["latest"],
      "fsoppelsa/spark-master": ["latest"],
    });
    const config = {
      ...SPARK,
      sparkWorkerImage: "fsoppelsa/spark-master",
      flockerTest: true,
      flocker: {
        kind: "containers" as const,
        images: {
          control: "clusterhq/flocker-control-service",
          datasetAgent: "clusterhq/flocker-dataset-agent",
          containerAgent: "clusterhq/flocker-container-agent",
          plugin: "clusterhq/flocker-docker-plugin",
        },
      },
    };
    const problems = await checkArtefacts(config, { http: hub.http, uncheckedHosts: new Set(), placeholderKeys: new Set() });
    expect(problems).toEqual([
      expect.stringMatching(
        /^flockerPluginImage: "clusterhq\/flocker-docker-plugin" cannot be pulled: Docker Hub has no public repository/,
      ),
    ]);
    const manifestAsks = hub.seen
      .filter((r) => r.url.includes("/manifests/") && r.headers?.Authorization !== undefined)
      .map((r) => r.url);
    expect(manifestAsks.filter((url) => url.includes("spark-master"))).toHaveLength(1);
    expect(manifestAsks.some((url) => url.includes("library/busybox"))).toBe(true);
  });
});

describe("the apt source's package index", () => {
  test.each([
    ["deb [trusted=yes] https://repo.corp.net/flocker/16.04 /", ["https://repo.corp.net/flocker/16.04/Packages"]],
    ["deb [trusted=yes] https://repo.corp.net/flocker/ 16.04/", ["https://repo.corp.net/flocker/16.04/Packages"]],
    [
      "deb [arch=amd64 signed-by=/k.gpg] https://repo.corp.net/ubuntu xenial main extra",
      [
        "https://repo.corp.net/ubuntu/dists/xenial/main/binary-amd64/Packages",
        "https://repo.corp.net/ubuntu/dists/xenial/main/binary-all/Packages",
        "https://repo.corp.net/ubuntu/dists/xenial/extra/binary-amd64/Packages",
        "https://repo.corp.net/ubuntu/dists/xenial/extra/binary-all/Packages",
      ],
    ],
  ])("%s", (line, indexes) => {
    expect(aptIndexUrls(line)?.indexes).toEqual(indexes);
  });

  const INDEX =
    "Package: clusterhq-python-flocker\nVersion: 1.15.0-1\n\nPackage: clusterhq-flocker-node\nVersion: 1.15.0-1\n\nPackage: clusterhq-flocker-docker-plugin\n";
  const skip = { skip: (host: string) => `skip ${host}` };

  test("Packages.gz is read first; credentials in the URL go in a Basic header and never into a message", async () => {
    const repo = world((_, url) =>
      url.pathname.endsWith("/Packages.gz")
        ? { status: 200, headers: {}, body: new Uint8Array(zlib.gzipSync("Package: clusterhq-flocker-node\n")) }
        : reply(404),
    );
    const problems = await checkAptSource("deb [trusted=yes] https://deploy:s3cret@repo.corp.net/flocker /", repo.http, skip);
    expect(repo.seen[0]).toEqual({
      url: "https://repo.corp.net/flocker/Packages.gz",
      method: "GET",
      headers: { Authorization: `Basic ${Buffer.from("deploy:s3cret").toString("base64")}` },
    });
    expect(problems).toEqual([
      "flockerAptSource: the repository's index (https://repo.corp.net/flocker/Packages) does not list clusterhq-python-flocker, clusterhq-flocker-docker-plugin " +
        '(it lists clusterhq-flocker-node): publish all of clusterhq-python-flocker, clusterhq-flocker-node, clusterhq-flocker-docker-plugin there (docs/flocker.md, "packages"), ' +
        "or set flockerDebDir to a directory of the .deb files instead",
    ]);
    expect(problems.join()).not.toContain("s3cret");
  });

  test("a plain Packages file will do; a pool takes the packages from any of its components", async () => {
    const flat = world((_, url) => (url.pathname.endsWith("/Packages") ? reply(200, INDEX) : reply(404)));
    expect(await checkAptSource("deb [trusted=yes] https://repo.corp.net/flocker /", flat.http, skip)).toEqual([]);
    const pool = world((_, url) =>
      url.pathname === "/ubuntu/dists/xenial/main/binary-amd64/Packages"
        ? reply(200, "Package: clusterhq-python-flocker\n\nPackage: clusterhq-flocker-node\n")
        : url.pathname === "/ubuntu/dists/xenial/main/binary-all/Packages"
          ? reply(200, "Package: clusterhq-flocker-docker-plugin\n")
          : reply(404),
    );
    expect(await checkAptSource("deb [trusted=yes] https://repo.corp.net/ubuntu xenial main", pool.http, skip)).toEqual([]);
  });

  test("no index where the line points says how a flat repository is laid out", async () => {
    const empty = world(() => reply(404));
    const [problem] = await checkAptSource("deb [trusted=yes] https://repo.corp.net/wrong /", empty.http, skip);
    expect(problem).toContain(
      "flockerAptSource: no package index where the line points: https://repo.corp.net/wrong/Packages(.gz) (404).",
    );
    expect(problem).toContain('"deb [trusted=yes] https://host/path /" with Packages or Packages.gz in /path');
  });

  test("credentials are cut from URLs shown", () => {
    expect(redactUrl("https://u:p@repo.corp.net/x")).toBe("https://repo.corp.net/x");
    expect(redactUrl("https://repo.corp.net/x")).toBe("https://repo.corp.net/x");
  });
});

describe("placeholders", () => {
  test("documentation networks and reserved host names, per key; real values pass", () => {
    expect(
      findPlaceholders(
        {
          adminCidrs: ["52.95.110.1/32", "203.0.113.10/32", "2001:db8::/48"],
          flockerAptSource: "deb [trusted=yes] https://user:pw@repo.example.com/flocker /",
          ubuntuArchiveMirror: "http://mirror.invalid/ubuntu",
          images: { sparkMasterImage: "registry.test/spark-master", sparkWorkerImage: "fsoppelsa/spark-worker" },
        },
        "dev",
      ).map((p) => [p.key, p.value]),
    ).toEqual([
      ["adminCidrs[1]", "203.0.113.10/32"],
      ["adminCidrs[2]", "2001:db8::/48"],
      ["flockerAptSource", "deb [trusted=yes] https://repo.example.com/flocker /"],
      ["ubuntuArchiveMirror", "http://mirror.invalid/ubuntu"],
      ["sparkMasterImage", "registry.test/spark-master"],
    ]);
    expect(
      findPlaceholders({
        adminCidrs: ["192.0.3.0/24", "198.51.99.0/24"],
        flockerAptSource: "deb https://invalid-but-real.net/ /",
      }),
    ).toEqual([]);
  });

  test("the predicates tools/deploy/deployPreflight.ts shares", () => {
    expect(isDocumentationCidr("198.51.100.0/24")).toBe(true);
    expect(isDocumentationCidr("198.51.0.0/16")).toBe(false);
    expect(isPlaceholderAptSource("deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /")).toBe(true);
    expect(isPlaceholderAptSource("deb [trusted=yes] https://flocker.s3.amazonaws.com/ubuntu/16.04/amd64 /")).toBe(false);
  });
});

describe("the Docker floor of an encrypted overlay", () => {
  test.each([
    ["18.09.7-0ubuntu1~16.04.7", false],
    ["20.10.21-0ubuntu1~18.04.3", false],
    ["20.10.24-0ubuntu1~18.04.1", true],
    ["5:20.10.24~3-0~ubuntu-bionic", true],
    ["5:23.0.6-1~ubuntu.18.04~bionic", true],
    ["24.0.7-0ubuntu2~18.04.1", true],
  ])("%s is at least 20.10.24: %s", (version, atLeast) => {
    expect(dockerVersionAtLeast(version, "20.10.24")).toBe(atLeast);
  });

  test("a pinned older version is refused only with overlayEncrypted", () => {
    const values = { adminCidrs: '["52.95.110.1/32"]', dockerVersion: "18.09.7-0ubuntu1~16.04.7" };
    const raw = (extra: Record<string, string>) => ({
      project: "swarm-flocker",
      stack: "t",
      region: "us-east-1",
      values: { ...values, ...extra },
    });
    expect(validateConfig(raw({ overlayEncrypted: "true" })).problems.map((p) => p.key)).toEqual(["dockerVersion"]);
    expect(validateConfig(raw({ overlayEncrypted: "false" })).problems).toEqual([]);
  });

  const problems = (values: Record<string, string>) =>
    validateConfig({
      project: "swarm-flocker",
      stack: "t",
      region: "us-east-1",
      values: { adminCidrs: '["52.95.110.1/32"]', ...values },
    }).problems.map((p) => p.message);

  test.each([
    ["16.04", "docker.io 18.09.7 (xenial-updates)"],
    ["18.04", "docker.io 20.10.21 (bionic-updates)"],
  ])("no pin on %s: its own archive's %s is below the floor, so an encrypted overlay is refused", (release, archive) => {
    expect(problems({ ubuntuRelease: release, overlayEncrypted: "true" })).toEqual([
      `overlayEncrypted: "true" needs Docker 20.10.24 or later (CVE-2023-28840/28841/28842), but dockerVersion is empty and Ubuntu ${release}'s ` +
        `own archive installs ${archive}: every node would refuse it after the instances exist. Set overlayEncrypted to false, or set ` +
        "ubuntuArchiveMirror to an archive that serves docker.io 20.10.24 or later and pin that version with dockerVersion",
    ]);
    expect(problems({ ubuntuRelease: release, overlayEncrypted: "false" })).toEqual([]);
  });

  test("another archive or another package is not known here: the node checks what it finds", () => {
    expect(
      problems({ ubuntuRelease: "18.04", overlayEncrypted: "true", ubuntuArchiveMirror: "http://mirror.example.net/ubuntu" }),
    ).toEqual([]);
    expect(problems({ ubuntuRelease: "18.04", overlayEncrypted: "true", dockerPackage: "docker-ce" })).toEqual([]);
    expect(
      problems({
        ubuntuRelease: "18.04",
        overlayEncrypted: "true",
        dockerPackage: "docker-ce",
        dockerVersion: "5:20.10.24~3-0~ubuntu-bionic",
      }),
    ).toEqual([]);
  });

  test("a docker.io pin newer than the release's own archive has is refused: apt would find no such version", () => {
    expect(problems({ ubuntuRelease: "18.04", dockerVersion: "20.10.24-0ubuntu1~18.04.1" })).toEqual([
      'dockerVersion: "20.10.24-0ubuntu1~18.04.1" is newer than any docker.io in Ubuntu 18.04\'s own archive (the newest is 20.10.21, in bionic-updates): ' +
        "apt on the nodes would find no such version; set ubuntuArchiveMirror to an archive that serves it, or pin a version the archive has",
    ]);
    expect(problems({ ubuntuRelease: "18.04", dockerVersion: "20.10.21-0ubuntu1~18.04.3" })).toEqual([]);
    expect(problems({ ubuntuRelease: "18.04", dockerVersion: "17.12.1-0ubuntu1" })).toEqual([]);
    expect(
      problems({
        ubuntuRelease: "18.04",
        dockerVersion: "20.10.24-0ubuntu1~18.04.1",
        ubuntuArchiveMirror: "http://mirror.example.net/ubuntu",
      }),
    ).toEqual([]);
  });

  test("an archive mirror with a character install-docker.sh refuses is refused here, before any instance", () => {
    expect(problems({ ubuntuArchiveMirror: "http://mirror.example.net/ubuntu,old" })).toEqual([
      expect.stringMatching(
        /^ubuntuArchiveMirror: "http:\/\/mirror\.example\.net\/ubuntu,old" is not an archive URL: .*letters, digits and \. : @ % _ ~ \/ \+ -/,
      ),
    ]);
  });
});

describe("unknown keys in the project's namespace", () => {
  const validate = (givenKeys: string[]) =>
    validateConfig({
      project: "swarm-flocker",
      stack: "t",
      region: "us-east-1",
      values: { adminCidrs: '["52.95.110.1/32"]' },
      givenKeys,
    }).problems.map((p) => p.message);

  test("a misspelling names the key meant; a stranger is to be removed; other namespaces are not this stack's business", () => {
    expect(
      validate([
        "swarm-flocker:nodecount",
        "swarm-flocker:instanceTyp",
        "swarm-flocker:colour",
        "aws:profile",
        "swarm-flocker:nodeCount",
      ]),
    ).toEqual([
      "nodecount is not a setting of this stack: did you mean nodeCount? (pulumi config rm nodecount && pulumi config set nodeCount ...)",
      "instanceTyp is not a setting of this stack: did you mean instanceType? (pulumi config rm instanceTyp && pulumi config set instanceType ...)",
      "colour is not a setting of this stack: remove it (pulumi config rm colour); the keys this stack reads are listed in docs/configuration.md",
    ]);
  });
});

describe("a step's wall-clock bound", () => {
  test.each([
    ["20m", 1200],
    ["30m", 1800],
    ["1h30m", 5400],
    ["90s", 90],
  ])("%s is %d s", (duration, seconds) => {
    expect(durationSeconds(duration)).toBe(seconds);
  });

  test("the bound wraps the whole run as root; a bad bound is refused", () => {
    expect(
      scriptCommand({ user: "ubuntu", script: "wait-boot.sh", env: { NODE_NAME: "aws-101" }, timeoutSeconds: 1200 }),
    ).toMatch(
      /^sudo timeout --kill-after=30s 1200s env NODE_NAME=aws-101 SCRIPT_DIGEST=[0-9a-f]{16} bash \/home\/ubuntu\/\.swarm-flocker\/scripts\/wait-boot\.sh$/,
    );
    expect(() => durationSeconds("20 minutes")).toThrow(/20 minutes/);
    expect(() => scriptCommand({ user: "ubuntu", script: "wait-boot.sh", timeoutSeconds: 0 })).toThrow(/whole number of seconds/);
  });
});

describe("checkBeforeBillable with its world handed in", () => {
  const config = {
    project: "swarm-flocker",
    stack: "t",
    region: "eu-west-1",
    availabilityZone: "eu-west-1b",
    instanceType: "m4.large",
    nodeCount: 4,
    ubuntuRelease: "18.04",
    adminCidrs: ["52.95.110.1/32"],
    ubuntuArchiveMirror: "",
    flocker: { kind: "packages", packages: { kind: "debs", debDir: "/nonexistent" } },
    ...SPARK,
  } as unknown as ClusterConfig;
  const aws: AwsLookups = {
    getAmi: async (args) => {
      expect(args).toMatchObject({ region: "eu-west-1", includeDeprecated: true, owners: ["099720109477"] });
      return { id: "ami-0bionic", name: "ubuntu-bionic" };
    },
    getAvailabilityZones: async () => ({ names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }),
    getInstanceTypeOfferings: async () => ({ instanceTypes: ["m4.large"], locations: ["eu-west-1b"] }),
    getInstanceType: async () => ({ defaultVcpus: 2, memorySize: 8192, hypervisor: "xen" }),
    getServiceQuota: async () => ({ value: 8, quotaName: "standard" }),
    getParameter: async () => {
      throw new Error("the book platform reads no SSM parameter");
    },
  };
  const hub = dockerHub({ "fsoppelsa/spark-master": ["latest"], "fsoppelsa/spark-worker": ["latest"] });
  const dependencies: PreflightDependencies = { aws, http: hub.http, uncheckedHosts: new Set(), placeholders: "refuse" };

  test("resolves with the unpinned image when everything fits (4 × 2 vCPUs within a quota of 8)", async () => {
    await expect(checkBeforeBillable(config, dependencies)).resolves.toEqual({
      image: { id: "ami-0bionic", pinned: false },
      notices: [],
    });
  });

  test("one node more breaks the quota", async () => {
    await expect(checkBeforeBillable({ ...config, nodeCount: 5 }, dependencies)).rejects.toThrow(
      "nodeCount: 5 × m4.large (2 vCPUs each) needs 10 vCPUs, and the account's quota",
    );
  });
});
