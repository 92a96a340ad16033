/**
 * Recognisers for the text formats the config holds (names, versions, image references, an apt
 * source line). Pure; each one follows the rules of the tool that will read the value, cited below.
 */

/** An AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1. */
export function isAwsRegionName(text: string): boolean {
  return /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/.test(text);
}

/** An AMI id: the old 8-digit and the current 17-digit form. */
export function isAmiId(text: string): boolean {
  return /^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(text);
}

/** A lower-case RFC 1123 label: letters, digits and inner hyphens, at most `maxLength` characters. */
export function isLowercaseDnsLabel(text: string, maxLength = 63): boolean {
  return text.length <= maxLength && /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(text);
}

/** A user name useradd accepts (shadow's default NAME_REGEX, without the Samba `$` suffix). */
export function isPosixUserName(text: string): boolean {
  return /^[a-z_][a-z0-9_-]{0,31}$/.test(text);
}

/** A Debian package name (Debian Policy 5.6.1): at least two of a-z 0-9 + - ., starting alphanumeric. */
export function isDebianPackageName(text: string): boolean {
  return /^[a-z0-9][a-z0-9+.-]+$/.test(text);
}

/**
 * A Debian version (Debian Policy 5.6.12), `[epoch:]upstream[-revision]`: the upstream part starts
 * with a digit and may contain hyphens only when a revision follows the last one.
 */
export function isDebianVersion(text: string): boolean {
  const epochMatch = /^(\d+):(.*)$/.exec(text);
  const rest = epochMatch ? epochMatch[2] : text;
  const lastHyphen = rest.lastIndexOf("-");
  if (lastHyphen < 0) return /^[0-9][A-Za-z0-9.+~]*$/.test(rest);
  const upstream = rest.slice(0, lastHyphen);
  const revision = rest.slice(lastHyphen + 1);
  return /^[0-9][A-Za-z0-9.+~-]*$/.test(upstream) && /^[A-Za-z0-9.+~]+$/.test(revision);
}

const SPARK_MEMORY_UNIT_MIB: Readonly<Record<string, number>> = { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 };

/**
 * A Spark memory string as SPARK_WORKER_MEMORY takes it (1g, 512m, 2048m; unit case-insensitive),
 * in MiB, or undefined. Spark rounds to whole MiB, so less than 1m would be a worker with no memory.
 */
export function sparkMemoryMiB(text: string): number | undefined {
  const match = /^(\d+)([kmgtKMGT])$/.exec(text);
  if (!match) return undefined;
  const mib = Math.floor(Number(match[1]) * SPARK_MEMORY_UNIT_MIB[match[2].toLowerCase()]);
  return mib >= 1 ? mib : undefined;
}

// Docker image references, after distribution/reference's grammar (reference.go):
//   reference := name [ ":" tag ] [ "@" digest ];  name := [domain "/"] path-component ["/" path-component]*
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$/;
const TAG = /^\w[\w.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

/** Why `text` is not a Docker image reference, or undefined when it is one. */
export function dockerImageReferenceProblem(text: string): string | undefined {
  if (text === "") return "it is empty";
  const [nameAndTag, digest, ...extra] = text.split("@");
  if (extra.length > 0) return "it has more than one @";
  if (digest !== undefined && !SHA256_DIGEST.test(digest)) return "the digest after @ must be sha256: and 64 hex digits";
  const lastColon = nameAndTag.lastIndexOf(":");
  const hasTag = lastColon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, lastColon) : nameAndTag;
  if (hasTag && !TAG.test(nameAndTag.slice(lastColon + 1))) {
    return "the tag must be 1 to 128 letters, digits, _, . or -, not starting with . or -";
  }
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  const components = name.split("/");
  // Docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
  const first = components[0];
  const hasDomain = components.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain && !DOMAIN.test(first)) return `"${first}" is not a registry host name`;
  const path = hasDomain ? components.slice(1) : components;
  if (path.some((component) => !PATH_COMPONENT.test(component))) {
    const lowercaseWouldDo = path.every((component) => PATH_COMPONENT.test(component.toLowerCase()));
    return lowercaseWouldDo
      ? "repository names must be lower case"
      : "each part of the name must be lowercase letters and digits, joined by single . or _, __, or hyphens";
  }
  return undefined;
}

// Apt source lines are read in lib/, where the node-side rule that shares their parsing lives.
export { parseAptSourceLine } from "../lib/aptSource";
