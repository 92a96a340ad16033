import * as fc from "fast-check";
import { validateConfig } from "../config/validate";
import {
  addressSpaceSize,
  cidrNetworkForm,
  cidrPrefixLength,
  ipv4CidrContains,
  ipv4CidrSize,
  ipv4CidrsOverlap,
  coveredAddresses,
  coveredPublicAddresses,
  hasPlainPrefix,
  internetShareProblem,
  ipv4FirstSubnet,
  ipv4FreeSubnet,
  ipv4HostAddress,
  isCidr,
  isIpv4NetworkCidr,
  isIpv6NetworkCidr,
  isNetworkCidr,
  isWholeInternet,
} from "../lib/cidr";

describe("isIpv4NetworkCidr", () => {
  test.each([
    ["10.0.0.0/24", true],
    ["172.31.0.0/16", true],
    ["0.0.0.0/0", true],
    ["203.0.113.7/32", true],
    ["10.0.0.5/24", false], // host bits set
    ["10.0.0.0/33", false],
    ["10.0.0.0", false], // no prefix
    ["256.0.0.0/8", false],
    [" 10.0.0.0/24", false],
    ["2001:db8::/32", false],
  ])("%s -> %s", (text, expected) => {
    expect(isIpv4NetworkCidr(text)).toBe(expected);
  });
});

describe("isCidr (either family, host bits allowed)", () => {
  test.each([
    ["10.0.0.5/24", true],
    ["2001:db8::1/64", true],
    ["::/0", true],
    ["10.0.0.5", false],
    ["2001:db8::", false],
    ["2001:db8::/129", false],
    ["10.0.0.0/24 ", false],
    ["not-a-cidr", false],
  ])("%s -> %s", (text, expected) => {
    expect(isCidr(text)).toBe(expected);
  });
});

describe("isIpv6NetworkCidr and isNetworkCidr", () => {
  test.each([
    ["2001:db8::/32", true],
    ["2001:0DB8::/32", true],
    ["::/0", true],
    ["2001:db8::1/64", false], // host bits set
    ["fe80::/64", true],
    ["fe80::%eth0/64", false], // zone ids are not CIDRs AWS accepts
    ["10.0.0.0/8", false],
  ])("isIpv6NetworkCidr(%s) -> %s", (text, expected) => {
    expect(isIpv6NetworkCidr(text)).toBe(expected);
  });

  test.each([
    ["10.0.0.0/8", true],
    ["10.0.0.1/8", false],
    ["2001:db8::/48", true],
    ["2001:db8::1/48", false],
  ])("isNetworkCidr(%s) -> %s", (text, expected) => {
    expect(isNetworkCidr(text)).toBe(expected);
  });
});

test("isWholeInternet matches every /0 and nothing else", () => {
  expect(isWholeInternet("0.0.0.0/0")).toBe(true);
  expect(isWholeInternet("::/0")).toBe(true);
  expect(isWholeInternet("10.0.0.0/0")).toBe(true);
  // The prefix is a number, however it is spelt.
  expect(isWholeInternet("0.0.0.0/00")).toBe(true);
  expect(isWholeInternet("::/000")).toBe(true);
  expect(isWholeInternet("0.0.0.0/1")).toBe(false);
  expect(isWholeInternet("10.0.0.0/10")).toBe(false);
});

test("ipv4CidrSize counts addresses", () => {
  expect(ipv4CidrSize("172.31.0.0/20")).toBe(4096);
  expect(ipv4CidrSize("10.0.0.0/24")).toBe(256);
  expect(ipv4CidrSize("10.0.0.7/32")).toBe(1);
});

test("ipv4CidrContains needs the inner block wholly inside", () => {
  expect(ipv4CidrContains("172.31.0.0/16", "172.31.0.0/20")).toBe(true);
  expect(ipv4CidrContains("172.31.0.0/16", "172.31.0.0/16")).toBe(true);
  expect(ipv4CidrContains("172.31.0.0/20", "172.31.0.0/16")).toBe(false);
  expect(ipv4CidrContains("172.31.0.0/16", "172.30.0.0/20")).toBe(false);
});

test("ipv4CidrsOverlap in both directions, not for neighbours", () => {
  expect(ipv4CidrsOverlap("10.0.0.0/8", "10.255.0.0/16")).toBe(true);
  expect(ipv4CidrsOverlap("10.255.0.0/16", "10.0.0.0/8")).toBe(true);
  expect(ipv4CidrsOverlap("172.31.0.0/16", "10.0.0.0/24")).toBe(false);
  expect(ipv4CidrsOverlap("10.0.0.0/24", "10.0.1.0/24")).toBe(false);
});

test("ipv4HostAddress counts from the network address and refuses to leave the block", () => {
  expect(ipv4HostAddress("172.31.0.0/20", 10)).toBe("172.31.0.10");
  expect(ipv4HostAddress("172.31.0.0/20", 300)).toBe("172.31.1.44");
  expect(() => ipv4HostAddress("10.0.0.0/24", 256)).toThrow(RangeError);
  expect(() => ipv4HostAddress("10.0.0.0/24", -1)).toThrow(RangeError);
});

test("ipv4FirstSubnet is the first block of a length inside a network (where Swarm puts ingress)", () => {
  expect(ipv4FirstSubnet("10.255.0.0/16", 24)).toBe("10.255.0.0/24");
  expect(ipv4FirstSubnet("10.0.0.0/8", 24)).toBe("10.0.0.0/24");
  expect(ipv4FirstSubnet("10.0.0.0/8", 8)).toBe("10.0.0.0/8");
  expect(() => ipv4FirstSubnet("10.0.0.0/16", 12)).toThrow(RangeError);
});

test("ipv4FreeSubnet finds the first block of a length that overlaps nothing to avoid, range by range", () => {
  expect(ipv4FreeSubnet(24, [], ["10.0.0.0/8"])).toBe("10.0.0.0/24");
  expect(ipv4FreeSubnet(24, ["10.0.0.0/16", "10.1.0.0/24"], ["10.0.0.0/8"])).toBe("10.1.1.0/24");
  // A range too small for the length is skipped; a full range gives way to the next.
  expect(ipv4FreeSubnet(16, [], ["10.0.0.0/24", "192.168.0.0/16"])).toBe("192.168.0.0/16");
  expect(ipv4FreeSubnet(16, ["172.16.0.0/12"], ["172.16.0.0/12", "10.0.0.0/8"])).toBe("10.0.0.0/16");
  expect(ipv4FreeSubnet(24, ["10.0.0.0/8"], ["10.0.0.0/8"])).toBeUndefined();
  // Past a taken range it lands on the next aligned block, also after ranges that chain or nest.
  expect(ipv4FreeSubnet(24, ["10.0.0.0/8"], ["10.0.0.0/7"])).toBe("11.0.0.0/24");
  expect(ipv4FreeSubnet(20, ["10.0.0.0/23", "10.0.2.0/24", "10.0.0.0/22", "10.0.16.0/20"], ["10.0.0.0/16"])).toBe("10.0.32.0/20");
});

test("ipv4FreeSubnet agrees with trying every block in turn", () => {
  const block = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 24 }));
  const cidrOf = ([third, prefix]: [number, number]) => `10.9.${third & ~(2 ** (24 - prefix) - 1) & 255}.0/${prefix}`;
  fc.assert(
    fc.property(fc.array(block, { maxLength: 6 }), fc.integer({ min: 17, max: 24 }), (taken, prefix) => {
      const avoid = taken.map(cidrOf);
      const step = 2 ** (24 - prefix);
      let expected: string | undefined;
      for (let third = 0; third < 256 && expected === undefined; third += step) {
        const candidate = `10.9.${third}.0/${prefix}`;
        if (!avoid.some((used) => ipv4CidrsOverlap(candidate, used))) expected = candidate;
      }
      expect(ipv4FreeSubnet(prefix, avoid, ["10.9.0.0/16"])).toBe(expected);
    }),
  );
});

test("cidrPrefixLength reads either family", () => {
  expect(cidrPrefixLength("172.31.0.0/20")).toBe(20);
  expect(cidrPrefixLength("2001:db8::/48")).toBe(48);
});

test("cidrNetworkForm clears host bits and spells the address canonically", () => {
  expect(cidrNetworkForm("203.0.113.7/24")).toBe("203.0.113.0/24");
  expect(cidrNetworkForm("10.0.0.0/8")).toBe("10.0.0.0/8");
  expect(cidrNetworkForm("2001:0DB8:0000::1/32")).toBe("2001:db8::/32");
});

test("hasPlainPrefix refuses leading zeros", () => {
  expect(hasPlainPrefix("0.0.0.0/0")).toBe(true);
  expect(hasPlainPrefix("2001:db8::/128")).toBe(true);
  expect(hasPlainPrefix("0.0.0.0/00")).toBe(false);
  expect(hasPlainPrefix("::/000")).toBe(false);
  expect(hasPlainPrefix("10.0.0.0/08")).toBe(false);
});

describe("coveredAddresses: the union of a set of CIDRs", () => {
  test("counts overlapping CIDRs once and ignores the other family", () => {
    expect(coveredAddresses(["10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32"], "IPv4")).toBe(2n ** 24n);
    expect(coveredAddresses(["0.0.0.0/1", "128.0.0.0/1"], "IPv4")).toBe(addressSpaceSize("IPv4"));
    expect(coveredAddresses(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], "IPv4")).toBe(2n ** 32n);
    expect(coveredAddresses(["::/1", "8000::/1"], "IPv6")).toBe(2n ** 128n);
    expect(coveredAddresses(["203.0.113.7/32", "203.0.113.8/32"], "IPv4")).toBe(2n);
    expect(coveredAddresses([], "IPv6")).toBe(0n);
  });

  test("coveredPublicAddresses leaves out private ranges (RFC 1918, shared, unique local)", () => {
    expect(coveredPublicAddresses(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], "IPv4")).toBe(0n);
    expect(coveredPublicAddresses(["fd00::/8"], "IPv6")).toBe(0n);
    // 0.0.0.0/4 holds 10.0.0.0/8.
    expect(coveredPublicAddresses(["0.0.0.0/4"], "IPv4")).toBe(2n ** 28n - 2n ** 24n);
    expect(coveredPublicAddresses(["0.0.0.0/0"], "IPv4")).toBe(2n ** 32n - 2n ** 24n - 2n ** 20n - 2n ** 16n - 2n ** 22n);
  });
});

test("internetShareProblem draws the line at a /8 of public IPv4 and a /32 of public IPv6", () => {
  expect(internetShareProblem(["11.0.0.0/8"], "IPv4")).toBeUndefined();
  expect(internetShareProblem(["10.0.0.0/8", "11.0.0.0/8"], "IPv4")).toBeUndefined();
  expect(internetShareProblem(["11.0.0.0/8", "12.0.0.0/32"], "IPv4")).toBe(
    "together cover 16777217 public IPv4 addresses (0.39% of the IPv4 address space), more than a /8 (16777216 addresses, private ranges not counted)",
  );
  expect(internetShareProblem(["2001:db8::/32"], "IPv6")).toBeUndefined();
  expect(internetShareProblem(["2001:db8::/31"], "IPv6")).toMatch(
    /^together cover \d+ public IPv6 addresses .* more than a \/32/,
  );
});

// ---------------------------------------------------------------------------------------------
// adminCidrs in the validator: the whole internet in pieces, duplicates, the security group quota,
// rule names that would collide.

function adminProblems(cidrs: readonly string[], allowWideAdminCidrs = false): string[] {
  const values = { adminCidrs: JSON.stringify(cidrs), allowWideAdminCidrs: String(allowWideAdminCidrs) };
  const result = validateConfig({ project: "swarm-flocker", stack: "dev", region: "us-east-1", values });
  expect(result.problems.every((p) => p.key === "adminCidrs")).toBe(true);
  return result.problems.map((p) => p.message);
}

describe("adminCidrs that add up to the internet are refused, whatever is set", () => {
  test.each([
    [["0.0.0.0/1", "128.0.0.0/1"], "IPv4", "99.48%"],
    [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], "IPv4", "99.48%"],
    [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"], "IPv4", "74.48%"],
    [["203.0.113.7/32", "::/1", "8000::/1"], "IPv6", "99.21%"],
  ])("%j", (cidrs, family, share) => {
    for (const allowWide of [false, true]) {
      const problems = adminProblems(cidrs, allowWide);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(
          `^adminCidrs .* together cover \\d+ public ${family} addresses \\(${share.replace(".", "\\.")} of the ${family} address space\\)`,
        ),
      );
      expect(problems[0]).toContain("no setting allows that");
    }
  });

  test.each([["0.0.0.0/0"], ["::/0"]])("%s itself, with or without allowWideAdminCidrs", (cidr) => {
    for (const allowWide of [false, true]) {
      expect(adminProblems([cidr], allowWide)).toEqual([
        `adminCidrs: "${cidr}" (item 1) is not allowed: it opens SSH and the Flocker API to the whole internet, and no setting allows that; list your own addresses`,
      ]);
    }
  });

  test("allowPublicAdminAccess, the retired opt-in, is refused itself, naming the way to a changing address", () => {
    const values = { adminCidrs: '["0.0.0.0/0"]', allowPublicAdminAccess: "true" };
    const result = validateConfig({ project: "swarm-flocker", stack: "dev", region: "us-east-1", values });
    expect(result.problems.map((p) => p.key)).toEqual(["adminCidrs", "allowPublicAdminAccess"]);
    expect(result.problems[1].message).toBe(
      'allowPublicAdminAccess: "true" is refused: the whole internet never reaches SSH and the Flocker API, so the opt-in no longer exists; ' +
        "remove it (pulumi config rm allowPublicAdminAccess), list your own networks in adminCidrs, and for a changing address " +
        "let npm run deploy -- STACK --my-ip set this machine's",
    );
  });

  test.each([
    ["0.0.0.0/00", "0.0.0.0/0"],
    ["::/000", "::/0"],
    ["10.0.0.0/08", "10.0.0.0/8"],
    ["2001:db8::/032", "2001:db8::/32"],
  ])("%s: the prefix spelt with leading zeros is refused, with the plain spelling", (cidr, plain) => {
    expect(adminProblems([cidr])).toEqual([
      `adminCidrs: "${cidr}" (item 1) writes its prefix length with leading zeros: write ${plain}`,
    ]);
    expect(adminProblems([cidr], true)).toHaveLength(1);
  });
});

describe("the ceiling of admin reach: a /24 or a /56 per entry, four such blocks in all, unless allowWideAdminCidrs", () => {
  test("a /24 and a /56 are the widest entries; one bit wider is refused with its size and the opt-in", () => {
    expect(adminProblems(["198.51.100.0/24", "2001:db8:0:100::/56"])).toEqual([]);
    expect(adminProblems(["198.51.100.0/23", "2001:db8::/55"])).toEqual([
      'adminCidrs: "198.51.100.0/23" (item 1) is a /23 (512 addresses), wider than the /24 one entry may be: anyone in it could reach SSH and the Flocker API; ' +
        "list the narrower networks your admins use (at most a /24 each), or set allowWideAdminCidrs to true to allow wider networks (never the internet)",
      `adminCidrs: "2001:db8::/55" (item 2) is a /55 (${2n ** 73n} addresses), wider than the /56 one entry may be: anyone in it could reach SSH and the Flocker API; ` +
        "list the narrower networks your admins use (at most a /56 each), or set allowWideAdminCidrs to true to allow wider networks (never the internet)",
    ]);
  });

  test("private ranges count like any other: a VPN's /16 or the VPC's own range needs the opt-in", () => {
    expect(adminProblems(["10.8.0.0/16"])[0]).toMatch(/^adminCidrs: "10\.8\.0\.0\/16" \(item 1\) is a \/16 \(65536 addresses\)/);
    expect(adminProblems(["172.31.0.0/16"])).toHaveLength(1);
    expect(adminProblems(["fd00::/8"])).toHaveLength(1);
  });

  test("all entries of a family together: four /24s pass, a fifth is refused; overlaps count once", () => {
    const offices = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "100.64.1.0/24"];
    expect(adminProblems(offices)).toEqual([]);
    expect(adminProblems([...offices, "198.51.100.0/25"])).toEqual([]);
    expect(adminProblems([...offices, "100.64.2.0/24"])).toEqual([
      `adminCidrs ${[...offices, "100.64.2.0/24"].join(", ")} together cover 1280 IPv4 addresses, more than 1024 (4 blocks of /24): ` +
        "list fewer or narrower networks, or set allowWideAdminCidrs to true to allow wider networks (never the internet)",
    ]);
    const sites = [
      "2001:db8:0:100::/56",
      "2001:db8:0:200::/56",
      "2001:db8:0:300::/56",
      "2001:db8:0:400::/56",
      "2001:db8:0:500::/56",
    ];
    expect(adminProblems(sites.slice(0, 4))).toEqual([]);
    expect(adminProblems(sites)[0]).toMatch(/together cover \d+ IPv6 addresses, more than \d+ \(4 blocks of \/56\)/);
  });

  test("with allowWideAdminCidrs, an organisation's own networks pass up to the internet-share line: a /8, private ranges, a provider's IPv6 /32", () => {
    const wide = ["11.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "2001:db8::/32", "fd00::/8"];
    expect(adminProblems(wide, true)).toEqual([]);
    expect(adminProblems(wide).length).toBeGreaterThan(0);
    // Public IPv4 beyond a /8 in all stays refused with the opt-in: the policy pack's line.
    expect(adminProblems(["11.0.0.0/8", "12.0.0.0/16"], true)[0]).toMatch(/together cover 16842752 public IPv4 addresses/);
  });
});

test("duplicates are found after normalisation", () => {
  expect(adminProblems(["2001:db8::/64", "2001:DB8:0::/64"])).toEqual([
    'adminCidrs: "2001:DB8:0::/64" (item 2) is listed twice: remove the duplicate (AWS rejects duplicate security group rules)',
  ]);
});

describe("the security group rule quota (60 inbound rules per group and family)", () => {
  const ipv4 = (n: number) => Array.from({ length: n }, (_, i) => `198.51.100.${i}/32`);
  const ipv6 = (n: number) => Array.from({ length: n }, (_, i) => `2001:db8::${(i + 1).toString(16)}/128`);

  test("56 IPv4 CIDRs fit (the node group gets SSH per CIDR beside 4 group-sourced rules), 57 do not", () => {
    expect(adminProblems(ipv4(56))).toEqual([]);
    expect(adminProblems(ipv4(57))).toEqual([
      'adminCidrs lists 57 IPv4 CIDRs: security group "node" would get 61 inbound IPv4 rules (1 per CIDR, for 22/tcp, ' +
        "plus 4 from the cluster's own security groups), more than AWS's default quota of 60 per group; list at most 56 IPv4 CIDRs " +
        "(merge neighbouring networks into one wider CIDR)",
    ]);
  });

  test("the quota counts each family on its own: 56 IPv4 and 56 IPv6 CIDRs fit", () => {
    expect(adminProblems([...ipv4(56), ...ipv6(56)])).toEqual([]);
    expect(adminProblems([...ipv4(56), ...ipv6(57)])[0]).toMatch(
      /^adminCidrs lists 57 IPv6 CIDRs: security group "node" would get 61 inbound IPv6 rules/,
    );
  });
});

describe("rule names are made from the CIDR's text: two networks must not share one", () => {
  test("an IPv4 and an IPv6 network", () => {
    expect(adminProblems(["1.0.0.0/32", "1:0:0:0::/32"], true)).toEqual([
      'adminCidrs "1.0.0.0/32" and "1:0:0:0::/32" would give their security group rules the same name ("node-22-tcp-from-1-0-0-0-32"), ' +
        'but each rule needs its own: write "1:0:0:0::/32" uncompressed, as 0001:0000:0000:0000:0000:0000:0000:0000/32',
    ]);
    // The suggested spelling is accepted next to the IPv4 one.
    expect(adminProblems(["1.0.0.0/32", "0001:0000:0000:0000:0000:0000:0000:0000/32"], true)).toEqual([]);
  });

  test("two IPv6 networks", () => {
    expect(adminProblems(["2001:db8::b/128", "2001:db8:b::/128"])[0]).toMatch(
      /^adminCidrs "2001:db8::b\/128" and "2001:db8:b::\/128" would give their security group rules the same name \("node-22-tcp-from-2001-db8-b-128"\)/,
    );
  });
});
