/**
 * The engine tier's images: no registry is reachable, so the images the stack pulls (its config
 * defaults: Flocker's, the Spark master and worker, the Flocker test's busybox) are built here as
 * stand-ins — busybox-static, plus the node binary and images/standin.js where a stand-in must
 * speak a protocol — and served by images/registry.js in the hub namespace. Every node's dockerd
 * uses that registry as its mirror, so a plain `docker pull NAME:TAG` or `NAME@sha256:…` works.
 *
 * Images are schema-2 manifests over one gzip layer each, built without Docker (a layer is a tar
 * of a root file system); the build is cached under /tmp/sfe-engine/.images by a digest of its
 * inputs, so a second run costs nothing.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "fs";
import * as path from "path";

const CACHE = "/tmp/sfe-engine/.images";
const STANDIN = path.join(__dirname, "images", "standin.js");
const REGISTRY = path.join(__dirname, "images", "registry.js");
const BUSYBOX = "/bin/busybox";
const NODE = "/usr/bin/node";
export const REGISTRY_PORT = 5000;

export interface ImageRef {
  readonly tag: string;
  /** The manifest digest, as `docker pull NAME@DIGEST` takes it. */
  readonly digest: string;
}

interface ImageDef {
  readonly repository: string;
  readonly withNode: boolean;
  readonly cmd?: readonly string[];
  /** The image's ENTRYPOINT, USER, WORKDIR and extra ENV, where the real image sets them. */
  readonly entrypoint?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly env?: readonly string[];
}

const standin = (role: string) => ["/usr/bin/node", "/sfe/standin.js", role];

/** The images, by the names config/schema.ts defaults to (tag latest, as those defaults imply). */
const IMAGES: readonly ImageDef[] = [
  { repository: "clusterhq/flocker-control-service", withNode: true, cmd: standin("flocker-control") },
  { repository: "clusterhq/flocker-dataset-agent", withNode: true, cmd: standin("flocker-dataset-agent") },
  { repository: "clusterhq/flocker-container-agent", withNode: true, cmd: standin("flocker-container-agent") },
  { repository: "clusterhq/flocker-docker-plugin", withNode: true, cmd: standin("flocker-plugin") },
  { repository: "fsoppelsa/spark-master", withNode: true, cmd: standin("spark-master") },
  { repository: "fsoppelsa/spark-worker", withNode: true, cmd: standin("spark-worker") },
  { repository: "busybox", withNode: false, cmd: ["sh"] },
  // The current platform's Spark (apache/spark 3.5, apache/spark-docker's Dockerfile): no CMD, the
  // entrypoint runs the command the service gives (spark-class …) as the spark user, uid 185.
  {
    repository: "apache/spark",
    withNode: true,
    entrypoint: ["/opt/entrypoint.sh"],
    user: "spark",
    workingDir: "/opt/spark/work-dir",
    env: ["SPARK_HOME=/opt/spark"],
  },
];
const TAG = "latest";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
const fileSha256 = (file: string) => sha256(readFileSync(file));

/** Where Docker Hub's mirror protocol asks for an official image (busybox -> library/busybox). */
function registryRepository(repository: string): string {
  return repository.includes("/") ? repository : `library/${repository}`;
}

/** The shared libraries the node binary loads, by the paths the dynamic loader looks them up at. */
function nodeLibraries(): string[] {
  const out = execFileSync("ldd", [NODE], { encoding: "utf8" });
  const libs: string[] = [];
  for (const line of out.split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyInto(root: string, file: string, mode?: number): void {
  const dest = path.join(root, file);
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(realpathSync(file), dest);
  if (mode !== undefined) chmodSync(dest, mode);
}

function buildRootfs(root: string, withNode: boolean): void {
  mkdirSync(path.join(root, "bin"), { recursive: true });
  mkdirSync(path.join(root, "tmp"), { recursive: true, mode: 0o1777 });
  chmodSync(path.join(root, "tmp"), 0o1777);
  copyInto(root, BUSYBOX, 0o755);
  for (const applet of execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n")) {
    if (applet && applet !== "busybox") symlinkSync("busybox", path.join(root, "bin", applet));
  }
  mkdirSync(path.join(root, "etc"), { recursive: true });
  writeFileSync(
    path.join(root, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nspark:x:185:185::/opt/spark:/bin/false\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  writeFileSync(path.join(root, "etc", "group"), "root:x:0:\nspark:x:185:\nnogroup:x:65534:\n");
  if (!withNode) return;
  copyInto(root, NODE, 0o755);
  for (const lib of nodeLibraries()) copyInto(root, lib);
  mkdirSync(path.join(root, "sfe"), { recursive: true });
  copyFileSync(STANDIN, path.join(root, "sfe", "standin.js"));
  // The Spark images' SparkPi entry point, as the smoke step runs it.
  mkdirSync(path.join(root, "spark", "bin"), { recursive: true });
  writeFileSync(
    path.join(root, "spark", "bin", "run-example"),
    '#!/bin/sh\nexec /usr/bin/node /sfe/standin.js run-example "$@"\n',
    { mode: 0o755 },
  );
  // apache/spark's layout: /opt/entrypoint.sh passes any command but Kubernetes' driver/executor
  // through (exec "$@"), and Spark's own launchers are under /opt/spark/bin.
  mkdirSync(path.join(root, "opt", "spark", "bin"), { recursive: true });
  mkdirSync(path.join(root, "opt", "spark", "work-dir"), { recursive: true });
  writeFileSync(
    path.join(root, "opt", "entrypoint.sh"),
    '#!/bin/sh\nset -e\ncase "${1:-}" in\n  driver | executor) echo "entrypoint stand-in: Kubernetes mode $1 is not simulated" >&2; exit 2 ;;\nesac\nexec "$@"\n',
    { mode: 0o755 },
  );
  for (const tool of ["spark-class", "run-example"]) {
    writeFileSync(path.join(root, "opt", "spark", "bin", tool), `#!/bin/sh\nexec /usr/bin/node /sfe/standin.js ${tool} "$@"\n`, {
      mode: 0o755,
    });
  }
}

interface Blob {
  readonly digest: string;
  readonly size: number;
}

function storeBlob(dir: string, data: Buffer): Blob {
  const hex = sha256(data);
  const file = path.join(dir, "blobs", "sha256", hex);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** One gzip layer of ROOT; returns the blob and the uncompressed tar's digest (the diff id). */
function buildLayer(dir: string, root: string, name: string): { blob: Blob; diffId: string } {
  const tar = path.join(dir, `${name}.tar`);
  execFileSync("tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", tar, "."]);
  const diffId = `sha256:${fileSha256(tar)}`;
  execFileSync("gzip", ["-1", "-n", "-f", tar]);
  const gz = `${tar}.gz`;
  const hex = fileSha256(gz);
  const file = path.join(dir, "blobs", "sha256", hex);
  mkdirSync(path.dirname(file), { recursive: true });
  renameSync(gz, file);
  return { blob: { digest: `sha256:${hex}`, size: statSync(file).size }, diffId };
}

function inputsDigest(): string {
  const parts = [readFileSync(STANDIN), readFileSync(__filename), String(statSync(NODE).size), String(statSync(BUSYBOX).size)];
  return sha256(Buffer.concat(parts.map((p) => Buffer.from(p)))).slice(0, 16);
}

let built: { dir: string; refs: Record<string, ImageRef> } | undefined;

/** Build (or find in the cache) every stand-in image; returns the directory the registry serves. */
export function buildEngineImages(): { dir: string; refs: Record<string, ImageRef> } {
  if (built) return built;
  const dir = path.join(CACHE, inputsDigest());
  const index = path.join(dir, "images.json");
  if (!existsSync(index)) {
    const tmp = `${dir}.building-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const layers: Record<string, { blob: Blob; diffId: string }> = {};
    for (const withNode of [true, false]) {
      const name = withNode ? "node" : "busybox";
      const root = path.join(tmp, `rootfs-${name}`);
      buildRootfs(root, withNode);
      layers[name] = buildLayer(tmp, root, name);
      rmSync(root, { recursive: true, force: true });
    }
    const refs: Record<string, ImageRef> = {};
    for (const image of IMAGES) {
      const layer = layers[image.withNode ? "node" : "busybox"];
      const config = storeBlob(
        tmp,
        Buffer.from(
          JSON.stringify({
            architecture: "amd64",
            os: "linux",
            created: "1970-01-01T00:00:00Z",
            config: {
              ...(image.cmd ? { Cmd: image.cmd } : {}),
              ...(image.entrypoint ? { Entrypoint: image.entrypoint } : {}),
              ...(image.user ? { User: image.user } : {}),
              ...(image.workingDir ? { WorkingDir: image.workingDir } : {}),
              Env: ["PATH=/usr/local/bin:/usr/bin:/bin", ...(image.env ?? [])],
              Labels: { "org.swarm-flocker.engine-standin": image.repository },
            },
            rootfs: { type: "layers", diff_ids: [layer.diffId] },
            history: [{ created: "1970-01-01T00:00:00Z", created_by: "tests/engine/images.ts (stand-in)" }],
          }),
        ),
      );
      const manifest = storeBlob(
        tmp,
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            config: { mediaType: "application/vnd.docker.container.image.v1+json", ...config },
            layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layer.blob }],
          }),
        ),
      );
      const tagFile = path.join(tmp, "tags", registryRepository(image.repository), TAG);
      mkdirSync(path.dirname(tagFile), { recursive: true });
      writeFileSync(tagFile, manifest.digest);
      refs[image.repository] = { tag: TAG, digest: manifest.digest };
    }
    writeFileSync(path.join(tmp, "images.json"), JSON.stringify(refs, null, 2));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  built = { dir, refs: JSON.parse(readFileSync(index, "utf8")) as Record<string, ImageRef> };
  return built;
}

/** The stand-in images by repository, with their tag and manifest digest. */
export function engineImages(): Record<string, ImageRef> {
  return buildEngineImages().refs;
}

/** The argv that runs the registry for DIR on ADDRESS (run it inside the hub namespace). */
export function registryCommand(dir: string, address: string): string[] {
  return [process.execPath, REGISTRY, dir, address, String(REGISTRY_PORT)];
}
