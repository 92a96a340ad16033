/**
 * Where nodes get Flocker from. ClusterHQ's apt archive is gone (docs/flocker.md), so the source is
 * configuration: an apt repository line, or .deb files copied from the operator's machine. What
 * keeps either source trustworthy is in docs/security.md ("Package sources").
 */
import { FLOCKER_APT_KEYRING, uriCredentials } from "./aptSource";
import type { FlockerPackageSource } from "./clusterTypes";
import { remoteBaseDir } from "./remotePaths";

/** Flocker 1.15's node packages: the Python omnibus, the agents and control service, the plugin. */
export const FLOCKER_PACKAGES = [
  "clusterhq-python-flocker",
  "clusterhq-flocker-node",
  "clusterhq-flocker-docker-plugin",
] as const;

/**
 * Where the .deb files land on a node: a fixed directory beside scripts/, whatever the local
 * directory is called (a local directory named "scripts" must not land over the node scripts).
 */
const REMOTE_DEB_DIR_NAME = "flocker-debs";

export function remoteDebDir(user: string): string {
  return `${remoteBaseDir(user)}/${REMOTE_DEB_DIR_NAME}`;
}

/**
 * The environment of `flocker-packages.sh`. The apt source is not in it: it may carry credentials,
 * so it travels on stdin (flockerPackageStdin) and never on a command line. What the script needs
 * to apply the trust rule of lib/aptSource.ts is: the public key (not a secret), where it goes,
 * and whether trusted=yes over https was allowed.
 */
export function flockerPackageEnv(source: FlockerPackageSource, user: string): Record<string, string> {
  const packages = { FLOCKER_PACKAGES: FLOCKER_PACKAGES.join(" ") };
  return source.kind === "apt"
    ? {
        FLOCKER_PACKAGE_SOURCE: "apt",
        FLOCKER_APT_KEYRING,
        FLOCKER_APT_KEY: source.aptKeyBase64 ?? "",
        FLOCKER_APT_ALLOW_UNSIGNED: String(source.allowUnsigned),
        ...packages,
      }
    : { FLOCKER_PACKAGE_SOURCE: "deb", FLOCKER_DEB_DIR: remoteDebDir(user), ...packages };
}

/**
 * What `flocker-packages.sh` reads on stdin in apt mode: the source line without credentials, then
 * the apt_auth.conf(5) entry that holds them (if any), which the script keeps in
 * /etc/apt/auth.conf.d/ (0600) instead of the world-readable sources list. Undefined in deb mode.
 */
export function flockerPackageStdin(source: FlockerPackageSource): string | undefined {
  if (source.kind !== "apt") return undefined;
  const { line, auth } = splitAptCredentials(source.aptSource);
  return auth === undefined ? `${line}\n` : `${line}\n${auth}\n`;
}

/**
 * An apt source line with `user:password@` taken out of its URI, and the auth.conf entry for it:
 * `machine host[:port]/path login user password secret` (no scheme: apt then matches it for https
 * only, and credentials are refused over http anyway).
 */
export function splitAptCredentials(aptSource: string): { line: string; auth?: string } {
  const line = aptSource.trim();
  const uri = line.split(/\s+/).find((token) => /^[a-z][a-z0-9+.-]*:\/\//i.test(token));
  const credentials = uri === undefined ? undefined : uriCredentials(uri);
  if (uri === undefined || credentials === undefined) return { line };
  const bare = uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");
  const machine = `${credentials.url.host}${credentials.url.pathname.replace(/\/+$/, "")}`;
  return {
    line: line.replace(uri, bare),
    auth: `machine ${machine} login ${credentials.login} password ${credentials.password}`,
  };
}

/**
 * The .deb file of each Flocker package in `names` (a directory listing): `<package>_<version>_<arch>.deb`,
 * the highest version where there are several (compared like `sort -V`, as the node script does).
 * Only these are copied to the nodes: nothing else of the directory, no dotfiles.
 */
export function selectFlockerDebs(names: readonly string[]): { pkg: string; file: string }[] {
  return FLOCKER_PACKAGES.flatMap((pkg) => {
    const candidates = names.filter((name) => name.startsWith(`${pkg}_`) && name.endsWith(".deb"));
    const version = (name: string) => name.slice(pkg.length + 1).split("_")[0];
    const newest = candidates.sort((a, b) => versionCompare(version(a), version(b))).at(-1);
    return newest === undefined ? [] : [{ pkg, file: newest }];
  });
}

/** Natural order of version strings: runs of digits compare as numbers (1.15.0 > 1.9.2). */
function versionCompare(a: string, b: string): number {
  const parts = (text: string) => text.match(/\d+|\D+/g) ?? [];
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? "", pb[i] ?? ""];
    const numeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const order = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
}
