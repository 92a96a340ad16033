/**
 * The tools' common command line (tools/common/cli.ts): the stack's two forms, defaults said aloud,
 * errors that name the right form, --help, a closed pipe, and the missing-`npm ci` check.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UsageError, helpText, parseCommandLine, unknownStackMessage, type ToolSpec } from "../tools/common/cli";

const root = path.join(__dirname, "..");
const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs");
const STACKS = ["dev", "prod"];

const offline: ToolSpec = {
  name: "plan",
  summary: "An offline tool.",
  description: [],
  stack: { required: false, default: "dev" },
  options: {
    set: { type: "string", multiple: true, value: "KEY=VALUE", description: "override" },
    quiet: { type: "boolean", description: "less" },
  },
  examples: ["npm run plan -- --stack prod"],
  exitCodes: [
    [0, "done"],
    [2, "usage error"],
  ],
};
const live: ToolSpec = {
  ...offline,
  name: "ssh",
  stack: { required: true },
  options: {},
  operands: { synopsis: "NODE", min: 1, max: 1 },
  passThrough: { to: "the node", synopsis: "COMMAND...", description: "run on the node" },
};

describe("the stack", () => {
  test.each([[["--stack", "prod"]], [["-s", "prod"]], [["--stack=prod"]], [["prod"]], [["--stack", "prod", "prod"]]])(
    "%j names prod",
    (argv) => {
      expect(parseCommandLine(offline, argv, STACKS)).toMatchObject({ stack: "prod", stackDefaulted: false });
    },
  );

  test("an offline tool defaults, and says that it did", () => {
    expect(parseCommandLine(offline, [], STACKS)).toMatchObject({ stack: "dev", stackDefaulted: true });
  });

  test("a tool that acts on real infrastructure requires it", () => {
    expect(() => parseCommandLine(live, ["aws-105"], STACKS)).toThrow(
      'which stack? Name it ("aws-105" is not a stack): npm run ssh -- --stack dev NODE (stacks in this repository: dev, prod)',
    );
    expect(parseCommandLine(live, ["dev", "aws-105"], STACKS)).toMatchObject({ stack: "dev", operands: ["aws-105"] });
    expect(parseCommandLine(live, ["--stack", "prod", "aws-105", "--", "uptime", "-p"], STACKS)).toMatchObject({
      stack: "prod",
      operands: ["aws-105"],
      passThrough: ["uptime", "-p"],
    });
  });

  test("an unknown stack lists the stacks, the nearest name and how a new one starts", () => {
    expect(unknownStackMessage("prdo", STACKS)).toBe(
      'no stack "prdo": Pulumi.prdo.yaml does not exist (stacks: dev, prod); did you mean prod? Or, for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.prdo.yaml',
    );
    expect(unknownStackMessage("staging", STACKS)).toBe(
      'no stack "staging": Pulumi.staging.yaml does not exist (stacks: dev, prod); for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.staging.yaml',
    );
  });

  test("every tool gives that one answer, whether the stack is named with --stack or as a bare word", () => {
    for (const [spec, argv] of [
      [offline, ["--stack", "prdo"]],
      [offline, ["prdo"]],
      [live, ["--stack", "prdo", "aws-105"]],
    ] as const) {
      expect(() => parseCommandLine(spec, argv, STACKS)).toThrow(new UsageError(unknownStackMessage("prdo", STACKS)));
    }
  });
});

describe("errors name the right form", () => {
  test.each([
    [["--stak", "dev"], "unknown option --stak: did you mean --stack?"],
    [["--prod"], "unknown option --prod: name a stack with --stack prod (or just prod)"],
    [["--bogus"], "unknown option --bogus (options: --stack, --help, --set, --quiet)"],
    [["--stack"], "--stack needs a value, as in --stack dev"],
    [["--set"], "--set needs a value, as in --set KEY=VALUE"],
    [["dev", "prod"], 'one stack at a time: got "dev", "prod"'],
    [["dev", "--", "x"], "nothing goes after `--` here (got x)"],
    [["--stack", "a/b"], '"a/b" is not a stack name (letters, digits, "-", "_" and "." only)'],
    // Node's parser alone reads `-stack prod` as `-s tack` followed by a stray "prod".
    [["-stack", "prod"], "-stack has one dash: long options take two, as in --stack prod"],
    [["-stack=prod"], "-stack=prod has one dash: long options take two, as in --stack=prod"],
    [["-quiet"], "-quiet has one dash: long options take two, as in --quiet"],
    [["-stak", "prod"], "-stak is read as -s tak: write --stack NAME (two dashes) or -s NAME (a space before the value)"],
    [["-sprod"], "-sprod is read as -s prod"],
    [["--stack", "dev", "--stack", "prod"], "--stack given twice (dev, prod): give it once"],
    [["--stack", "dev", "-s", "prod"], "--stack given twice (dev, prod): give it once"],
    [["--quiet", "dev", "--quiet"], "--quiet given twice: give it once"],
  ])("%j", (argv, message) => {
    expect(() => parseCommandLine(offline, argv, STACKS)).toThrow(UsageError);
    expect(() => parseCommandLine(offline, argv, STACKS)).toThrow(message);
  });
});

test("a repeatable option may repeat, and words after `--` are another program's", () => {
  expect(parseCommandLine(offline, ["--set", "a=1", "--set", "b=2"], STACKS).values.set).toEqual(["a=1", "b=2"]);
  expect(parseCommandLine(live, ["dev", "aws-105", "--", "-stack", "--help", "--help"], STACKS).passThrough).toEqual([
    "-stack",
    "--help",
    "--help",
  ]);
});

test("a required option shows without brackets, and its absence is refused with the form", () => {
  const restore: ToolSpec = {
    ...offline,
    name: "restore",
    stack: { required: true },
    options: { snapshot: { type: "string", required: true, value: "snap-ID", description: "the snapshot" } },
  };
  expect(helpText(restore, STACKS)).toMatch(/^Usage: npm run restore -- --stack NAME --snapshot snap-ID\n/);
  expect(() => parseCommandLine(restore, ["--stack", "dev"], STACKS)).toThrow(
    "--snapshot is required, as in npm run restore -- --stack dev --snapshot snap-ID",
  );
  expect(parseCommandLine(restore, ["--help"], STACKS).help).toBe(true);
});

test("--help: synopsis, options with the stacks, examples, exit codes; usage errors are skipped with it", () => {
  expect(parseCommandLine(live, ["--help"], STACKS)).toMatchObject({ help: true, stack: "" });
  expect(helpText(offline, STACKS)).toBe(
    [
      "Usage: npm run plan -- [--stack NAME] [--set KEY=VALUE ...] [--quiet]",
      "",
      "An offline tool.",
      "",
      "Options:",
      "  -s, --stack NAME  the stack (a bare first word works too): dev, prod; default dev",
      "  --set KEY=VALUE   override",
      "  --quiet           less",
      "  -h, --help        this text",
      "",
      "Examples:",
      "  npm run plan -- --stack prod",
      "",
      "Exit codes:",
      "  0     done",
      "  2     usage error",
      "",
    ].join("\n"),
  );
});

test("a closed pipe ends a tool quietly, where Node alone prints an EPIPE stack trace", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-pipe-"));
  const script = (guarded: boolean) => {
    const file = path.join(dir, `${guarded ? "guarded" : "bare"}.ts`);
    fs.writeFileSync(
      file,
      `import { exitQuietlyOnClosedPipe } from ${JSON.stringify(path.join(root, "tools/common/cli"))};\n` +
        `${guarded ? "exitQuietlyOnClosedPipe();" : ""}\n` +
        `for (let i = 0; i < 200000; i++) process.stdout.write("line " + i + "\\n");\n`,
    );
    return spawnSync("bash", ["-c", `set -o pipefail; node ${tsx} ${file} | head -1`], { encoding: "utf8" });
  };
  const guarded = script(true);
  expect(guarded.stdout).toBe("line 0\n");
  expect(guarded.stderr).toBe("");
  expect(guarded.status).toBe(0);
  const bare = script(false);
  expect(bare.stderr).toMatch(/EPIPE/);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a missing or stale `npm ci` is named as such", () => {
  const { installProblem } = require("../tools/dev/checkInstall.js") as {
    installProblem: (projectRoot: string) => string | undefined;
  };
  const project = (installed: Record<string, string> | undefined) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "install-"));
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ dependencies: { yaml: "2.9.1" }, devDependencies: { tsx: "4.23.15", "@pulumi/policy": "1.21.0" } }),
    );
    if (installed) {
      for (const [name, version] of Object.entries(installed)) {
        fs.mkdirSync(path.join(dir, "node_modules", name), { recursive: true });
        fs.writeFileSync(path.join(dir, "node_modules", name, "package.json"), JSON.stringify({ name, version }));
      }
    }
    return dir;
  };

  test("no node_modules", () => {
    expect(installProblem(project(undefined))).toBe(
      "node_modules does not exist: run `npm ci` first (it installs the pinned versions from package-lock.json).",
    );
  });

  test("a package missing or at another version", () => {
    expect(installProblem(project({ yaml: "2.8.0", "@pulumi/policy": "v1.21.0" }))).toBe(
      "node_modules does not match package.json: yaml is 2.8.0 (package.json pins 2.9.1); tsx is not installed (package.json pins 4.23.15). Run `npm ci` to install the pinned versions.",
    );
  });

  test("everything as pinned (a leading v in a package's own version is tolerated)", () => {
    expect(installProblem(project({ yaml: "2.9.1", tsx: "4.23.15", "@pulumi/policy": "v1.21.0" }))).toBeUndefined();
    expect(installProblem(root)).toBeUndefined();
  });

  test("as a command: exit 2 and the hint on stderr, before tsx or tsc would fail", () => {
    const result = spawnSync(process.execPath, [path.join(root, "tools/dev/checkInstall.js"), project(undefined)], {
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("run `npm ci` first");
  });

  test("every npm script that needs node_modules runs the check first", () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    // Every tool (tsx) script, whatever its name, plus the test and type-check entry points.
    const tools = Object.keys(scripts).filter((name) => /\btsx\b/.test(scripts[name]));
    expect(tools).toEqual(expect.arrayContaining(["plan", "deploy", "destroy", "status", "ssh", "restore", "figures"]));
    for (const name of [...tools, "typecheck", "test:unit", "test:scripts"]) {
      expect([name, scripts[name]]).toEqual([name, expect.stringMatching(/^node tools\/dev\/checkInstall\.js && /)]);
    }
    expect(fs.readFileSync(path.join(root, "tests/run-all.sh"), "utf8")).toContain("node tools/dev/checkInstall.js");
  });
});
