/** The project files agree with the config contract, and dependencies are pinned. */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_SCHEMA } from "../config/schema";
import { projectConfigSchema } from "../tools/dev/projectFile";
import { availableStacks, readStackConfig } from "../tools/common/stackConfig";

const root = path.join(__dirname, "..");
const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));

test("Pulumi.yaml: nodejs, a description, a self-managed backend by default", () => {
  expect(project.name).toBe("swarm-flocker");
  expect(project.runtime.name).toBe("nodejs");
  expect(project.description.length).toBeGreaterThan(20);
  expect(project.backend).toEqual({ url: "file://~" });
});

test("Pulumi.yaml's config schema is exactly config/schema.ts: every key with a description and its default", () => {
  // The fix when this fails: npm run sync:project-file
  expect(project.config).toEqual(projectConfigSchema());
  for (const [key, entry] of Object.entries(project.config as Record<string, Record<string, unknown>>)) {
    expect(entry.type).toBe(CONFIG_SCHEMA[key as keyof typeof CONFIG_SCHEMA].type);
    expect(String(entry.description).length).toBeGreaterThan(15);
  }
  const withoutDefault = Object.entries(CONFIG_SCHEMA)
    .filter(([, spec]) => !("default" in spec))
    .map(([key]) => key);
  expect(withoutDefault).toEqual(["adminCidrs"]);
});

test("stack files use only known keys, the dev stack has the book's values, the current stack is the current platform", () => {
  expect(availableStacks()).toEqual(["current", "dev", "prod"]);
  for (const stack of availableStacks()) {
    for (const key of Object.keys(readStackConfig(stack))) {
      const [namespace, name] = key.split(":");
      if (namespace === "aws") expect(name).toBe("region");
      else expect(Object.keys(CONFIG_SCHEMA)).toContain(name);
    }
  }
  expect(readStackConfig("dev")).toMatchObject({
    "aws:region": "us-east-1",
    "swarm-flocker:availabilityZone": "us-east-1a",
    "swarm-flocker:nodeCount": "10",
    "swarm-flocker:managerCount": "3",
    "swarm-flocker:instanceType": "t2.medium",
  });
  expect(readStackConfig("dev")["swarm-flocker:platform"]).toBeUndefined();
  expect(readStackConfig("current")).toMatchObject({
    "swarm-flocker:platform": "current",
    "swarm-flocker:instanceType": "t3.medium",
    "swarm-flocker:sparkImage": expect.stringMatching(/^apache\/spark:3\.5\.\d+@sha256:[0-9a-f]{64}$/),
  });
});

test("package.json pins every dependency exactly and states its engines", () => {
  for (const file of ["package.json", "policy/package.json", "examples/consumer/package.json"]) {
    const full = path.join(root, file);
    if (!fs.existsSync(full)) continue;
    const pkg = JSON.parse(fs.readFileSync(full, "utf8"));
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(`${file} ${name}@${version}`).toMatch(/@\d+\.\d+\.\d+$/);
    }
    expect(pkg.engines?.node).toBeDefined();
  }
  const root_ = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  // @pulumi/command 4.x on npm is a deprecated preview without dialErrorLimit or logging.
  expect(root_.dependencies["@pulumi/command"]).toBe("1.2.1");
});

test("tsconfig is strict", () => {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8"));
  expect(tsconfig.compilerOptions).toMatchObject({ strict: true, noImplicitReturns: true, noUnusedLocals: true });
});

test("the README opens with the deploy/plan command and the test command; docs/configuration.md documents every config key", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks[0]).toContain("npm ci && npm run deploy -- current");
  expect(blocks[0]).toContain("npm ci && npm run plan -- current");
  expect(blocks[1]).toContain("npm ci && npm test");
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  expect(pkg.scripts.test).toBe("bash tests/run-all.sh");
  const reference = fs.readFileSync(path.join(root, "docs", "configuration.md"), "utf8");
  for (const key of Object.keys(CONFIG_SCHEMA)) expect(reference).toContain(`| \`${key}\` |`);
});

test(".ci/run installs what the tests need and runs the README's test command and the engine tier", () => {
  const ci = fs.readFileSync(path.join(root, ".ci/run"), "utf8");
  expect(ci).toMatch(/apt-get install[^\n]*"\$\{apt_packages\[@\]\}"/);
  for (const pkg of ["shellcheck", "bats", "bats-support", "bats-assert", "jq", "docker.io", "openssh-server"])
    expect(ci).toContain(pkg);
  expect(ci).toContain("npm ci");
  expect(ci).toMatch(/^npm test$/m);
  expect(ci.trim().endsWith("npm run test:engine")).toBe(true);
});
