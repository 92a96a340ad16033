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
  "t1", "t2", "m1", "m2", "m3", "m4",
  // compute optimised
  "c1", "c3", "c4", "cc1", "cc2",
  // memory optimised
  "r3", "r4", "x1", "x1e", "cr1",
  // storage optimised ("i3" only: i3en is Nitro)
  "i2", "i3", "d2", "h1", "hi1", "hs1",
  // accelerated ("p3" only: p3dn is Nitro)
  "g2", "g3", "g3s", "p2", "p3", "f1", "cg1",
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
