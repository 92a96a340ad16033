/**
 * Typed access to the swarm-flocker stack's outputs (its contract, vendored in contract.ts) and the
 * pure functions that turn them into client settings.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CommonStackOutputValues, FlockerStackOutputValues, StackOutputValues } from "./contract";

/** The cluster stack read when `clusterStack` is not configured (Pulumi.yaml says the same). */
export const DEFAULT_CLUSTER_STACK = "organization/swarm-flocker/dev";

/**
 * One output every cluster stack has, typed by the contract. `requireOutput` fails the deployment
 * when the output is missing, and keeps it secret when the cluster stack exported it as a secret.
 */
export function output<K extends keyof CommonStackOutputValues>(
  ref: pulumi.StackReference,
  key: K,
): pulumi.Output<CommonStackOutputValues[K]> {
  return ref.requireOutput(key) as pulumi.Output<CommonStackOutputValues[K]>;
}

/** The cluster's platform: a book stack exports none (its outputs predate the choice). */
export function platformOf(ref: pulumi.StackReference): pulumi.Output<NonNullable<StackOutputValues["platform"]>> {
  return ref.getOutput("platform").apply((platform: unknown) => (platform === "current" ? "current" : "book"));
}

/**
 * A Flocker output: only a book stack has them, so it is read with `getOutput` (undefined on a
 * current stack) rather than required; secret when the cluster stack exported it as a secret.
 */
export function flockerOutput<K extends keyof FlockerStackOutputValues>(
  ref: pulumi.StackReference,
  key: K,
): pulumi.Output<FlockerStackOutputValues[K] | undefined> {
  return ref.getOutput(key) as pulumi.Output<FlockerStackOutputValues[K] | undefined>;
}

/** flockerctl's user: it reads `<certs path>/client.crt` and `client.key` (the cluster's `user-client` certificate). */
const FLOCKER_USER = "client";

export interface FlockerClient {
  /** `https://<control node public ip>:4523`. */
  readonly controlEndpoint: string;
  /** Environment flockerctl reads (FLOCKER_CERTS_PATH is relative: where you write `files`). */
  readonly env: { readonly FLOCKER_CONTROL_SERVICE: string; readonly FLOCKER_USER: string; readonly FLOCKER_CERTS_PATH: string };
  /** The certificates directory's files, by name: the cluster CA and the client's certificate and key. */
  readonly files: { readonly "cluster.crt": string; readonly "client.crt": string; readonly "client.key": string };
  /** A first command to try, as an argument array. */
  readonly command: readonly string[];
}

/** The flockerctl bundle: endpoint, environment and certificate files. It holds a private key. */
export function flockerClient(
  controlEndpoint: string,
  caCert: string,
  clientCert: string,
  clientKey: string,
  certsPath = "flocker-certs",
): FlockerClient {
  const url = new URL(controlEndpoint);
  if (url.protocol !== "https:") throw new Error(`flockerControlPublicEndpoint must be https://…, got ${controlEndpoint}`);
  const port = url.port || "443";
  return {
    controlEndpoint,
    env: { FLOCKER_CONTROL_SERVICE: url.hostname, FLOCKER_USER: FLOCKER_USER, FLOCKER_CERTS_PATH: certsPath },
    files: { "cluster.crt": caCert, "client.crt": clientCert, "client.key": clientKey },
    command: ["flockerctl", "--control-port", port, "list-nodes"],
  };
}

/** `spark-submit` against the cluster's master, as an argument array. */
export function sparkSubmitArgs(masterUrl: string, mainClass: string, jar: string, appArgs: readonly string[] = []): string[] {
  if (!/^spark:\/\/[^/\s]+:\d+$/.test(masterUrl)) throw new Error(`sparkMasterUrl must be spark://host:port, got ${masterUrl}`);
  return ["spark-submit", "--master", masterUrl, "--class", mainClass, jar, ...appArgs];
}

/** An argument array as one POSIX shell command line (single quotes where needed). */
export function shellLine(argv: readonly string[]): string {
  return argv.map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(" ");
}
