import { isStorageProfileName, STORAGE_PROFILES, volumeRequestFor } from "../lib/ebsProfiles";
import type { StorageProfileName } from "../config/schema";

describe("the catalog matches Flocker's EBSMandatoryProfileAttributes", () => {
  test.each([
    ["gold", "io1", 4],
    ["silver", "gp2", 1],
    ["bronze", "standard", 1],
  ] as const)("%s is %s from %d GiB", (name, volumeType, minGiB) => {
    expect(STORAGE_PROFILES[name]).toMatchObject({ name, volumeType, minGiB });
    expect(STORAGE_PROFILES[name].note.length).toBeGreaterThan(20);
  });

  test("only the three built-in names are profiles", () => {
    expect(Object.keys(STORAGE_PROFILES).sort()).toEqual(["bronze", "gold", "silver"]);
    expect(isStorageProfileName("gold")).toBe(true);
    expect(isStorageProfileName("Gold")).toBe(false);
    expect(isStorageProfileName("platinum")).toBe(false);
    expect(isStorageProfileName("toString")).toBe(false);
  });
});

describe("gold IOPS = min(30 x GiB, 20000)", () => {
  test.each([
    [4, 120],
    [100, 3000],
    [666, 19980],
    [667, 20000],
    [1000, 20000],
    [16384, 20000],
  ])("%d GiB -> %d IOPS", (gib, iops) => {
    expect(STORAGE_PROFILES.gold.iopsFor(gib)).toBe(iops);
    expect(volumeRequestFor("gold", gib)).toEqual({ volumeType: "io1", iops });
  });

  test("silver and bronze request no IOPS", () => {
    expect(STORAGE_PROFILES.silver.iopsFor(100)).toBeUndefined();
    expect(STORAGE_PROFILES.bronze.iopsFor(100)).toBeUndefined();
    expect(volumeRequestFor("silver", 100)).toEqual({ volumeType: "gp2" });
    expect(volumeRequestFor("bronze", 75)).toEqual({ volumeType: "standard" });
  });
});

describe("volumeRequestFor refuses what EBS or Flocker would not create as asked", () => {
  test.each([
    ["gold", 3, /gold \(io1\) volume must be 4 to 16384 GiB, not 3 GiB/],
    ["gold", 1, /must be 4 to 16384 GiB/],
    ["bronze", 1025, /bronze \(standard\) volume must be 1 to 1024 GiB, not 1025 GiB/],
    ["silver", 0, /silver \(gp2\) volume must be 1 to 16384 GiB/],
    ["silver", 16385, /must be 1 to 16384 GiB/],
    ["silver", 7.5, /whole number of GiB/],
  ] as const)("%s with %d GiB", (profile, gib, message) => {
    expect(() => volumeRequestFor(profile, gib)).toThrow(message);
  });

  test("an unknown profile name is refused (for callers outside the type system)", () => {
    expect(() => volumeRequestFor("platinum" as StorageProfileName, 10)).toThrow(/use gold, silver or bronze/);
  });

  test("the limits themselves are accepted", () => {
    expect(volumeRequestFor("gold", 4).volumeType).toBe("io1");
    expect(volumeRequestFor("bronze", 1024).volumeType).toBe("standard");
    expect(volumeRequestFor("silver", 1).volumeType).toBe("gp2");
  });
});
