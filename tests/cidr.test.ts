import {
  cidrNetworkForm,
  cidrPrefixLength,
  ipv4CidrContains,
  ipv4CidrSize,
  ipv4CidrsOverlap,
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

test("cidrPrefixLength reads either family", () => {
  expect(cidrPrefixLength("172.31.0.0/20")).toBe(20);
  expect(cidrPrefixLength("2001:db8::/48")).toBe(48);
});

test("cidrNetworkForm clears host bits and spells the address canonically", () => {
  expect(cidrNetworkForm("203.0.113.7/24")).toBe("203.0.113.0/24");
  expect(cidrNetworkForm("10.0.0.0/8")).toBe("10.0.0.0/8");
  expect(cidrNetworkForm("2001:0DB8:0000::1/32")).toBe("2001:db8::/32");
});
