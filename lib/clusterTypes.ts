/**
 * The shapes the validated configuration hands to the rest of the program. They live in lib/ so
 * that lib/ never imports config/: config/ produces these values, lib/ and components/ consume them.
 */

/** Flocker's built-in EBS storage profiles (see lib/ebsProfiles.ts). */
export const STORAGE_PROFILE_NAMES = ["gold", "silver", "bronze"] as const;
export type StorageProfileName = (typeof STORAGE_PROFILE_NAMES)[number];

/** The four images of containers mode, by the part of Flocker each runs. */
export interface FlockerImages {
  readonly control: string;
  readonly datasetAgent: string;
  readonly containerAgent: string;
  readonly plugin: string;
}

/** The config key of each containers-mode image, so a failed pull or check names what to fix. */
export const FLOCKER_IMAGE_KEYS = {
  control: "flockerControlImage",
  datasetAgent: "flockerDatasetAgentImage",
  containerAgent: "flockerContainerAgentImage",
  plugin: "flockerPluginImage",
} as const satisfies Record<keyof FlockerImages, string>;

export type FlockerImageKey = (typeof FLOCKER_IMAGE_KEYS)[keyof FlockerImages];

/** Where the nodes get the Flocker packages from: exactly one of the two config keys. */
export type FlockerPackageSource = FlockerAptSource | { readonly kind: "debs"; readonly debDir: string };

/** An apt repository, and what the nodes' apt may trust it with (lib/aptSource.ts has the rule). */
export interface FlockerAptSource {
  readonly kind: "apt";
  /** The source line as configured; it may hold credentials (a Pulumi secret then). */
  readonly aptSource: string;
  /** flockerAptKey's content, base64: the public key the stack writes for signed-by. */
  readonly aptKeyBase64?: string;
  /** flockerAptAllowUnsigned: trusted=yes over https is accepted. */
  readonly allowUnsigned: boolean;
}

/** Where Flocker comes from: ClusterHQ's images, or packages from one of the two sources. */
export type FlockerSource =
  | { readonly kind: "containers"; readonly images: FlockerImages }
  | { readonly kind: "packages"; readonly packages: FlockerPackageSource };

/** Data Lifecycle Manager's schedule for the Flocker datasets; undefined when snapshots are off. */
export interface SnapshotSchedule {
  readonly intervalHours: number;
  /** "HH:MM", UTC. */
  readonly time: string;
  readonly retainCount: number;
}

/** An apt one-line source (sources.list(5)): `deb [options] URI suite [components]`. */
export interface AptSourceLine {
  readonly options: readonly string[];
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
}
