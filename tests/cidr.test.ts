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

function adminProblems(cidrs: readonly string[], allowPublicAdminAccess = false): string[] {
  const values = { adminCidrs: JSON.stringify(cidrs), allowPublicAdminAccess: String(allowPublicAdminAccess) };
  const result = validateConfig({ project: "swarm-flocker", stack: "dev", region: "us-east-1", values });
  expect(result.problems.every((p) => p.key === "adminCidrs")).toBe(true);
  return result.problems.map((p) => p.message);
}

describe("adminCidrs that add up to the internet are refused unless allowPublicAdminAccess", () => {
  test.each([
    [["0.0.0.0/1", "128.0.0.0/1"], "IPv4", "99.48%"],
    [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], "IPv4", "99.48%"],
    [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2"], "IPv4", "74.48%"],
    [["203.0.113.7/32", "::/1", "8000::/1"], "IPv6", "99.21%"],
  ])("%j", (cidrs, family, share) => {
    const problems = adminProblems(cidrs);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `^adminCidrs .* together cover \\d+ public ${family} addresses \\(${share.replace(".", "\\.")} of the ${family} address space\\)`,
      ),
    );
    expect(problems[0]).toContain("set allowPublicAdminAccess to true to opt in");
    expect(adminProblems(cidrs, true)).toEqual([]);
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

  test("an organisation's own networks pass: a /8, private ranges, a provider's IPv6 /32", () => {
    expect(adminProblems(["11.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "2001:db8::/32", "fd00::/8"])).toEqual(
      [],
    );
  });
});

test("duplicates are found after normalisation", () => {
  expect(adminProblems(["2001:db8::/32", "2001:DB8:0::/32"])).toEqual([
    'adminCidrs: "2001:DB8:0::/32" (item 2) is listed twice: remove the duplicate (AWS rejects duplicate security group rules)',
  ]);
});

describe("the security group rule quota (60 inbound rules per group and family)", () => {
  const ipv4 = (n: number) => Array.from({ length: n }, (_, i) => `198.51.100.${i}/32`);
  const ipv6 = (n: number) => Array.from({ length: n }, (_, i) => `2001:db8::${(i + 1).toString(16)}/128`);

  test("20 IPv4 CIDRs fit (the swarm group gets 3 rules per CIDR), 21 do not", () => {
    expect(adminProblems(ipv4(20))).toEqual([]);
    expect(adminProblems(ipv4(21))).toEqual([
      'adminCidrs lists 21 IPv4 CIDRs: security group "swarm" would get 63 inbound IPv4 rules (3 per CIDR, for 8080/tcp, 7077/tcp, 6066/tcp, ' +
        "plus 0 from the cluster's own security groups), more than AWS's default quota of 60 per group; list at most 20 IPv4 CIDRs " +
        "(merge neighbouring networks into one wider CIDR)",
    ]);
  });

  test("the quota counts each family on its own: 20 IPv4 and 20 IPv6 CIDRs fit", () => {
    expect(adminProblems([...ipv4(20), ...ipv6(20)])).toEqual([]);
    expect(adminProblems([...ipv4(20), ...ipv6(21)])[0]).toMatch(
      /^adminCidrs lists 21 IPv6 CIDRs: security group "swarm" would get 63 inbound IPv6 rules/,
    );
  });
});

describe("rule names are made from the CIDR's text: two networks must not share one", () => {
  test("an IPv4 and an IPv6 network", () => {
    expect(adminProblems(["1.0.0.0/32", "1:0:0:0::/32"])).toEqual([
      'adminCidrs "1.0.0.0/32" and "1:0:0:0::/32" would give their security group rules the same name ("node-22-tcp-from-1-0-0-0-32"), ' +
        'but each rule needs its own: write "1:0:0:0::/32" uncompressed, as 0001:0000:0000:0000:0000:0000:0000:0000/32',
    ]);
    // The suggested spelling is accepted next to the IPv4 one.
    expect(adminProblems(["1.0.0.0/32", "0001:0000:0000:0000:0000:0000:0000:0000/32"])).toEqual([]);
  });

  test("two IPv6 networks", () => {
    expect(adminProblems(["2001:db8::b/128", "2001:db8:b::/128"])[0]).toMatch(
      /^adminCidrs "2001:db8::b\/128" and "2001:db8:b::\/128" would give their security group rules the same name \("node-22-tcp-from-2001-db8-b-128"\)/,
    );
  });
});
