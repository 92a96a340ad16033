/**
 * Checks of what the nodes run: Ubuntu release and image, login user, Docker package and version,
 * where Flocker comes from, and the Spark images.
 */
import type { FlockerPackageSource } from "../schema";
import type { FileProbe } from "../fileProbe";
import { dockerImageReferenceProblem, isAmiId, isDebianPackageName, isDebianVersion, isPosixUserName } from "../formats";
import { FLOCKER_PACKAGES } from "../../lib/flockerPackages";
import { aptSourceProblems, FLOCKER_APT_KEYRING, uriCredentials } from "../../lib/aptSource";
import type { FlockerAptSource } from "../../lib/clusterTypes";
import type { Report } from "./report";

const FLOCKER_PACKAGES_HINT = 'see docs/flocker.md, "packages"';
const APT_SOURCE_EXAMPLE = `"deb [signed-by=${FLOCKER_APT_KEYRING}] https://repo.example.com/flocker/16.04 /"`;

export function checkUbuntuRelease(release: string, report: Report): string | undefined {
  if (release === "16.04" || release === "18.04") return release;
  report("ubuntuRelease", release, "is not allowed: use 16.04 or 18.04, the Ubuntu releases Flocker 1.15 packages exist for");
  return undefined;
}

/** An http(s) URL of an Ubuntu archive (the directory that holds dists/ and pool/), or empty. */
export function checkUbuntuArchiveMirror(url: string, report: Report): string | undefined {
  if (url === "") return url;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const credentials = uriCredentials(url);
  if (credentials !== undefined && parsed?.protocol !== "https:") {
    report(
      "ubuntuArchiveMirror",
      url,
      "carries credentials in a plain http URL: apt would send them in clear text; use https://",
    );
    return undefined;
  }
  if (credentials !== undefined && /[\s#]/.test(credentials.login + credentials.password)) {
    report(
      "ubuntuArchiveMirror",
      url,
      "has credentials with spaces or # in them, which apt's auth.conf cannot hold; use credentials without them",
    );
    return undefined;
  }
  if (
    parsed !== undefined &&
    (parsed.protocol === "http:" || parsed.protocol === "https:") &&
    // install-docker.sh puts the URL into a sed replacement and accepts only these characters.
    /^https?:\/\/[A-Za-z0-9.:@%_~/+-]+$/.test(url) &&
    parsed.search === "" &&
    parsed.hash === ""
  ) {
    return url.replace(/\/+$/, "");
  }
  report(
    "ubuntuArchiveMirror",
    url,
    "is not an archive URL: use http(s)://host/path of a directory holding dists/ and pool/, made of letters, digits and . : @ % _ ~ / + - " +
      "(e.g. http://old-releases.ubuntu.com/ubuntu), or leave it empty for the image's own mirror",
  );
  return undefined;
}

export function checkAmi(ami: string, report: Report): string | undefined {
  if (ami === "" || isAmiId(ami)) return ami;
  report(
    "ami",
    ami,
    "is not an AMI id: use ami- followed by 8 or 17 hexadecimal digits (e.g. ami-0123456789abcdef0), " +
      "or leave it empty for the newest Canonical image of ubuntuRelease",
  );
  return undefined;
}

export function checkSshUser(user: string, report: Report): string | undefined {
  if (isPosixUserName(user)) return user;
  report(
    "sshUser",
    user,
    "is not a valid user name: use lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters (Ubuntu images use ubuntu)",
  );
  return undefined;
}

export function checkDockerPackage(name: string, report: Report): string | undefined {
  if (isDebianPackageName(name)) return name;
  report(
    "dockerPackage",
    name,
    "is not a Debian package name: use at least two lowercase letters, digits, +, - or ., starting with a letter or digit (e.g. docker.io)",
  );
  return undefined;
}

export function checkDockerVersion(version: string, report: Report): string | undefined {
  if (version === "" || isDebianVersion(version)) return version;
  report(
    "dockerVersion",
    version,
    "is not a Debian version: use [epoch:]upstream[-revision] as apt-cache policy prints it (e.g. 18.09.7-0ubuntu1~16.04.7), " +
      "or leave it empty for the archive's current version",
  );
  return undefined;
}

/**
 * The first Docker release whose encrypted overlay is safe: 20.10.24 (and 23.0.3) fixed
 * CVE-2023-28840/28841/28842, where the overlay's traffic could go out unencrypted.
 */
export const ENCRYPTED_OVERLAY_MIN_DOCKER_VERSION = "20.10.24";

/**
 * True when a Debian version's upstream part (no epoch, no revision; its leading dotted numbers)
 * is at least `floor`'s (read the same way): 5:20.10.24~3-0~ubuntu-bionic and 24.0.7-0ubuntu2~18.04.1 are, 20.10.21-0ubuntu1~18.04.3 is not.
 * (dpkg's own ordering would put 20.10.24~3 below 20.10.24.)
 */
export function dockerVersionAtLeast(version: string, floor: string): boolean {
  const numbers = (text: string) => {
    const upstream = text.replace(/^\d+:/, "").replace(/-[^-]*$/, "");
    return (/^\d+(?:\.\d+)*/.exec(upstream)?.[0] ?? "0").split(".").map(Number);
  };
  const have = numbers(version);
  const want = numbers(floor);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const difference = (have[i] ?? 0) - (want[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
}

/**
 * The newest docker.io in each release's own Ubuntu archive (its -updates pocket), which the nodes
 * install when dockerVersion is empty. Both releases are past standard support, so these no longer
 * change (Ubuntu's CVE tracker marks docker.io "ignored (end of standard support)" on both); the
 * source is in docs/preflight.md ("Docker from the Ubuntu archive").
 */
const UBUNTU_ARCHIVE_DOCKER_IO: Readonly<Record<string, { readonly version: string; readonly pocket: string }>> = {
  "16.04": { version: "18.09.7", pocket: "xenial-updates" },
  "18.04": { version: "20.10.21", pocket: "bionic-updates" },
};

/** What decides the Docker engine the nodes install. */
export interface DockerSource {
  readonly dockerPackage: string | undefined;
  /** Empty: the archive's current version. */
  readonly dockerVersion: string | undefined;
  /** Empty: the image's own Ubuntu archive. */
  readonly ubuntuArchiveMirror: string | undefined;
  readonly ubuntuRelease: string | undefined;
}

/** The docker.io the image's own archive serves, when that is what the nodes install from. */
function ownArchiveDockerIo(source: DockerSource): { readonly version: string; readonly pocket: string } | undefined {
  if (source.dockerPackage !== "docker.io" || source.ubuntuArchiveMirror !== "" || source.ubuntuRelease === undefined)
    return undefined;
  return UBUNTU_ARCHIVE_DOCKER_IO[source.ubuntuRelease];
}

/**
 * Refuses at preview the engines install-docker.sh would refuse on every node after the instances
 * exist: with overlayEncrypted, a pinned dockerVersion below the floor, or no pin where the
 * release's own archive holds only an older docker.io; and, with or without it, a docker.io pin newer
 * than anything the release's own archive has (apt would find no such version). With
 * ubuntuArchiveMirror or another dockerPackage the archive's contents are not known here, and the
 * node checks what it finds.
 */
export function checkDockerFloor(source: DockerSource, overlayEncrypted: boolean | undefined, report: Report): void {
  const floor = ENCRYPTED_OVERLAY_MIN_DOCKER_VERSION;
  const archive = ownArchiveDockerIo(source);
  const pinned = source.dockerVersion !== undefined && source.dockerVersion !== "";
  if (pinned && archive !== undefined && !dockerVersionAtLeast(archive.version, source.dockerVersion!)) {
    report(
      "dockerVersion",
      source.dockerVersion,
      `is newer than any docker.io in Ubuntu ${source.ubuntuRelease}'s own archive (the newest is ${archive.version}, in ${archive.pocket}): ` +
        "apt on the nodes would find no such version; set ubuntuArchiveMirror to an archive that serves it, or pin a version the archive has",
    );
    return;
  }
  if (overlayEncrypted !== true) return;
  if (pinned) {
    if (dockerVersionAtLeast(source.dockerVersion!, floor)) return;
    report(
      "dockerVersion",
      source.dockerVersion,
      `is older than ${floor}, and overlayEncrypted is true: Docker before ${floor} can send an ` +
        `encrypted overlay's traffic unencrypted (CVE-2023-28840/28841/28842); pin ${floor} or later, or set overlayEncrypted to false`,
    );
    return;
  }
  if (archive === undefined || dockerVersionAtLeast(archive.version, floor)) return;
  report(
    "overlayEncrypted",
    "true",
    `needs Docker ${floor} or later (CVE-2023-28840/28841/28842), but dockerVersion is empty and Ubuntu ${source.ubuntuRelease}'s own archive ` +
      `installs docker.io ${archive.version} (${archive.pocket}): every node would refuse it after the instances exist. ` +
      `Set overlayEncrypted to false, or set ubuntuArchiveMirror to an archive that serves docker.io ${floor} or later and pin that version with dockerVersion`,
  );
}

/** flockerAptSource, its key and its opt-in, as configured (empty/unset when not given). */
export interface AptSourceTexts {
  readonly line: string;
  readonly keyPath: string;
  readonly allowUnsigned: boolean | undefined;
}

function checkAptSource(texts: AptSourceTexts, files: FileProbe | undefined, report: Report): FlockerAptSource | undefined {
  const key = texts.keyPath === "" ? { bytes: undefined } : checkAptKey(texts.keyPath, files, report);
  const grants = { allowUnsignedOverHttps: texts.allowUnsigned === true, keyProvided: texts.keyPath !== "" };
  const problems = aptSourceProblems(texts.line, grants);
  for (const problem of problems) report("flockerAptSource", texts.line, `${problem}; e.g. ${APT_SOURCE_EXAMPLE}`);
  if (problems.length > 0 || key === undefined || texts.allowUnsigned === undefined) return undefined;
  return {
    kind: "apt",
    aptSource: texts.line,
    allowUnsigned: texts.allowUnsigned,
    ...(key.bytes === undefined ? {} : { aptKeyBase64: Buffer.from(key.bytes).toString("base64") }),
  };
}

/**
 * flockerAptKey: a binary OpenPGP public key, as `gpg --export` writes it. Binary because Ubuntu
 * 16.04's apt (1.2) reads no armored keyring in signed-by; its first packet must be a public key
 * (tag 6: 0x98-0x9b in the old packet format, 0xc6 in the new one).
 */
function checkAptKey(path: string, files: FileProbe | undefined, report: Report): { bytes: Uint8Array } | undefined {
  const bytes = files?.readFile?.(path);
  if (bytes === undefined) {
    const tilde = path.startsWith("~") ? " (~ is not expanded: write the full path)" : "";
    report(
      "flockerAptKey",
      path,
      `is not a readable file${tilde}: set the path of the repository's public key (gpg --export KEYID > flocker.gpg)`,
    );
    return undefined;
  }
  const armored = Buffer.from(bytes.subarray(0, 64)).toString("latin1").includes("-----BEGIN PGP");
  const first = bytes[0] ?? 0;
  if (armored || !((first & 0xfc) === 0x98 || first === 0xc6)) {
    report(
      "flockerAptKey",
      path,
      armored
        ? "is an armored key: apt on Ubuntu 16.04 reads only binary keyrings; convert it with gpg --dearmor < key.asc > flocker.gpg"
        : "is not an OpenPGP public key: export it in binary form with gpg --export KEYID > flocker.gpg",
    );
    return undefined;
  }
  return { bytes };
}

function checkDebDir(dir: string, files: FileProbe | undefined, report: Report): string | undefined {
  if (files === undefined) return dir;
  const names = files.listDir(dir);
  if (names === undefined) {
    const tilde = dir.startsWith("~") ? " (~ is not expanded: write the full path)" : "";
    report(
      "flockerDebDir",
      dir,
      `is not a readable directory${tilde}: set the directory that holds the Flocker .deb files; ${FLOCKER_PACKAGES_HINT}`,
    );
    return undefined;
  }
  // Debian names package files <package>_<version>_<arch>.deb.
  const hasDeb = (pkg: string) => names.some((name) => name.startsWith(`${pkg}_`) && name.endsWith(".deb"));
  const missing = FLOCKER_PACKAGES.filter((pkg) => !hasDeb(pkg));
  for (const pkg of missing) {
    report(
      "flockerDebDir",
      dir,
      `has no ${pkg}_*.deb: the directory needs the .deb files of ${FLOCKER_PACKAGES.join(", ")}; ${FLOCKER_PACKAGES_HINT}`,
    );
  }
  return missing.length === 0 ? dir : undefined;
}

/** flockerAptKey and flockerAptAllowUnsigned do nothing without an apt source: refused, so none is forgotten. */
export function reportAptOnlyKeys(apt: AptSourceTexts, why: string, report: Report): void {
  if (apt.keyPath !== "") {
    report(
      "flockerAptKey",
      apt.keyPath,
      `is only read with flockerAptSource, and ${why}: remove it (pulumi config rm flockerAptKey)`,
    );
  }
  if (apt.allowUnsigned === true) {
    report(
      "flockerAptAllowUnsigned",
      "true",
      `is only read with flockerAptSource, and ${why}: remove it (pulumi config rm flockerAptAllowUnsigned)`,
    );
  }
}

/** Exactly one of flockerAptSource and flockerDebDir says where the nodes get Flocker from. */
export function checkFlockerPackages(
  apt: AptSourceTexts,
  debDir: string,
  files: FileProbe | undefined,
  report: Report,
): FlockerPackageSource | undefined {
  const aptSource = apt.line;
  if (aptSource === "") reportAptOnlyKeys(apt, "flockerAptSource is empty", report);
  if (aptSource === "" && debDir === "") {
    report(
      "flockerAptSource",
      undefined,
      "and flockerDebDir are both empty: set exactly one of them, since ClusterHQ's own archive is gone: " +
        `flockerAptSource to an apt line such as ${APT_SOURCE_EXAMPLE}, or flockerDebDir to a local directory of Flocker .deb files; ` +
        FLOCKER_PACKAGES_HINT,
    );
    return undefined;
  }
  const aptChecked = aptSource === "" ? undefined : checkAptSource(apt, files, report);
  const debs = debDir === "" ? undefined : checkDebDir(debDir, files, report);
  if (aptSource !== "" && debDir !== "") {
    report(
      "flockerAptSource",
      undefined,
      `and flockerDebDir are both set: set only one of them (pulumi config rm flockerAptSource or pulumi config rm flockerDebDir); ${FLOCKER_PACKAGES_HINT}`,
    );
    return undefined;
  }
  if (aptChecked !== undefined) return aptChecked;
  if (debs !== undefined) return { kind: "debs", debDir: debs };
  return undefined;
}

export function checkImage(key: "sparkMasterImage" | "sparkWorkerImage", image: string, report: Report): string | undefined {
  const problem = dockerImageReferenceProblem(image);
  if (problem === undefined) return image;
  const example = key === "sparkMasterImage" ? "fsoppelsa/spark-master" : "fsoppelsa/spark-worker";
  report(
    key,
    image,
    `is not a Docker image reference (${problem}): use [registry/]name[:tag][@sha256:digest] in lower case, e.g. ${example} or ${example}:latest`,
  );
  return undefined;
}
