/**
 * Flocker 1.15's built-in EBS storage profiles (flocker/node/agents/ebs.py,
 * `EBSMandatoryProfileAttributes`), as a typed catalog that checks a volume request before Flocker
 * sends it to EC2. Flocker itself does not check: it silently enlarges a gold volume below 4 GiB,
 * and when CreateVolume fails with InvalidParameterValue it retries once as bronze.
 */
import type { StorageProfileName } from "./clusterTypes";

export type EbsVolumeType = "io1" | "gp2" | "standard";

export interface StorageProfile {
  readonly name: StorageProfileName;
  readonly volumeType: EbsVolumeType;
  /** Provisioned IOPS Flocker requests for a volume of `gib` GiB; undefined where it requests none. */
  readonly iopsFor: (gib: number) => number | undefined;
  /** Smallest volume EBS accepts for this type, GiB. */
  readonly minGiB: number;
  /** Largest volume EBS accepts for this type, GiB. */
  readonly maxGiB: number;
  /** Cost and speed in one line, for the README. */
  readonly note: string;
}

/** Flocker's gold profile: 30 IOPS per GiB (`iops_per_size_gib`), capped at 20000 (`max_iops`). */
const GOLD_IOPS_PER_GIB = 30;
const GOLD_MAX_IOPS = 20000;

export const STORAGE_PROFILES: Readonly<Record<StorageProfileName, StorageProfile>> = {
  gold: {
    name: "gold",
    volumeType: "io1",
    iopsFor: (gib) => Math.min(GOLD_IOPS_PER_GIB * gib, GOLD_MAX_IOPS),
    // Flocker's IOPS_MIN_SIZE; below it Flocker creates a 4 GiB volume instead of failing.
    minGiB: 4,
    maxGiB: 16384,
    note: "Provisioned-IOPS SSD (io1), 30 IOPS/GiB up to 20000: fastest and dearest, billed per GiB and per provisioned IOPS.",
  },
  silver: {
    name: "silver",
    volumeType: "gp2",
    iopsFor: () => undefined,
    minGiB: 1,
    maxGiB: 16384,
    note: "General-purpose SSD (gp2), baseline 3 IOPS/GiB with bursts: the usual price/performance choice.",
  },
  bronze: {
    name: "bronze",
    volumeType: "standard",
    iopsFor: () => undefined,
    minGiB: 1,
    // Magnetic volumes stop at 1 TiB.
    maxGiB: 1024,
    note: "Magnetic (standard, previous generation), about 100 IOPS: cheapest per GiB, slowest; Flocker's default.",
  },
};

export function isStorageProfileName(text: string): text is StorageProfileName {
  return Object.prototype.hasOwnProperty.call(STORAGE_PROFILES, text);
}

/** What Flocker passes to EC2 CreateVolume for a profile. */
export interface EbsVolumeRequest {
  readonly volumeType: EbsVolumeType;
  readonly iops?: number;
}

/**
 * The CreateVolume parameters Flocker uses for `gib` GiB of `profile`; throws a RangeError that says
 * what is allowed when EBS (or Flocker) would not create exactly that volume.
 */
export function volumeRequestFor(profile: StorageProfileName, gib: number): EbsVolumeRequest {
  if (!isStorageProfileName(profile)) {
    throw new RangeError(`unknown storage profile "${String(profile)}": use gold, silver or bronze`);
  }
  const spec = STORAGE_PROFILES[profile];
  if (!Number.isInteger(gib)) {
    throw new RangeError(`a ${profile} volume needs a whole number of GiB, not ${gib}`);
  }
  if (gib < spec.minGiB || gib > spec.maxGiB) {
    throw new RangeError(`a ${profile} (${spec.volumeType}) volume must be ${spec.minGiB} to ${spec.maxGiB} GiB, not ${gib} GiB`);
  }
  const iops = spec.iopsFor(gib);
  return iops === undefined ? { volumeType: spec.volumeType } : { volumeType: spec.volumeType, iops };
}
