import { flockerParseNum, isWholeGiB, parseFlockerSize } from "../lib/flockerSize";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe("parseFlockerSize: the sizes Flocker reads exactly as written", () => {
  test.each([
    // text, bytes, whole GiB (rounded down, as int(Byte(size).to_GiB()))
    ["75G", 75 * GiB, 75],
    ["75g", 75 * GiB, 75],
    ["75GB", 75 * GiB, 75],
    ["75Gb", 75 * GiB, 75],
    ["100GiB", 100 * GiB, 100],
    ["100gib", 100 * GiB, 100],
    ["100GIB", 100 * GiB, 100],
    ["1T", TiB, 1024],
    ["2TiB", 2 * TiB, 2048],
    ["16tb", 16 * TiB, 16384],
    ["512M", 512 * MiB, 0],
    ["1536MiB", 1536 * MiB, 1],
    ["2048mb", 2048 * MiB, 2],
    ["1048576K", GiB, 1],
    ["10kib", 10 * KiB, 0],
    ["1073741824", GiB, 1], // no unit: bytes
    ["075G", 75 * GiB, 75], // Python's int() reads leading zeros as decimal
    ["0G", 0, 0],
  ])("%s -> %d bytes, %d GiB", (text, bytes, gib) => {
    expect(parseFlockerSize(text)).toEqual({ bytes, gib });
  });

  // Flocker's regex is only anchored at the start, and its unit is every non-digit character:
  // each of these would become something other than what was written, so we refuse them.
  test.each([
    ["75Gx", "trailing junk after the unit"],
    ["7G5", "digits after the unit (Flocker reads 75 GiB)"],
    ["75G75", "digits after the unit (Flocker reads 7575 GiB)"],
    ["1.5G", "a decimal (Flocker's int() raises)"],
    ["75 G", "a space before the unit"],
    [" 75G", "a leading space"],
    ["75G ", "a trailing space"],
    ["75B", "a bare B, not a unit Flocker knows"],
    ["75Gi", "Gi without the B"],
    ["75GBB", "a doubled B"],
    ["75P", "petabytes, not a unit Flocker knows"],
    ["G75", "the unit first"],
    ["-5G", "a sign"],
    ["", "nothing"],
    ["seventy-five", "words"],
  ])("%s is refused (%s)", (text) => {
    expect(parseFlockerSize(text)).toBeUndefined();
  });
});

describe("flockerParseNum: what Flocker 1.15 itself does with a size", () => {
  test.each([
    ["75G", 75],
    ["100GiB", 100],
    ["7G5", 75],
    ["75G75", 7575],
  ])("%s becomes %d GiB", (text, gib) => {
    const outcome = flockerParseNum(text);
    expect(outcome).toEqual({ kind: "size", size: { bytes: gib * GiB, gib } });
  });

  test.each(["75Gx", "75 G", "75B", "75Gi", "G75", " 75G", ""])("%s silently becomes the 75 GiB default", (text) => {
    expect(flockerParseNum(text)).toEqual({ kind: "default" });
  });

  test.each(["1.5G", "75."])("%s makes the plugin fail", (text) => {
    expect(flockerParseNum(text)).toEqual({ kind: "error" });
  });

  test("agrees with parseFlockerSize wherever parseFlockerSize accepts", () => {
    for (const text of ["75G", "1T", "512M", "1073741824", "3kb"]) {
      const strict = parseFlockerSize(text);
      expect(flockerParseNum(text)).toEqual({ kind: "size", size: strict });
    }
  });
});

test("isWholeGiB tells sizes Flocker rounds up from exact ones", () => {
  const exact = parseFlockerSize("1024M");
  const rounded = parseFlockerSize("1500M");
  expect(exact && isWholeGiB(exact)).toBe(true);
  expect(rounded && isWholeGiB(rounded)).toBe(false);
});
