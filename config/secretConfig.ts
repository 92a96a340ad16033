/**
 * Configuration values that are Pulumi secrets (`pulumi config set --secret`): which keys they
 * are, keeping their values out of error messages, and refusing credentials stored in plain text.
 * The validator itself stays free of Pulumi; config/load.ts applies these around it.
 */
import * as pulumi from "@pulumi/pulumi";
import { splitAptCredentials } from "../lib/flockerPackages";

/**
 * The SDK's own record of which keys were set with --secret. It is exported at runtime but left
 * out of the SDK's typings, hence the lookup; without it no key counts as secret, and the
 * credentials check below still refuses a URL with a password in plain text.
 */
const isConfigSecret: (fullKey: string) => boolean =
  (pulumi.runtime as unknown as { isConfigSecret?: (fullKey: string) => boolean }).isConfigSecret ?? (() => false);

/** The keys of `keys` (unqualified) whose values in the project's namespace are secrets. */
export function secretConfigKeys(project: string, keys: readonly string[]): Set<string> {
  return new Set(keys.filter((key) => isConfigSecret(`${project}:${key}`)));
}

/** What a message may show instead of a secret value. */
const REDACTED = "[secret]";

/**
 * `message` with every secret value taken out: the whole value (also as JSON shows it) and each
 * URL in it, since a validator message may quote just the URI of an apt line — each also without
 * its `user:password@`, the form in which messages quote a URL.
 */
export function redactSecrets(message: string, secretValues: readonly string[]): string {
  const withoutCredentials = (text: string) => text.replace(/\/\/[^/\s@]*@/g, "//");
  const fragments = secretValues
    .flatMap((value) => [value, withoutCredentials(value)])
    .flatMap((value) => [JSON.stringify(value), value, ...value.split(/\s+/).filter((token) => token.includes("://"))]);
  return fragments
    .filter((fragment) => fragment.length > 0)
    .sort((a, b) => b.length - a.length)
    .reduce((text, fragment) => text.split(fragment).join(REDACTED), message);
}

/**
 * The keys whose value may carry credentials in a URL (`https://user:password@host/…`). The
 * program reads them knowing that: they reach the nodes only on a step's stdin, which is always a
 * Pulumi secret, and the credentials only in a root-only apt auth.conf file.
 */
export const CREDENTIAL_KEYS = ["flockerAptSource", "ubuntuArchiveMirror"] as const;
type CredentialKey = (typeof CREDENTIAL_KEYS)[number];

/**
 * A problem for each key of CREDENTIAL_KEYS that carries a password but is stored in plain text:
 * the stack file (committed to git) and every preview would show it.
 */
export function plaintextCredentialsProblems(
  values: Partial<Record<CredentialKey, string>>,
  secretKeys: ReadonlySet<string>,
): string[] {
  return CREDENTIAL_KEYS.filter((key) => {
    const value = values[key];
    return value !== undefined && !secretKeys.has(key) && splitAptCredentials(value).auth !== undefined;
  }).map(
    (key) =>
      `${key} holds credentials in its URL but is stored in plain text: set it as a secret, ` +
      `pulumi config set --secret ${key} '<the same value>' (value not shown)`,
  );
}
