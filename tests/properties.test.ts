/**
 * Properties of the stack's arithmetic, checked on generated inputs (fast-check) against a model
 * written in plain integer arithmetic: CIDR containment, overlap and host addresses; the topology
 * of any valid node and manager count; Flocker's volume sizes and the EBS profiles' rules.
 */
import * as fc from "fast-check";
import { checkManagerCount } from "../config/checks/cluster";
import { STORAGE_PROFILES, volumeRequestFor } from "../lib/ebsProfiles";
import { flockerParseNum, isWholeGiB, parseFlockerSize } from "../lib/flockerSize";
import {
  cidrNetworkForm,
  cidrPrefixLength,
  coveredAddresses,
  ipv4CidrContains,
  ipv4CidrSize,
  ipv4CidrsOverlap,
  ipv4HostAddress,
  isIpv4NetworkCidr,
} from "../lib/cidr";
import { planNodes, topology, type TopologyInput } from "../lib/topology";

// ------------------------------------------------------------------------------------- CIDRs

/** An IPv4 block as the model sees it: an address (host bits possibly set) and a prefix length. */
interface Block {
  readonly address: number;
  readonly prefix: number;
}

const dotted = (n: number) =>
  [Math.floor(n / 2 ** 24) % 256, Math.floor(n / 2 ** 16) % 256, Math.floor(n / 2 ** 8) % 256, n % 256].join(".");
const size = (b: Block) => 2 ** (32 - b.prefix);
const start = (b: Block) => b.address - (b.address % size(b));
const end = (b: Block) => start(b) + size(b) - 1;
const cidr = (b: Block) => `${dotted(b.address)}/${b.prefix}`;
const network = (b: Block) => `${dotted(start(b))}/${b.prefix}`;
/** The address of a dotted quad (or of a CIDR's address part) as a number. */
const ipv4ToNumber = (text: string) =>
  text
    .split("/")[0]
    .split(".")
    .reduce((n, octet) => n * 256 + Number(octet), 0);

const address = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const block: fc.Arbitrary<Block> = fc.record({ address, prefix: fc.integer({ min: 0, max: 32 }) });
/** A block and one inside it (a longer prefix, random bits below the outer one): containment is common. */
const nested: fc.Arbitrary<[Block, Block]> = fc
  .tuple(block, fc.integer({ min: 0, max: 32 }), address)
  .map(([outer, extra, bits]) => {
    const prefix = Math.min(32, outer.prefix + extra);
    return [outer, { address: start(outer) + (bits % size(outer)), prefix }];
  });
/** Half related pairs, half independent ones, in both orders. */
const pair: fc.Arbitrary<[Block, Block]> = fc.oneof(
  nested,
  nested.map(([a, b]): [Block, Block] => [b, a]),
  fc.tuple(block, block),
);

describe("CIDR arithmetic (lib/cidr.ts) agrees with address arithmetic", () => {
  test("size and network form", () => {
    fc.assert(
      fc.property(block, (b) => {
        expect(ipv4CidrSize(cidr(b))).toBe(size(b));
        expect(cidrPrefixLength(cidr(b))).toBe(b.prefix);
        expect(cidrNetworkForm(cidr(b))).toBe(network(b));
        expect(isIpv4NetworkCidr(cidr(b))).toBe(b.address === start(b));
        expect(isIpv4NetworkCidr(cidrNetworkForm(cidr(b)))).toBe(true);
      }),
    );
  });

  test("containment is interval inclusion, whether host bits are set or not", () => {
    fc.assert(
      fc.property(pair, ([outer, inner]) => {
        const expected = start(outer) <= start(inner) && end(inner) <= end(outer);
        expect(ipv4CidrContains(cidr(outer), cidr(inner))).toBe(expected);
        expect(ipv4CidrContains(network(outer), network(inner))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  test("overlap is symmetric and means a shared address", () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const shared = start(a) <= end(b) && start(b) <= end(a);
        expect(ipv4CidrsOverlap(cidr(a), cidr(b))).toBe(shared);
        expect(ipv4CidrsOverlap(cidr(b), cidr(a))).toBe(shared);
      }),
      { numRuns: 500 },
    );
  });

  test("every block contains itself and its network form, and they contain each other", () => {
    fc.assert(
      fc.property(block, (b) => {
        expect(ipv4CidrContains(cidr(b), cidr(b))).toBe(true);
        expect(ipv4CidrContains(cidr(b), network(b))).toBe(true);
        expect(ipv4CidrContains(network(b), cidr(b))).toBe(true);
      }),
    );
  });

  test("the n-th host address is start + n, inside the block; outside the block it is refused", () => {
    fc.assert(
      fc.property(block, fc.nat(), (b, n) => {
        const host = n % size(b);
        const ip = ipv4HostAddress(cidr(b), host);
        expect(ip).toBe(dotted(start(b) + host));
        expect(ipv4CidrContains(cidr(b), `${ip}/32`)).toBe(true);
        expect(() => ipv4HostAddress(cidr(b), size(b) + (n % 1000))).toThrow(RangeError);
        expect(() => ipv4HostAddress(cidr(b), -1 - (n % 1000))).toThrow(RangeError);
      }),
    );
  });

  test("coveredAddresses counts each address of a set of CIDRs once, in any order", () => {
    // Blocks inside 10.0.0.0/24 so that the model can list every address.
    const small = fc.record({
      address: fc.integer({ min: 0x0a000000, max: 0x0a0000ff }),
      prefix: fc.integer({ min: 24, max: 32 }),
    });
    fc.assert(
      fc.property(fc.array(small, { maxLength: 8 }), (blocks) => {
        const addresses = new Set<number>();
        for (const b of blocks) for (let a = start(b); a <= end(b); a++) addresses.add(a);
        const cidrs = blocks.map(cidr);
        expect(coveredAddresses(cidrs, "IPv4")).toBe(BigInt(addresses.size));
        expect(coveredAddresses([...cidrs].reverse(), "IPv4")).toBe(BigInt(addresses.size));
        expect(coveredAddresses([...cidrs, ...cidrs, "2001:db8::/32"], "IPv4")).toBe(BigInt(addresses.size));
      }),
    );
  });
});

// ----------------------------------------------------------------------------------- topology

/** A valid cluster shape: odd managers up to 7, room for the control and Spark master nodes, a subnet that fits. */
const shape: fc.Arbitrary<TopologyInput> = fc
  .record({
    managerCount: fc.constantFrom(1, 3, 5, 7),
    extraNodes: fc.integer({ min: 2, max: 60 }),
    nodeNamePrefix: fc.constantFrom("aws-", "node", "spark-"),
    firstNodeNumber: fc.integer({ min: 0, max: 900 }),
    subnet: fc.record({ address, prefix: fc.integer({ min: 16, max: 24 }) }),
    nodeIpOffset: fc.integer({ min: 4, max: 100 }),
  })
  .map(({ managerCount, extraNodes, subnet, ...rest }) => ({
    ...rest,
    managerCount,
    nodeCount: managerCount + extraNodes,
    subnetCidr: network(subnet),
  }))
  .filter((input) => input.nodeIpOffset + input.nodeCount < ipv4CidrSize(input.subnetCidr));

describe("topology (lib/topology.ts) for any valid node and manager count", () => {
  test("the roles partition the nodes: the managers, one control node, one Spark master node, the rest workers", () => {
    fc.assert(
      fc.property(shape, (input) => {
        const nodes = planNodes(input);
        const count = (role: string) => nodes.filter((n) => n.role === role).length;
        expect(nodes).toHaveLength(input.nodeCount);
        expect(count("manager")).toBe(input.managerCount);
        expect(count("manager") % 2).toBe(1);
        expect(count("control")).toBe(1);
        expect(count("sparkmaster")).toBe(1);
        expect(count("worker")).toBe(input.nodeCount - input.managerCount - 2);
        expect(nodes.filter((n) => n.initialManager).map((n) => [n.index, n.role])).toEqual([[0, "manager"]]);
        // The control node is outside the Swarm; every other node is in it with its role.
        for (const n of nodes) {
          expect(n.swarmRole).toBe(n.role === "control" ? undefined : n.role === "manager" ? "manager" : "worker");
        }
      }),
      { numRuns: 50 },
    );
  });

  test("names and addresses are unique, and every address is inside the subnet at its offset", () => {
    fc.assert(
      fc.property(shape, (input) => {
        const nodes = planNodes(input);
        expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
        expect(new Set(nodes.map((n) => n.privateIp)).size).toBe(nodes.length);
        const subnetStart = ipv4ToNumber(input.subnetCidr);
        nodes.forEach((n, i) => {
          expect(n.index).toBe(i);
          expect(n.name).toBe(`${input.nodeNamePrefix}${input.firstNodeNumber + i}`);
          expect(n.privateIp).toBe(dotted(subnetStart + input.nodeIpOffset + i));
        });
        for (const n of [nodes[0], nodes[nodes.length - 1]])
          expect(ipv4CidrContains(input.subnetCidr, `${n.privateIp}/32`)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  test("the well-known members are the planned ones", () => {
    fc.assert(
      fc.property(shape, (input) => {
        const t = topology(input);
        const managers = t.nodes.filter((n) => n.role === "manager");
        expect(t.initialManager).toBe(t.nodes[0]);
        expect(t.joiningManagers).toEqual(managers.slice(1));
        expect(t.control?.role).toBe("control");
        expect(t.sparkMaster.role).toBe("sparkmaster");
        expect(t.workers).toContain(t.sparkMaster);
        expect(t.workers.length + managers.length + 1).toBe(t.nodes.length);
        expect(t.workers.every((n) => n.swarmRole === "worker")).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  test("the validator lets through exactly the manager counts the topology needs", () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 12 }), fc.integer({ min: 1, max: 30 }), (managerCount, nodeCount) => {
        const problems: string[] = [];
        const result = checkManagerCount(String(managerCount), nodeCount, (key, value, reason) =>
          problems.push(`${key}: ${value} ${reason}`),
        );
        const valid = managerCount >= 1 && managerCount <= 7 && managerCount % 2 === 1 && managerCount <= nodeCount - 2;
        expect(result).toBe(valid ? managerCount : undefined);
        expect(problems).toHaveLength(valid ? 0 : 1);
        for (const problem of problems) expect(problem).toMatch(new RegExp(`^managerCount: ${managerCount} `));
        if (valid) {
          // …and for those, the topology finds its control and Spark master nodes.
          expect(() =>
            topology({
              nodeCount,
              managerCount,
              nodeNamePrefix: "aws-",
              firstNodeNumber: 101,
              subnetCidr: "172.31.0.0/20",
              nodeIpOffset: 10,
            }),
          ).not.toThrow();
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------------------ volume sizes

const GIB = 1024n ** 3n;
const UNITS: Readonly<Record<string, bigint>> = {
  "": 1n,
  k: 1024n,
  kb: 1024n,
  kib: 1024n,
  m: 1024n ** 2n,
  mb: 1024n ** 2n,
  mib: 1024n ** 2n,
  g: GIB,
  gb: GIB,
  gib: GIB,
  t: 1024n ** 4n,
  tb: 1024n ** 4n,
  tib: 1024n ** 4n,
};
/** A unit spelling Flocker's plugin accepts, in a random mix of cases. */
const unit = fc
  .tuple(fc.constantFrom(...Object.keys(UNITS)), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }))
  .map(([u, upper]) => [...u].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(""));
const amount = fc.bigInt({ min: 0n, max: 10n ** 15n });

describe("Flocker volume sizes (lib/flockerSize.ts)", () => {
  test("a number and a unit, written out, parse back to that many bytes and whole GiB rounded down", () => {
    fc.assert(
      fc.property(amount, unit, (n, u) => {
        const bytes = n * UNITS[u.toLowerCase()];
        const parsed = parseFlockerSize(`${n}${u}`);
        expect(parsed).toEqual({ bytes: Number(bytes), gib: Number(bytes / GIB) });
        expect(isWholeGiB(parsed!)).toBe(bytes % GIB === 0n);
      }),
      { numRuns: 500 },
    );
  });

  test("whatever we accept, Flocker's own parser reads as the same size", () => {
    const text = fc.oneof(
      fc.tuple(amount, unit).map(([n, u]) => `${n}${u}`),
      fc.string({ unit: fc.constantFrom(..."0123456789.gGtTmMkKiIbB x-"), maxLength: 8 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const ours = parseFlockerSize(t);
        if (ours !== undefined) expect(flockerParseNum(t)).toEqual({ kind: "size", size: ours });
      }),
      { numRuns: 1000 },
    );
  });

  test("more of the same unit is never smaller, and a larger unit is larger", () => {
    const order = ["", "k", "m", "g", "t"];
    fc.assert(
      fc.property(amount, amount, fc.constantFrom(...order), (a, b, u) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(parseFlockerSize(`${low}${u}`)!.gib).toBeLessThanOrEqual(parseFlockerSize(`${high}${u}`)!.gib);
        const next = order[order.indexOf(u) + 1];
        if (next !== undefined && high > 0n) {
          expect(parseFlockerSize(`${high}${next}`)!.bytes).toBeGreaterThan(parseFlockerSize(`${high}${u}`)!.bytes);
        }
      }),
    );
  });
});

describe("EBS profiles (lib/ebsProfiles.ts)", () => {
  const profile = fc.constantFrom("gold" as const, "silver" as const, "bronze" as const);

  test("a size in the profile's range gets its volume type; gold's IOPS are min(30 × GiB, 20000), within io1's limits", () => {
    fc.assert(
      fc.property(profile, fc.integer({ min: 1, max: 16384 }), (name, gib) => {
        const spec = STORAGE_PROFILES[name];
        if (gib < spec.minGiB || gib > spec.maxGiB) return;
        const request = volumeRequestFor(name, gib);
        expect(request.volumeType).toBe(spec.volumeType);
        if (name !== "gold") {
          expect(request.iops).toBeUndefined();
          return;
        }
        expect(request.iops).toBe(Math.min(30 * gib, 20000));
        // io1 takes 100 to 64000 IOPS and at most 50 IOPS per GiB: EC2 would refuse anything else.
        expect(request.iops).toBeGreaterThanOrEqual(100);
        expect(request.iops).toBeLessThanOrEqual(64000);
        expect(request.iops! / gib).toBeLessThanOrEqual(50);
      }),
      { numRuns: 500 },
    );
  });

  test("gold's IOPS never fall as the volume grows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 16383 }), fc.integer({ min: 1, max: 1000 }), (gib, more) => {
        const bigger = Math.min(16384, gib + more);
        expect(volumeRequestFor("gold", bigger).iops!).toBeGreaterThanOrEqual(volumeRequestFor("gold", gib).iops!);
      }),
    );
  });

  test("a size outside the range, or not whole, is refused with the profile and what is allowed", () => {
    const outside = fc.oneof(
      fc.integer({ min: -100, max: 3 }),
      fc.integer({ min: 1025, max: 100000 }),
      fc.double({ min: 4.01, max: 1000, noNaN: true }).filter((x) => !Number.isInteger(x)),
    );
    fc.assert(
      fc.property(profile, outside, (name, gib) => {
        const spec = STORAGE_PROFILES[name];
        if (Number.isInteger(gib) && gib >= spec.minGiB && gib <= spec.maxGiB) return;
        expect(() => volumeRequestFor(name, gib)).toThrow(RangeError);
        expect(() => volumeRequestFor(name, gib)).toThrow(
          Number.isInteger(gib)
            ? `a ${name} (${spec.volumeType}) volume must be ${spec.minGiB} to ${spec.maxGiB} GiB`
            : `a ${name} volume needs a whole number of GiB`,
        );
      }),
    );
  });
});
