/**
 * Packages mode, from the operator's side: the apt repository's package index lists the Flocker
 * packages, or the local .deb files are Debian packages. The node-side preflight
 * (scripts/flocker-packages.sh) still runs on every node; this one costs no instance.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { parseAptSourceLine } from "../config/formats";
import { FLOCKER_PACKAGES } from "../lib/flockerPackages";
import { describeFailure, redactUrl, type HttpClient, type HttpResponse } from "./http";

/** The index files of one apt source line, each as the .gz apt prefers and the plain file. */
export function aptIndexUrls(line: string): { uri: string; indexes: string[] } | undefined {
  const parsed = parseAptSourceLine(line);
  if (!("line" in parsed)) return undefined;
  const { uri, suite, components, options } = parsed.line;
  const base = uri.replace(/\/+$/, "");
  // sources.list(5): a suite ending in / is an exact path (a flat repository) with no components.
  if (suite.endsWith("/")) {
    const dir = `${base}/${suite.replace(/^\/+/, "")}`.replace(/\/*$/, "/");
    return { uri, indexes: [`${dir}Packages`] };
  }
  const arch =
    options
      .find((option) => option.startsWith("arch="))
      ?.slice("arch=".length)
      .split(",")[0] ?? "amd64";
  const indexes = components.flatMap((component) =>
    [arch, "all"].map((a) => `${base}/dists/${suite}/${component}/binary-${a}/Packages`),
  );
  return { uri, indexes };
}

/** fetch() refuses URLs with credentials: they travel as a Basic header instead. */
function requestFor(url: string): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (parsed.username === "" && parsed.password === "") return { url, headers: {} };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.toString(), headers: { Authorization: `Basic ${Buffer.from(credentials).toString("base64")}` } };
}

/** Package names in a Packages file (RFC 822 stanzas). */
function packagesListed(index: string): Set<string> {
  const names = new Set<string>();
  for (const match of index.matchAll(/^Package:\s*(\S+)/gm)) names.add(match[1]);
  return names;
}

type IndexAnswer = { readonly names: Set<string> } | { readonly status: number } | { readonly failure: string };

/** One index: Packages.gz, else Packages (a repository may publish either). */
async function readIndex(http: HttpClient, url: string): Promise<IndexAnswer> {
  let last: HttpResponse | undefined;
  for (const candidate of [`${url}.gz`, url]) {
    const request = requestFor(candidate);
    try {
      last = await http({ url: request.url, method: "GET", headers: request.headers });
    } catch (error) {
      return { failure: describeFailure(error) };
    }
    if (last.status !== 200) continue;
    try {
      const bytes = candidate.endsWith(".gz") ? zlib.gunzipSync(last.body) : Buffer.from(last.body);
      return { names: packagesListed(bytes.toString("utf8")) };
    } catch (error) {
      return { failure: `its Packages.gz is not gzip data (${describeFailure(error)})` };
    }
  }
  return { status: last?.status ?? 0 };
}

export interface SourceCheckHint {
  /** How to skip the operator-side check for a host only the nodes reach. */
  readonly skip: (host: string) => string;
  /**
   * flockerAptSource is a Pulumi secret: its URLs stay out of the messages (a token may sit in the
   * path, where cutting the user info does not reach it). @default false
   */
  readonly secret?: boolean;
}

/** Problems with flockerAptSource, each naming the key; empty when the index lists every package. */
export async function checkAptSource(line: string, http: HttpClient, hint: SourceCheckHint): Promise<string[]> {
  const located = aptIndexUrls(line);
  if (located === undefined) return [];
  const uri = new URL(located.uri);
  const shown = (url: string) => (hint.secret ? "[secret]" : redactUrl(url));
  const host = hint.secret ? "<its host>" : uri.hostname;
  const found = new Set<string>();
  const answered: string[] = [];
  const notServed: string[] = [];
  for (const index of located.indexes) {
    const answer = await readIndex(http, index);
    if ("failure" in answer) {
      return [
        `flockerAptSource: ${shown(located.uri)} did not answer from this machine (${answer.failure}): check the URL and that it is ` +
          `reachable (curl -sSI ${shown(index)}); ${hint.skip(host)}`,
      ];
    }
    if ("names" in answer) {
      answered.push(index);
      for (const name of answer.names) found.add(name);
    } else {
      notServed.push(`${shown(index)}(.gz) (${answer.status})`);
    }
  }
  if (answered.length === 0) {
    return [
      `flockerAptSource: no package index where the line points: ${notServed.join(", ")}. For a flat repository the line is ` +
        '"deb [trusted=yes] https://host/path /" with Packages or Packages.gz in /path (dpkg-scanpackages . | gzip > Packages.gz); ' +
        "for a pool, dists/<suite>/<component>/binary-amd64/Packages",
    ];
  }
  const missing = FLOCKER_PACKAGES.filter((name) => !found.has(name));
  if (missing.length === 0) return [];
  const flocker = [...found].filter((name) => name.startsWith("clusterhq-"));
  return [
    `flockerAptSource: the repository's index (${answered.map(shown).join(", ")}) does not list ${missing.join(", ")}` +
      `${flocker.length > 0 ? ` (it lists ${flocker.join(", ")})` : ""}: publish all of ${FLOCKER_PACKAGES.join(", ")} there ` +
      '(docs/flocker.md, "packages"), or set flockerDebDir to a directory of the .deb files instead',
  ];
}

/** The first bytes of a .deb: an ar archive whose first member is debian-binary. */
const DEB_MAGIC = "!<arch>\ndebian-binary";

/** Problems with flockerDebDir's files (the validator has already seen that each package has one). */
export function checkDebDir(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const problems: string[] = [];
  for (const pkg of FLOCKER_PACKAGES) {
    for (const name of names.filter((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb"))) {
      const head = Buffer.alloc(DEB_MAGIC.length);
      let read = 0;
      try {
        const fd = fs.openSync(path.join(dir, name), "r");
        try {
          read = fs.readSync(fd, head, 0, head.length, 0);
        } finally {
          fs.closeSync(fd);
        }
      } catch (error) {
        problems.push(`flockerDebDir: ${name} in ${dir} cannot be read (${describeFailure(error)})`);
        continue;
      }
      if (read < head.length || head.toString("latin1") !== DEB_MAGIC) {
        problems.push(
          `flockerDebDir: ${path.join(dir, name)} is not a Debian package (it does not start like one: truncated, or an error page saved under ` +
            "that name?): replace it with the real .deb (dpkg-deb --info <file> must read it)",
        );
      }
    }
  }
  return problems;
}
