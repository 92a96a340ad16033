/**
 * An apt source line read the way apt reads it, and the one rule for which lines the stack lets
 * the nodes trust. Flocker's packages run as root on every node, so a line apt would read as "do
 * not check signatures" must never pass because it is spelled differently from what we look for.
 * scripts/flocker-packages.sh applies the same rule on the node; tests/fixtures/apt-sources.tsv is
 * read by the tests of both, so the two cannot drift. docs/security.md ("Package trust") says why.
 */
import type { AptSourceLine } from "./clusterTypes";

export type { AptSourceLine };

/** Where the stack writes flockerAptKey on the nodes: the only key a source line may name. */
export const FLOCKER_APT_KEYRING = "/etc/apt/keyrings/flocker.gpg";

/** What the operator granted a source line beyond apt's defaults. */
export interface AptTrustGrants {
  /** flockerAptAllowUnsigned: unsigned packages over https, with TLS as their only check. */
  readonly allowUnsignedOverHttps: boolean;
  /** flockerAptKey is set: the stack writes it to FLOCKER_APT_KEYRING on every node. */
  readonly keyProvided: boolean;
}

export type AptSourceParse = { readonly line: AptSourceLine } | { readonly problem: string };

/**
 * apt's StringToBool (apt-pkg/contrib/strutl.cc): strtol with base 0 when it consumes the whole
 * value and the result, cast to a C int, is 0 or 1; else the words below, in any case; else
 * undefined (apt falls back to the option's default). Confirmed with apt 2.6.1: 0x1, 0X1, 01, +1,
 * On and 0x100000001 (4294967297 wraps to 1 as an int) all read as true; 1abc, 2, y, -0 do not.
 */
export function aptStringToBool(value: string): boolean | undefined {
  const number = /^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(value);
  if (number !== null) {
    const digits = number[1] as string;
    const magnitude = /^0[xX]/.test(digits)
      ? BigInt(digits)
      : digits.length > 1 && digits.startsWith("0")
        ? BigInt(`0o${digits.slice(1)}`)
        : BigInt(digits);
    const long = value.startsWith("-") ? -magnitude : magnitude;
    // strtol saturates at the long's bounds; the result is then stored in an int.
    const saturated = long > 2n ** 63n - 1n ? 2n ** 63n - 1n : long < -(2n ** 63n) ? -(2n ** 63n) : long;
    const int = BigInt.asIntN(32, saturated);
    if (int === 0n || int === 1n) return int === 1n;
  }
  const word = value.toLowerCase();
  if (["no", "false", "without", "off", "disable"].includes(word)) return false;
  if (["yes", "true", "with", "on", "enable"].includes(word)) return true;
  return undefined;
}

/** Options apt reads in a one-line source (sources.list(5)) that the stack lets through. */
const LIST_OPTIONS = ["arch", "lang", "target"];
const ACCEPTED_OPTIONS = new Set([
  ...LIST_OPTIONS.flatMap((name) => [name, `${name}+`, `${name}-`]),
  "pdiffs",
  "by-hash",
  "signed-by",
  "trusted",
  "allow-insecure",
  "allow-weak",
  "allow-downgrade-to-insecure",
]);
/** Options that make apt accept a repository without a valid signature when read as true. */
const INSECURE_OPTIONS = ["allow-insecure", "allow-weak", "allow-downgrade-to-insecure"];
/** Options whose value apt reads with StringToBool: the stack takes only the words yes and no. */
const BOOLEAN_OPTIONS = new Set(["trusted", "pdiffs", ...INSECURE_OPTIONS]);

const OPTION = /^([A-Za-z][A-Za-z0-9-]*[+-]?)=(.+)$/;
/** apt unquotes "…" and decodes %XX in option words: only characters it takes as they are. */
const PLAIN_VALUE = /^[A-Za-z0-9._,/:+~-]+$/;
const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** The `[ … ]` list after the type: up to the first ], which must be followed by a blank. */
function takeOptions(rest: string): { options: string[]; rest: string } | { problem: string } {
  if (!rest.startsWith("[")) return { options: [], rest };
  const closing = rest.indexOf("]");
  if (closing < 0 || !/^[ \t]/.test(rest.slice(closing + 1))) {
    return { problem: "the [options] list must end with ] followed by a space" };
  }
  const options = rest
    .slice(1, closing)
    .split(/[ \t]+/)
    .filter((option) => option !== "");
  return { options, rest: rest.slice(closing + 1).trim() };
}

/** Why a repository URI will not do, or undefined: https or http with a host, nothing else. */
function uriProblem(uri: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme !== "https" && scheme !== "http") {
    return `the URI "${uri}" must start with https:// or http:// (file:, cdrom:, copy: and other methods are not allowed)`;
  }
  if (!/^https?:\/\/[^/\s]/i.test(uri)) return `the URI "${uri}" has no host`;
  try {
    new URL(uri);
  } catch {
    return `"${uri}" is not a URI`;
  }
  return undefined;
}

/** sources.list(5): an exact path (ending in /) takes no components, a distribution at least one. */
function suiteProblem(suite: string | undefined, components: readonly string[]): string | undefined {
  if (suite === undefined) return "it names no suite (a distribution such as xenial, or an exact path ending in / such as /)";
  if (suite.endsWith("/") && components.length > 0) {
    return `suite "${suite}" is an exact path (it ends in /), so no components may follow it`;
  }
  if (!suite.endsWith("/") && components.length === 0) {
    return `suite "${suite}" needs at least one component (such as main), or write an exact path ending in /`;
  }
  const badComponent = components.find((component) => !COMPONENT.test(component));
  return badComponent === undefined ? undefined : `"${badComponent}" is not a component name`;
}

/** Reads a one-line apt source token by token; the problem says which part is wrong. */
export function parseAptSourceLine(text: string): AptSourceParse {
  // A line break would smuggle a second source line into sources.list.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) return { problem: "it must be a single line" };
  const typed = /^deb[ \t]+(.*)$/.exec(text.trim());
  if (typed === null) return { problem: 'it must start with "deb" (binary packages)' };
  const split = takeOptions((typed[1] as string).trim());
  if ("problem" in split) return split;
  const [uri, suite, ...components] = split.rest.split(/[ \t]+/).filter((token) => token !== "");
  if (uri === undefined) return { problem: "it names no repository URI" };
  const problem = uriProblem(uri) ?? suiteProblem(suite, components);
  if (problem !== undefined || suite === undefined) return { problem: problem ?? "it names no suite" };
  return { line: { options: split.options, uri, suite, components } };
}

/** What is wrong with each option on its own, in the order the node script checks them. */
function optionProblems(options: readonly string[]): { problems: string[]; values: Map<string, string> } {
  const problems: string[] = [];
  const values = new Map<string, string>();
  for (const option of options) {
    const match = OPTION.exec(option);
    if (match === null) {
      problems.push(`has option "${option}", which is not key=value`);
      continue;
    }
    const [, name, value] = match as unknown as [string, string, string];
    if (!PLAIN_VALUE.test(value)) {
      problems.push(
        `has option "${option}", whose value holds a character apt decodes or reads specially (quotes, %, brackets, #, =)`,
      );
    } else if (!ACCEPTED_OPTIONS.has(name)) {
      problems.push(
        `has option "${name}", which is not one the stack accepts (apt's option names are lower case; accepted: ${[...ACCEPTED_OPTIONS].join(", ")})`,
      );
    } else if (values.has(name)) {
      problems.push(`sets ${name} more than once (apt keeps the last): write it once`);
    } else if (BOOLEAN_OPTIONS.has(name) && value !== "yes" && value !== "no") {
      const read = aptStringToBool(value);
      const reading = read === undefined ? "apt reads it as unset" : `apt reads it as ${read ? "yes" : "no"}`;
      problems.push(`sets ${name}=${value}, which is not written yes or no (${reading}): write yes or no`);
    } else if (INSECURE_OPTIONS.includes(name) && value === "yes") {
      problems.push(`sets ${name}=yes, which lets apt accept a repository without a valid signature: remove it`);
    }
    values.set(name, value);
  }
  return { problems, values };
}

/** The user and password in a URI, decoded; undefined when it carries none. */
export function uriCredentials(uri: string): { login: string; password: string; url: URL } | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.username === "" && url.password === "") return undefined;
  return { login: decodeURIComponent(url.username), password: decodeURIComponent(url.password), url };
}

/**
 * Why apt on the nodes should not trust this source, as reasons that follow the quoted line
 * (empty when the line passes). A line passes when apt will check what it installs: signed by
 * the key the stack provides (signed-by=FLOCKER_APT_KEYRING with flockerAptKey), or, only over
 * https and only with flockerAptAllowUnsigned, trusted=yes (TLS then is the only check).
 */
function aptSourceTrustProblems(source: AptSourceLine, grants: AptTrustGrants): string[] {
  const { problems, values } = optionProblems(source.options);
  if (problems.length > 0) return problems;
  const https = /^https:/i.test(source.uri);
  const trusted = values.get("trusted");
  const signedBy = values.get("signed-by");
  const credentials = uriCredentials(source.uri);
  if (trusted === "no") {
    problems.push("sets trusted=no, which makes apt refuse the repository even when it is signed: remove it");
  } else if (trusted === "yes" && signedBy !== undefined) {
    problems.push("sets trusted=yes beside signed-by, which makes apt skip the signature check: keep signed-by only");
  } else if (trusted === "yes" && !https) {
    problems.push(
      "sets trusted=yes over plain http: apt would install unsigned packages that anyone on the path can serve, as root on every node; " +
        `use https://, or sign the repository and name its key (signed-by=${FLOCKER_APT_KEYRING} with flockerAptKey)`,
    );
  } else if (trusted === "yes" && !grants.allowUnsignedOverHttps) {
    problems.push(
      "sets trusted=yes, which turns off apt's signature check, and flockerAptAllowUnsigned is not true: sign the repository and name " +
        `its key (signed-by=${FLOCKER_APT_KEYRING} with flockerAptKey), or accept TLS as the packages' only check with ` +
        "pulumi config set flockerAptAllowUnsigned true",
    );
  }
  if (signedBy !== undefined && !grants.keyProvided) {
    problems.push(
      `sets signed-by, but flockerAptKey is not set: the only key a source may name is the one the stack writes to ${FLOCKER_APT_KEYRING} ` +
        "(pulumi config set flockerAptKey <path of the repository's public key>)",
    );
  } else if (signedBy !== undefined && signedBy !== FLOCKER_APT_KEYRING) {
    problems.push(`sets signed-by=${signedBy}, which is not the key the stack provides: write signed-by=${FLOCKER_APT_KEYRING}`);
  } else if (signedBy === undefined && grants.keyProvided) {
    problems.push(`does not name flockerAptKey's key: add signed-by=${FLOCKER_APT_KEYRING} to its options`);
  } else if (signedBy === undefined && trusted === undefined) {
    problems.push(
      `names neither signed-by=${FLOCKER_APT_KEYRING} (with flockerAptKey) nor trusted=yes (over https, with flockerAptAllowUnsigned): ` +
        "Flocker's packages are unsigned unless you sign the repository, and apt would refuse them",
    );
  }
  if (credentials !== undefined && !https) {
    problems.push("carries credentials in a plain http URI: apt would send them in clear text; use https://");
  } else if (credentials !== undefined && /[\s#]/.test(credentials.login + credentials.password)) {
    problems.push("has credentials with spaces or # in them, which apt's auth.conf cannot hold; use credentials without them");
  }
  return problems;
}

/** Every reason to refuse `text` as flockerAptSource: a parse problem, or the trust rule's. */
export function aptSourceProblems(text: string, grants: AptTrustGrants): string[] {
  const parsed = parseAptSourceLine(text);
  if ("problem" in parsed) return [`is not an apt source line: ${parsed.problem}`];
  return aptSourceTrustProblems(parsed.line, grants);
}
