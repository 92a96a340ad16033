/**
 * EC2 instance types by hypervisor. Flocker 1.15's EBS driver attaches volumes as /dev/sd[f-p]
 * and then waits for a new /dev/sd* or /dev/xvd* device (flocker/node/agents/ebs.py): that is what
 * Xen instances show. Nitro instances expose EBS volumes as NVMe (/dev/nvme*n1), which Flocker
 * never finds. There is no API call at plan time, so this is a list, taken from AWS's "Instances
 * built on the AWS Nitro System" page (every type not listed there runs on Xen).
 */

/** Families whose virtualised sizes run on Xen. Everything newer (t3, m5, c5, r5, ...) is Nitro. */
const XEN_FAMILIES: ReadonlySet<string> = new Set([
  // general purpose
  "t1",
  "t2",
  "m1",
  "m2",
  "m3",
  "m4",
  // compute optimised
  "c1",
  "c3",
  "c4",
  "cc1",
  "cc2",
  // memory optimised
  "r3",
  "r4",
  "x1",
  "x1e",
  "cr1",
  // storage optimised ("i3" only: i3en is Nitro)
  "i2",
  "i3",
  "d2",
  "h1",
  "hi1",
  "hs1",
  // accelerated ("p3" only: p3dn is Nitro)
  "g2",
  "g3",
  "g3s",
  "p2",
  "p3",
  "f1",
  "cg1",
]);

/** `family.size`, e.g. t2.medium, u-6tb1.metal, i7i.metal-24xl. Lower case, as EC2 spells them. */
const INSTANCE_TYPE = /^([a-z][a-z0-9-]*[a-z0-9])\.([a-z0-9][a-z0-9-]*)$/;

/** True when `text` has the shape of an EC2 instance type (not whether EC2 offers it). */
export function isPlausibleInstanceType(text: string): boolean {
  return INSTANCE_TYPE.test(text);
}

/** The family of an instance type ("t2" for "t2.medium"), or undefined when it is not one. */
export function instanceFamily(instanceType: string): string | undefined {
  return INSTANCE_TYPE.exec(instanceType)?.[1];
}

/**
 * True for instance types that run on Xen and so show EBS volumes as /dev/xvd*. Bare-metal sizes
 * (i3.metal) have no Xen under them. Unknown families count as not Xen: new families are Nitro.
 */
export function isXenInstanceType(instanceType: string): boolean {
  const match = INSTANCE_TYPE.exec(instanceType);
  if (!match) return false;
  const [, family, size] = match;
  return XEN_FAMILIES.has(family) && !size.startsWith("metal");
}

/** vCPUs and memory of one instance type. */
export interface InstanceSize {
  readonly vcpus: number;
  readonly memoryMiB: number;
}

const GiB = (gib: number) => Math.round(gib * 1024);
const sizes = (family: string, table: Record<string, [number, number]>): [string, InstanceSize][] =>
  Object.entries(table).map(([size, [vcpus, gib]]) => [`${family}.${size}`, { vcpus, memoryMiB: GiB(gib) }]);

/**
 * vCPUs and memory (GiB) of the Xen instance types EC2 still launches, from AWS's instance type
 * pages (current and previous generation). There is no API at plan time, and the validator needs
 * the numbers to check the Spark workers against the machine. Retired types (cc1, cc2, cg1, cr1,
 * hi1, hs1) are left out: EC2 no longer launches them.
 */
const XEN_INSTANCE_SIZES: ReadonlyMap<string, InstanceSize> = new Map([
  ...sizes("t1", { micro: [1, 0.613] }),
  ...sizes("t2", {
    nano: [1, 0.5],
    micro: [1, 1],
    small: [1, 2],
    medium: [2, 4],
    large: [2, 8],
    xlarge: [4, 16],
    "2xlarge": [8, 32],
  }),
  ...sizes("m1", { small: [1, 1.7], medium: [1, 3.75], large: [2, 7.5], xlarge: [4, 15] }),
  ...sizes("m2", { xlarge: [2, 17.1], "2xlarge": [4, 34.2], "4xlarge": [8, 68.4] }),
  ...sizes("m3", { medium: [1, 3.75], large: [2, 7.5], xlarge: [4, 15], "2xlarge": [8, 30] }),
  ...sizes("m4", {
    large: [2, 8],
    xlarge: [4, 16],
    "2xlarge": [8, 32],
    "4xlarge": [16, 64],
    "10xlarge": [40, 160],
    "16xlarge": [64, 256],
  }),
  ...sizes("c1", { medium: [2, 1.7], xlarge: [8, 7] }),
  ...sizes("c3", { large: [2, 3.75], xlarge: [4, 7.5], "2xlarge": [8, 15], "4xlarge": [16, 30], "8xlarge": [32, 60] }),
  ...sizes("c4", { large: [2, 3.75], xlarge: [4, 7.5], "2xlarge": [8, 15], "4xlarge": [16, 30], "8xlarge": [36, 60] }),
  ...sizes("r3", { large: [2, 15.25], xlarge: [4, 30.5], "2xlarge": [8, 61], "4xlarge": [16, 122], "8xlarge": [32, 244] }),
  ...sizes("r4", {
    large: [2, 15.25],
    xlarge: [4, 30.5],
    "2xlarge": [8, 61],
    "4xlarge": [16, 122],
    "8xlarge": [32, 244],
    "16xlarge": [64, 488],
  }),
  ...sizes("x1", { "16xlarge": [64, 976], "32xlarge": [128, 1952] }),
  ...sizes("x1e", {
    xlarge: [4, 122],
    "2xlarge": [8, 244],
    "4xlarge": [16, 488],
    "8xlarge": [32, 976],
    "16xlarge": [64, 1952],
    "32xlarge": [128, 3904],
  }),
  ...sizes("i2", { xlarge: [4, 30.5], "2xlarge": [8, 61], "4xlarge": [16, 122], "8xlarge": [32, 244] }),
  ...sizes("i3", {
    large: [2, 15.25],
    xlarge: [4, 30.5],
    "2xlarge": [8, 61],
    "4xlarge": [16, 122],
    "8xlarge": [32, 244],
    "16xlarge": [64, 488],
  }),
  ...sizes("d2", { xlarge: [4, 30.5], "2xlarge": [8, 61], "4xlarge": [16, 122], "8xlarge": [36, 244] }),
  ...sizes("h1", { "2xlarge": [8, 32], "4xlarge": [16, 64], "8xlarge": [32, 128], "16xlarge": [64, 256] }),
  ...sizes("g2", { "2xlarge": [8, 15], "8xlarge": [32, 60] }),
  ...sizes("g3", { "4xlarge": [16, 122], "8xlarge": [32, 244], "16xlarge": [64, 488] }),
  ...sizes("g3s", { xlarge: [4, 30.5] }),
  ...sizes("p2", { xlarge: [4, 61], "8xlarge": [32, 488], "16xlarge": [64, 732] }),
  ...sizes("p3", { "2xlarge": [8, 61], "8xlarge": [32, 244], "16xlarge": [64, 488] }),
  ...sizes("f1", { "2xlarge": [8, 122], "4xlarge": [16, 244], "16xlarge": [64, 976] }),
]);

/**
 * The Nitro instance types the current platform accepts (docs/platforms.md), with their vCPUs and
 * memory (GiB) from AWS's instance type pages. A short list on purpose: current-generation general
 * purpose, compute and memory families of 2 to 16 vCPUs that every large region offers, each one
 * priced in lib/priceTable.json (the cost ceiling refuses what the table cannot price).
 */
const NITRO_INSTANCE_SIZES: ReadonlyMap<string, InstanceSize> = new Map([
  ...["t3"].flatMap((family) =>
    sizes(family, { small: [2, 2], medium: [2, 4], large: [2, 8], xlarge: [4, 16], "2xlarge": [8, 32] }),
  ),
  ...["m5", "m6i"].flatMap((family) =>
    sizes(family, { large: [2, 8], xlarge: [4, 16], "2xlarge": [8, 32], "4xlarge": [16, 64] }),
  ),
  ...["c5", "c6i"].flatMap((family) => sizes(family, { large: [2, 4], xlarge: [4, 8], "2xlarge": [8, 16], "4xlarge": [16, 32] })),
  ...["r5", "r6i"].flatMap((family) =>
    sizes(family, { large: [2, 16], xlarge: [4, 32], "2xlarge": [8, 64], "4xlarge": [16, 128] }),
  ),
]);

/** True for the Nitro instance types of the current platform's list (NITRO_INSTANCE_SIZES). */
export function isCurrentPlatformInstanceType(instanceType: string): boolean {
  return NITRO_INSTANCE_SIZES.has(instanceType);
}

/** The current platform's instance types, smallest memory first (for messages). */
export function currentPlatformInstanceTypes(): string[] {
  return [...NITRO_INSTANCE_SIZES.entries()]
    .sort(([, a], [, b]) => a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus)
    .map(([type]) => type);
}

/** vCPUs and memory of a Xen or current-platform Nitro instance type of the tables; undefined for any other. */
export function instanceSize(instanceType: string): InstanceSize | undefined {
  return XEN_INSTANCE_SIZES.get(instanceType) ?? NITRO_INSTANCE_SIZES.get(instanceType);
}

/** Every instance type of the table, smallest memory first (for messages). */
export function knownXenInstanceTypes(): string[] {
  return [...XEN_INSTANCE_SIZES.entries()]
    .sort(([, a], [, b]) => a.memoryMiB - b.memoryMiB || a.vcpus - b.vcpus)
    .map(([type]) => type);
}

/**
 * The smallest node that runs the stack: Ubuntu, Docker, the Flocker dataset and container agents
 * and plugin (Python processes of about 100-200 MiB each, the control service on one node too) and
 * a Spark worker JVM. t2.micro (1 GiB) swaps or has processes killed; t2.small (2 GiB) is the floor.
 */
export const MIN_NODE_MEMORY_MIB = 2048;
export const SMALLEST_NODE_TYPE = "t2.small";

/**
 * Every instance type the validator accepts for instanceType on either platform: a Xen type of the
 * table with at least MIN_NODE_MEMORY_MIB (book), or a Nitro type of the current platform's list.
 * The price table is generated for exactly these (tools/dev/prices/generatePrices.ts).
 */
export function stackInstanceTypes(): string[] {
  return [
    ...knownXenInstanceTypes().filter((type) => (instanceSize(type)?.memoryMiB ?? 0) >= MIN_NODE_MEMORY_MIB),
    ...currentPlatformInstanceTypes(),
  ];
}

/** Memory a node keeps for Ubuntu, Docker and Flocker: a Spark worker may use the rest. */
export const NODE_RESERVED_MEMORY_MIB = 1024;
