/**
 * Package trust as apt reads it (lib/aptSource.ts, through the validator): the table of
 * tests/fixtures/apt-sources.tsv, which tests/bats/flocker-packages.bats runs against the node
 * script too, apt's own reading of booleans, and flockerAptKey / flockerAptAllowUnsigned.
 */
import * as fs from "fs";
import * as path from "path";
import { validateConfig, type FileProbe } from "../config/validate";
import { aptSourceProblems, aptStringToBool, FLOCKER_APT_KEYRING } from "../lib/aptSource";

interface Row {
  readonly expect: string;
  readonly allowUnsigned: boolean;
  readonly keyProvided: boolean;
  readonly line: string;
}

const ROWS: Row[] = fs
  .readFileSync(path.join(__dirname, "fixtures", "apt-sources.tsv"), "utf8")
  .split("\n")
  .filter((row) => row !== "" && !row.startsWith("#"))
  .map((row) => {
    const [expect, allow, key, line] = row.split("\t") as [string, string, string, string];
    return { expect, allowUnsigned: allow === "true", keyProvided: key === "yes", line };
  });

/** Where the tests' flockerAptKey lives, and its bytes: a binary public-key packet (tag 6, old format). */
const KEY_PATH = "/home/op/flocker.gpg";
const KEY_BYTES = Uint8Array.from([0x99, 0x01, 0x0d, 0x04, 0x65, 0x00]);
const files: FileProbe = {
  listDir: () => undefined,
  readFile: (file) =>
    file === KEY_PATH
      ? KEY_BYTES
      : file === "/home/op/key.asc"
        ? Buffer.from("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQENBGUA\n")
        : file === "/home/op/notes.txt"
          ? Buffer.from("not a key")
          : undefined,
};

function validate(values: Record<string, string>) {
  return validateConfig(
    {
      project: "swarm-flocker",
      stack: "prod",
      region: "us-east-1",
      values: { adminCidrs: '["203.0.113.10/32"]', flockerInstall: "packages", ...values },
    },
    files,
  );
}

function rowValues(row: Row): Record<string, string> {
  return {
    flockerAptSource: row.line,
    flockerAptAllowUnsigned: String(row.allowUnsigned),
    ...(row.keyProvided ? { flockerAptKey: KEY_PATH } : {}),
  };
}

test("the table holds the hostile lines and the accepted ones", () => {
  expect(ROWS.filter((row) => row.expect === "accept").length).toBeGreaterThanOrEqual(5);
  expect(ROWS.filter((row) => row.expect !== "accept").length).toBeGreaterThanOrEqual(30);
});

describe.each(ROWS)("$line (allow unsigned: $allowUnsigned, key: $keyProvided)", (row) => {
  test(row.expect === "accept" ? "is accepted" : `is refused: ${row.expect}`, () => {
    const problems = aptSourceProblems(row.line, { allowUnsignedOverHttps: row.allowUnsigned, keyProvided: row.keyProvided });
    if (row.expect === "accept") {
      expect(problems).toEqual([]);
    } else {
      // The node script stops at its first reason: the validator's first must be the same one.
      expect(problems[0]).toContain(row.expect);
    }
  });

  test("the validator says the same, naming flockerAptSource and quoting the line", () => {
    const result = validate(rowValues(row));
    if (row.expect === "accept") {
      expect(result.problems).toEqual([]);
      expect(result.config?.flocker).toMatchObject({ kind: "packages", packages: { kind: "apt", aptSource: row.line } });
    } else {
      expect(result.config).toBeUndefined();
      expect(result.problems[0]).toMatchObject({ key: "flockerAptSource", value: row.line });
      expect(result.problems[0]?.message).toContain(row.expect);
    }
  });
});

describe("apt's StringToBool, as apt 2.6.1 read trusted= on an unsigned repository", () => {
  test.each(["yes", "YES", "true", "on", "On", "with", "enable", "1", "0x1", "0X1", "01", "+1", "0x100000001"])(
    "%s is read as yes (apt installed from the repository)",
    (value) => {
      expect(aptStringToBool(value)).toBe(true);
    },
  );
  test.each(["no", "false", "off", "without", "disable", "0", "00", "-0"])("%s is read as no", (value) => {
    expect(aptStringToBool(value)).toBe(false);
  });
  test.each(["maybe", "2", "y", "1abc", "-1", "0x", "08", "0x10000000000000001"])(
    "%s is neither (apt refused the repository)",
    (value) => {
      expect(aptStringToBool(value)).toBeUndefined();
    },
  );
  test("a spelling apt reads as yes is reported as such", () => {
    expect(
      aptSourceProblems("deb [trusted=0x100000001] https://r.example.com/f /", {
        allowUnsignedOverHttps: true,
        keyProvided: false,
      }),
    ).toEqual([expect.stringContaining("sets trusted=0x100000001, which is not written yes or no (apt reads it as yes)")]);
  });
});

describe("flockerAptKey and flockerAptAllowUnsigned", () => {
  const SIGNED = `deb [signed-by=${FLOCKER_APT_KEYRING}] https://repo.example.com/flocker /`;

  test("the key's bytes travel with the validated source, base64", () => {
    const result = validate({ flockerAptSource: SIGNED, flockerAptKey: KEY_PATH });
    expect(result.problems).toEqual([]);
    expect(result.config?.flocker).toEqual({
      kind: "packages",
      packages: { kind: "apt", aptSource: SIGNED, allowUnsigned: false, aptKeyBase64: Buffer.from(KEY_BYTES).toString("base64") },
    });
  });

  test.each([
    ["/home/op/key.asc", "is an armored key: apt on Ubuntu 16.04 reads only binary keyrings; convert it with gpg --dearmor"],
    ["/home/op/notes.txt", "is not an OpenPGP public key: export it in binary form with gpg --export KEYID > flocker.gpg"],
    ["/home/op/missing.gpg", "is not a readable file"],
    ["~/flocker.gpg", "~ is not expanded"],
  ])("flockerAptKey %s is refused", (keyPath, reason) => {
    const result = validate({ flockerAptSource: SIGNED, flockerAptKey: keyPath });
    expect(result.config).toBeUndefined();
    expect(result.problems).toEqual([expect.objectContaining({ key: "flockerAptKey", value: keyPath })]);
    expect(result.problems[0]?.message).toContain(reason);
  });

  test("flockerAptAllowUnsigned must be a boolean", () => {
    const result = validate({ flockerAptSource: "deb [trusted=yes] https://r.example.com/f /", flockerAptAllowUnsigned: "yes" });
    expect(result.problems.map((p) => p.key)).toContain("flockerAptAllowUnsigned");
  });

  test.each([
    [{ flockerInstall: "containers" }, "flockerInstall is containers"],
    [{ flockerDebDir: "/srv/debs" }, "flockerAptSource is empty"],
  ])("both are refused where no apt source reads them (%j)", (values, why) => {
    const result = validate({ ...values, flockerAptKey: KEY_PATH, flockerAptAllowUnsigned: "true" });
    const mine = result.problems.filter((p) => p.key === "flockerAptKey" || p.key === "flockerAptAllowUnsigned");
    expect(mine.map((p) => p.key)).toEqual(["flockerAptKey", "flockerAptAllowUnsigned"]);
    for (const problem of mine) expect(problem.message).toContain(`is only read with flockerAptSource, and ${why}`);
  });
});
