/**
 * Where nodes get Flocker from. ClusterHQ's apt archive is gone (docs/flocker.md), so the source is
 * configuration: an apt repository line, or .deb files copied from the operator's machine.
 */
import * as path from "path";
import { FlockerPackageSource } from "../config/schema";
import { remoteBaseDir } from "./remotePaths";

/** Flocker 1.15's node packages: the Python omnibus, the agents and control service, the plugin. */
export const FLOCKER_PACKAGES = [
  "clusterhq-python-flocker",
  "clusterhq-flocker-node",
  "clusterhq-flocker-docker-plugin",
] as const;

/** Where a local .deb directory lands on a node (CopyToRemote copies `dir` into the base dir). */
export function remoteDebDir(localDebDir: string, user: string): string {
  return `${remoteBaseDir(user)}/${path.basename(path.resolve(localDebDir))}`;
}

/** The environment of `flocker-packages.sh`. */
export function flockerPackageEnv(source: FlockerPackageSource, user: string): Record<string, string> {
  const packages = { FLOCKER_PACKAGES: FLOCKER_PACKAGES.join(" ") };
  return source.kind === "apt"
    ? { FLOCKER_APT_SOURCE: source.aptSource, ...packages }
    : { FLOCKER_DEB_DIR: remoteDebDir(source.debDir, user), ...packages };
}
