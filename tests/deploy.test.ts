/**
 * tools/deploy/deploy.ts, tools/deploy/deployArgs.ts and tools/deploy/deployPreflight.ts without the Pulumi CLI or AWS:
 * the preflight's messages and exit code, placeholder detection, --my-ip, the command list (with
 * the policy pack) and argument parsing by the tools' common convention.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AwsCliError, awsCli } from "../tools/common/awsCli";
import { lookUpNodeImage, pinNeed } from "../tools/deploy/nodeImagePin";
import { UBUNTU_2404_SSM_PARAMETER } from "../lib/platform";
import { UsageError } from "../tools/common/cli";
import { fetchPublicIpv4, runDeploy } from "../tools/deploy/deploy";
import { parseDeployArgs } from "../tools/deploy/deployArgs";
import {
  CHECKIP_TIMEOUT_MS,
  CHECKIP_URL,
  PREFLIGHT_EXIT_CODE,
  deployCommands,
  displayCommand,
  isDocumentationCidr,
  isPlaceholderAptSource,
  parsePublicIpv4,
  preflight,
  projectBackendUrl,
  readRawStackConfig,
  resolveBackendUrl,
  type PreflightInput,
} from "../tools/deploy/deployPreflight";
import { PROJECT_ROOT, availableStacks } from "../tools/common/stackConfig";
import * as net from "net";
import { probeTcp } from "../tools/deploy/destroyReachability";
import {
  CANONICAL_IMAGE,
  CURRENT_CONFIG,
  DATASET_ID,
  FIRST_MANAGER_IP,
  GOOD_CONFIG,
  HOME,
  POLICY_PACK_INSTALLED,
  SECOND_MANAGER_IP,
  SPARK_MASTER_IP,
  STACK_OUTPUTS,
  STATE_PRIVATE_KEY,
  fakeMachine,
  record,
  stateExport,
  WORKER_IP,
  urnOf,
} from "./helpers/deployFakes";

const STACKS = ["dev", "prod"];

const NO_CREDENTIALS = { PATH: "/usr/bin" };

describe("preflight: each missing prerequisite is reported with what to do, and nothing runs", () => {
  const cases: Array<{
    what: string;
    machine: Parameters<typeof fakeMachine>[0];
    args?: string[];
    message: RegExp;
    fix: RegExp;
  }> = [
    {
      what: "no Pulumi CLI",
      machine: { pulumi: false },
      message: /Pulumi CLI is not on PATH \(`pulumi version` does not run\)/,
      fix: /https:\/\/www\.pulumi\.com\/docs\/iac\/download-install\//,
    },
    {
      what: "no ssh client (the nodes' ssh-key steps run it)",
      machine: { ssh: false },
      message: /ssh is not on PATH \(`ssh -V` does not run\): pulumi up installs the stack's SSH key on each node with it/,
      fix: /sudo apt-get install openssh-client.*brew install openssh/,
    },
    {
      what: "no AWS credentials",
      machine: { env: { ...NO_CREDENTIALS, PULUMI_CONFIG_PASSPHRASE: "p" } },
      message: /No AWS credentials found/,
      fix: /presence check, not a validity check/,
    },
    {
      what: "half a key pair",
      machine: { env: { AWS_ACCESS_KEY_ID: "AKIA…", PULUMI_CONFIG_PASSPHRASE: "p" } },
      message: /AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not/,
      fix: /AWS_PROFILE/,
    },
    {
      what: "no passphrase",
      machine: { env: { AWS_PROFILE: "ops" } },
      message: /neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set/,
      fix: /export PULUMI_CONFIG_PASSPHRASE=.*PULUMI_CONFIG_PASSPHRASE_FILE=/,
    },
    {
      what: "an empty passphrase",
      machine: { env: { AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE: "" } },
      message: /PULUMI_CONFIG_PASSPHRASE is empty/,
      fix: /PULUMI_CONFIG_PASSPHRASE_FILE/,
    },
    {
      what: "an unreadable passphrase file",
      machine: { env: { AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/missing" } },
      message: /PULUMI_CONFIG_PASSPHRASE_FILE=\/run\/secrets\/missing is not a readable file/,
      fix: /Point it at the file/,
    },
    {
      what: "a stack file key without the project's namespace (Pulumi would not read it as this stack's)",
      machine: { stacks: { dev: { ...GOOD_CONFIG, nodeCount: "5" } } },
      message:
        /Pulumi\.dev\.yaml has config key without a namespace, which Pulumi does not read as this project's: nodeCount → swarm-flocker:nodeCount/,
      fix: /Rename each key in Pulumi\.dev\.yaml as shown/,
    },
    {
      what: "a stack file that does not parse",
      machine: { stacks: { dev: new Error("bad indentation") } },
      message: /Pulumi\.dev\.yaml cannot be read: bad indentation/,
      fix: /Fix the YAML/,
    },
    {
      what: "the placeholder Flocker apt source",
      machine: {
        stacks: {
          dev: {
            ...GOOD_CONFIG,
            "swarm-flocker:flockerAptSource": "deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /",
          },
        },
      },
      message: /flockerAptSource of stack dev is still the placeholder/,
      fix: /pulumi config set flockerAptSource '.*' --stack dev .*docs\/flocker.md, "packages"/,
    },
    {
      what: "no Flocker packages at all",
      machine: { stacks: { dev: { "swarm-flocker:adminCidrs": ["198.18.7.1/32"], "swarm-flocker:flockerInstall": "packages" } } },
      message: /flockerAptSource and flockerDebDir are both empty/,
      fix: /pulumi config set flockerDebDir .* --stack dev/,
    },
    {
      what: "the placeholder admin CIDR",
      machine: { stacks: { dev: { ...GOOD_CONFIG, "swarm-flocker:adminCidrs": ["203.0.113.10/32"] } } },
      message: /adminCidrs\[0\] of stack dev is 203\.0\.113\.10\/32, a documentation address/,
      fix: /pulumi config set --path 'adminCidrs\[0\]' <your-ip>\/32 --stack dev, or run npm run deploy -- dev --my-ip/,
    },
    {
      what: "no admin CIDRs",
      machine: { stacks: { dev: { ...GOOD_CONFIG, "swarm-flocker:adminCidrs": undefined } } },
      message: /Stack dev has no adminCidrs/,
      fix: /--my-ip/,
    },
    {
      what: "a current stack to pin without the AWS CLI",
      machine: { stacks: { dev: CURRENT_CONFIG }, awsCli: false },
      message:
        /Stack dev is on platform current with nodeImageId unset, and deploy reads the image to pin with the AWS CLI, which is not on PATH \(`aws --version` does not run\)/,
      fix: /Install AWS CLI v2 \(https:\/\/docs\.aws\.amazon\.com\/cli\/.*or pin the image yourself: `pulumi preview --stack dev` .* pulumi config set nodeImageId ami-… --stack dev/,
    },
    {
      what: "a current stack to pin without a region",
      machine: { stacks: { dev: { ...CURRENT_CONFIG, "aws:region": undefined } } },
      message: /Stack dev is on platform current with nodeImageId unset, .*: aws:region is not set\./,
      fix: /pulumi config set aws:region <region, e.g\. us-east-1> --stack dev/,
    },
    {
      what: "a current stack to pin in a region that is not one",
      machine: { stacks: { dev: { ...CURRENT_CONFIG, "aws:region": "Europe (London)" } } },
      message: /aws:region is "Europe \(London\)", which is not an AWS region name\./,
      fix: /pulumi config set aws:region/,
    },
  ];

  test.each(cases)("$what", async ({ machine, args, message, fix }) => {
    const rec = record(fakeMachine(machine));
    const code = await runDeploy(args ?? ["up", "dev"], rec.deps);
    expect(code).toBe(PREFLIGHT_EXIT_CODE);
    expect(code).toBe(2);
    expect(rec.err()).toMatch(message);
    expect(rec.err()).toMatch(fix);
    expect(rec.err()).toMatch(/1 problem \(nothing was run\)/);
    expect(rec.ran).toEqual([]);
    expect(rec.fetches()).toBe(0);
    expect(rec.awsCalls).toEqual([]);
  });

  test("every problem is reported in one run, numbered, each with its fix", async () => {
    const rec = record(
      fakeMachine({
        pulumi: false,
        env: NO_CREDENTIALS,
        stacks: {
          dev: {
            "swarm-flocker:adminCidrs": ["203.0.113.10/32"],
            "swarm-flocker:flockerInstall": "packages",
            "swarm-flocker:flockerAptSource": "deb https://flocker-packages.invalid/ /",
          },
        },
      }),
    );
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(2);
    const err = rec.err();
    expect(err).toMatch(/^Cannot run pulumi up on stack dev: 5 problems \(nothing was run\)\./);
    const order = [/Pulumi CLI/, /AWS credentials/, /passphrase/, /flockerAptSource/, /adminCidrs\[0\]/].map((re) =>
      err.search(re),
    );
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    for (let i = 1; i <= 5; i++) expect(err).toContain(`  ${i}. `);
    expect(err.match(/\n {5}→ /g)).toHaveLength(5);
    expect(rec.ran).toEqual([]);
  });

  test("the repository's own stack files are flagged until their placeholders are replaced", () => {
    const base: Omit<PreflightInput, "stack"> = {
      command: "up",
      myIp: false,
      env: { AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE: "p" },
      homeDir: HOME,
      projectName: "swarm-flocker",
      which: () => "v3",
      fileExists: () => false,
      readStackConfig: (stack) => readRawStackConfig(PROJECT_ROOT, stack),
    };
    // dev installs Flocker from containers: no package source to check.
    const dev = preflight({ ...base, stack: "dev" }).map((p) => p.problem);
    expect(dev).toEqual([expect.stringMatching(/adminCidrs\[0\] of stack dev is 203\.0\.113\.10\/32/)]);
    const prod = preflight({ ...base, stack: "prod" }).map((p) => p.problem);
    expect(prod).toEqual([
      expect.stringMatching(/flockerAptSource of stack prod/),
      expect.stringMatching(/adminCidrs\[0\] of stack prod is 198\.51\.100\.0\/24/),
      expect.stringMatching(/adminCidrs\[1\] of stack prod is 192\.0\.2\.44\/32/),
    ]);
    // --my-ip replaces adminCidrs[0] only: prod's second placeholder still stops the deploy.
    expect(preflight({ ...base, stack: "prod", myIp: true }).map((p) => p.problem)).toEqual([
      expect.stringMatching(/flockerAptSource/),
      expect.stringMatching(/adminCidrs\[1\]/),
    ]);
    // destroy does not care what the config would build.
    expect(preflight({ ...base, stack: "prod", command: "destroy" })).toEqual([]);
  });
});

describe("preflight: what counts as present", () => {
  const input = (over: Partial<PreflightInput>): PreflightInput => ({
    command: "up",
    stack: "dev",
    myIp: false,
    env: { AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE: "p" },
    homeDir: HOME,
    projectName: "swarm-flocker",
    which: () => "v3.248.0",
    fileExists: () => false,
    readStackConfig: () => GOOD_CONFIG,
    ...over,
  });
  const awsProblems = (env: Record<string, string>, files: string[] = []) =>
    preflight(input({ env: { PULUMI_CONFIG_PASSPHRASE: "p", ...env }, fileExists: (f) => files.includes(f) })).filter((p) =>
      /AWS/.test(p.problem),
    );

  test.each([
    ["an access key pair", { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" }, []],
    ["AWS_PROFILE", { AWS_PROFILE: "ops" }, []],
    ["a web identity token file", { AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token" }, []],
    ["~/.aws/credentials", {}, [`${HOME}/.aws/credentials`]],
    ["~/.aws/config", {}, [`${HOME}/.aws/config`]],
    ["AWS_SHARED_CREDENTIALS_FILE", { AWS_SHARED_CREDENTIALS_FILE: "/etc/aws/creds" }, ["/etc/aws/creds"]],
  ] as const)("AWS credentials from %s", (_what, env, files) => {
    expect(awsProblems({ ...env }, [...files])).toEqual([]);
  });

  test("an empty AWS_PROFILE is not a profile", () => {
    expect(awsProblems({ AWS_PROFILE: "" })).toHaveLength(1);
  });

  test("a readable passphrase file is enough", () => {
    const env = { AWS_PROFILE: "ops", PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pulumi" };
    expect(preflight(input({ env, fileExists: (f) => f === "/run/secrets/pulumi" }))).toEqual([]);
  });

  test("Flocker from containers (flockerInstall's default) needs no package source", () => {
    const config = { "swarm-flocker:adminCidrs": ["198.18.7.1/32"] };
    expect(preflight(input({ readStackConfig: () => config }))).toEqual([]);
    const placeholder = {
      ...config,
      "swarm-flocker:flockerInstall": "containers",
      "swarm-flocker:flockerAptSource": "deb https://flocker-packages.invalid/ /",
    };
    expect(preflight(input({ readStackConfig: () => placeholder }))).toEqual([]);
  });

  test("flockerDebDir replaces the apt source, placeholder or not", () => {
    const config = {
      ...GOOD_CONFIG,
      "swarm-flocker:flockerAptSource": "deb https://flocker-packages.invalid/ /",
      "swarm-flocker:flockerDebDir": "/srv/flocker-debs",
    };
    expect(preflight(input({ readStackConfig: () => config }))).toEqual([]);
  });

  test("encrypted (secure) values are taken as set", () => {
    const config = { "swarm-flocker:flockerAptSource": { secure: "v1:abc" }, "swarm-flocker:adminCidrs": { secure: "v1:def" } };
    expect(preflight(input({ readStackConfig: () => config }))).toEqual([]);
  });

  test("config keys are read in the project's namespace", () => {
    const config = {
      "other:flockerAptSource": "deb https://flocker-packages.invalid/ /",
      "other:adminCidrs": ["203.0.113.10/32"],
      ...GOOD_CONFIG,
    };
    expect(preflight(input({ readStackConfig: () => config }))).toEqual([]);
  });

  test("apt sources on reserved names are placeholders; real hosts are not", () => {
    expect(isPlaceholderAptSource("deb [trusted=yes] https://flocker-packages.invalid/ubuntu/16.04/amd64 /")).toBe(true);
    expect(isPlaceholderAptSource("deb [trusted=yes] https://repo.example.com/flocker/16.04 /")).toBe(true);
    expect(isPlaceholderAptSource("deb http://mirror.test/flocker xenial main")).toBe(true);
    expect(isPlaceholderAptSource("deb [trusted=yes] https://flocker.s3.amazonaws.com/ubuntu/16.04/amd64 /")).toBe(false);
    expect(isPlaceholderAptSource("deb [trusted=yes] https://invalid-but-real.net/ /")).toBe(false);
  });

  test("documentation CIDRs (RFC 5737, RFC 3849) are placeholders; others are not", () => {
    for (const cidr of ["203.0.113.10/32", "203.0.113.0/24", "198.51.100.0/24", "192.0.2.44/32", "2001:db8::1/128"]) {
      expect([cidr, isDocumentationCidr(cidr)]).toEqual([cidr, true]);
    }
    for (const cidr of ["203.0.112.0/23", "198.18.7.1/32", "54.1.2.3/32", "2001:db9::/32", "not-a-cidr"]) {
      expect([cidr, isDocumentationCidr(cidr)]).toEqual([cidr, false]);
    }
  });
});

describe("--my-ip", () => {
  const DOC_DEV = { dev: { ...GOOD_CONFIG, "swarm-flocker:adminCidrs": ["203.0.113.10/32"] } };

  test("without it, adminCidrs is left alone and no address is fetched", async () => {
    const rec = record(fakeMachine());
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(0);
    expect(rec.fetches()).toBe(0);
    expect(rec.ran.some((argv) => argv.includes("config"))).toBe(false);
  });

  test("with it, adminCidrs[0] becomes the fetched address /32 before the update, and the placeholder no longer blocks", async () => {
    const rec = record(fakeMachine({ stacks: DOC_DEV }));
    expect(await runDeploy(["up", "dev", "--my-ip"], rec.deps)).toBe(0);
    expect(rec.fetches()).toBe(1);
    expect(rec.ran).toEqual([
      ["pulumi", "login", "file://~"],
      ["pulumi", "stack", "select", "--create", "dev", "--secrets-provider", "passphrase"],
      ["pulumi", "config", "set", "--stack", "dev", "--path", "adminCidrs[0]", "198.18.0.77/32"],
      ["pulumi", "up", "--stack", "dev", "--policy-pack", "policy"],
    ]);
    expect(rec.out()).toContain("adminCidrs[0] of stack dev becomes 198.18.0.77/32");
  });

  test("a failed look-up stops with exit code 2 before anything runs", async () => {
    const rec = record(
      fakeMachine({
        stacks: DOC_DEV,
        publicIp: async () => Promise.reject(new Error("The operation was aborted due to timeout")),
      }),
    );
    expect(await runDeploy(["up", "--stack", "dev", "--my-ip"], rec.deps)).toBe(2);
    expect(rec.ran).toEqual([]);
    expect(rec.err()).toMatch(
      /could not learn this machine's public IPv4 from https:\/\/checkip\.amazonaws\.com \(The operation was aborted due to timeout\)/,
    );
    expect(rec.err()).toMatch(/pulumi config set --path 'adminCidrs\[0\]' <your-ip>\/32 --stack dev/);
  });

  test("the preflight runs before the look-up", async () => {
    const rec = record(fakeMachine({ pulumi: false }));
    expect(await runDeploy(["up", "dev", "--my-ip"], rec.deps)).toBe(2);
    expect(rec.fetches()).toBe(0);
  });

  test("checkip's answer must be one IPv4 address", () => {
    expect(parsePublicIpv4("198.18.0.77\n")).toBe("198.18.0.77");
    for (const bad of ["", "<html>", "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4 5.6.7.8", "2001:db8::1", "1.2.3.4/32"]) {
      expect(() => parsePublicIpv4(bad)).toThrow(/not an IPv4 address/);
    }
  });

  test("fetches checkip.amazonaws.com with a 10 s timeout", async () => {
    const calls: Array<[string, RequestInit | undefined]> = [];
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      calls.push([url, init]);
      return new Response("198.18.0.77\n", { status: 200 });
    }) as unknown as typeof fetch;
    expect(await fetchPublicIpv4(fakeFetch)).toBe("198.18.0.77");
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBe(CHECKIP_URL);
    expect(CHECKIP_URL).toBe("https://checkip.amazonaws.com");
    expect(CHECKIP_TIMEOUT_MS).toBe(10_000);
    expect(calls[0][1]?.signal).toBeInstanceOf(AbortSignal);

    const failing = (async () =>
      new Response("busy", { status: 503, statusText: "Service Unavailable" })) as unknown as typeof fetch;
    await expect(fetchPublicIpv4(failing)).rejects.toThrow("HTTP 503 Service Unavailable");
  });

  test("the timeout aborts a look-up that hangs", async () => {
    const hanging = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      )) as unknown as typeof fetch;
    await expect(fetchPublicIpv4(hanging, 20)).rejects.toThrow(/timeout|aborted/i);
  });
});

describe("a current stack's node image: pinned by the first deploy, never moved", () => {
  const SSM_ARGS = [
    "ssm",
    "get-parameter",
    "--region",
    "eu-west-2",
    "--name",
    UBUNTU_2404_SSM_PARAMETER,
    "--query",
    "Parameter.Value",
  ];
  const PIN = ["pulumi", "config", "set", "nodeImageId", CANONICAL_IMAGE, "--stack", "current"];
  const UP = ["pulumi", "up", "--stack", "current", "--policy-pack", "policy"];
  const PINNED_LINE =
    `nodeImageId: pinned stack current to ${CANONICAL_IMAGE}, Canonical's Ubuntu 24.04 image in eu-west-2 today ` +
    `(SSM ${UBUNTU_2404_SSM_PARAMETER}); Pulumi.current.yaml changed: commit it. ` +
    `Deploy never moves a pin (docs/platforms.md, "Refreshing the pin").\n`;
  const machineWith = (config: Record<string, unknown>, overrides: Parameters<typeof fakeMachine>[0] = {}) =>
    fakeMachine({ stacks: { dev: GOOD_CONFIG, current: config }, ...overrides });

  test("unset: reads the region's SSM parameter first, pins it after selecting the stack, says so, then pulumi up", async () => {
    const rec = record(machineWith(CURRENT_CONFIG));
    expect(await runDeploy(["up", "--stack", "current"], rec.deps)).toBe(0);
    expect(rec.awsCalls).toEqual([SSM_ARGS]);
    expect(rec.ran).toEqual([
      ["pulumi", "login", "file://~"],
      ["pulumi", "stack", "select", "--create", "current", "--secrets-provider", "passphrase"],
      PIN,
      UP,
    ]);
    // In this order: the look-up before anything runs, the line once the pin is written, then up.
    expect(rec.timeline.filter((e) => !e.startsWith("out: $ "))).toEqual([
      `aws ${displayCommand(SSM_ARGS)}`,
      "run: pulumi login file://~",
      "run: pulumi stack select --create current --secrets-provider passphrase",
      `run: pulumi config set nodeImageId ${CANONICAL_IMAGE} --stack current`,
      `out: ${PINNED_LINE}`,
      `run: ${displayCommand(UP)}`,
      expect.stringMatching(
        /^out: Pulumi\.current\.yaml may have changed \(the encryptionsalt of a new stack, nodeImageId\): review it with git diff and commit the salt and the pin\.\n$/,
      ),
    ]);
    expect(rec.out()).toContain(`$ pulumi config set nodeImageId ${CANONICAL_IMAGE} --stack current\n`);
    expect(rec.err()).toBe("");
  });

  test("an empty or null nodeImageId is unset too; with --my-ip both are set before up", async () => {
    for (const value of ["", "  ", null]) {
      const rec = record(machineWith({ ...CURRENT_CONFIG, "swarm-flocker:nodeImageId": value }));
      expect(await runDeploy(["up", "current", "--my-ip"], rec.deps)).toBe(0);
      expect(rec.awsCalls).toEqual([SSM_ARGS]);
      expect(rec.ran.slice(2)).toEqual([
        ["pulumi", "config", "set", "--stack", "current", "--path", "adminCidrs[0]", "198.18.0.77/32"],
        PIN,
        UP,
      ]);
    }
  });

  test.each([
    ["an AMI id", "ami-0123456789abcdef0"],
    ["a malformed value (the program refuses it by name)", "ubuntu-24.04"],
    ["an encrypted value", { secure: "v1:AAAA" }],
  ])("pinned (%s): no SSM call, no config set, plain pulumi up", async (_what, value) => {
    const rec = record(machineWith({ ...CURRENT_CONFIG, "swarm-flocker:nodeImageId": value }));
    expect(await runDeploy(["up", "current"], rec.deps)).toBe(0);
    expect(rec.awsCalls).toEqual([]);
    expect(rec.ran).toEqual([
      ["pulumi", "login", "file://~"],
      ["pulumi", "stack", "select", "--create", "current", "--secrets-provider", "passphrase"],
      UP,
    ]);
    expect(rec.out()).not.toContain("nodeImageId");
  });

  test("a pinned stack needs no AWS CLI", async () => {
    const rec = record(
      machineWith({ ...CURRENT_CONFIG, "swarm-flocker:nodeImageId": "ami-0123456789abcdef0" }, { awsCli: false }),
    );
    expect(await runDeploy(["up", "current"], rec.deps)).toBe(0);
    expect(rec.ran.at(-1)).toEqual(UP);
  });

  test("a book stack is untouched: no SSM call, even without the AWS CLI, platform named or defaulted", async () => {
    for (const config of [GOOD_CONFIG, { ...GOOD_CONFIG, "swarm-flocker:platform": "book" }]) {
      const rec = record(machineWith(config, { awsCli: false }));
      expect(await runDeploy(["up", "current"], rec.deps)).toBe(0);
      expect(rec.awsCalls).toEqual([]);
      expect(rec.ran.some((argv) => argv.includes("nodeImageId"))).toBe(false);
    }
  });

  test("destroy never looks the image up", async () => {
    const rec = record(machineWith(CURRENT_CONFIG));
    expect(await runDeploy(["destroy", "current"], rec.deps)).toBe(0);
    expect(rec.awsCalls).toEqual([]);
    expect(rec.ran.some((argv) => argv.includes("config"))).toBe(false);
  });

  test("the preflight runs before the look-up", async () => {
    const rec = record(machineWith(CURRENT_CONFIG, { pulumi: false }));
    expect(await runDeploy(["up", "current"], rec.deps)).toBe(2);
    expect(rec.awsCalls).toEqual([]);
  });

  const MANUAL =
    `pin it yourself: pulumi config set nodeImageId "$(aws ssm get-parameter --region eu-west-2 --name ${UBUNTU_2404_SSM_PARAMETER} ` +
    `--query Parameter.Value --output text)" --stack current (docs/platforms.md, "Refreshing the pin")`;

  test.each([
    {
      what: "no credentials",
      error: new AwsCliError("aws ssm get-parameter failed: Unable to locate credentials.", undefined, true),
      fix: `AWS found no credentials or refused them: renew them (aws sso login --profile <profile>, or export AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run the deploy again; or ${MANUAL}.`,
    },
    {
      what: "a region without the parameter",
      error: new AwsCliError("aws ssm get-parameter failed: An error occurred (ParameterNotFound)", "ParameterNotFound", false),
      fix: "Canonical publishes this parameter in every commercial region: check aws:region of stack current (eu-west-2; pulumi config set aws:region <region> --stack current) and run the deploy again.",
    },
    {
      what: "an identity without ssm:GetParameter",
      error: new AwsCliError(
        "aws ssm get-parameter failed: An error occurred (AccessDeniedException)",
        "AccessDeniedException",
        false,
      ),
      fix: `The identity needs ssm:GetParameter on arn:aws:ssm:eu-west-2::parameter${UBUNTU_2404_SSM_PARAMETER}: grant it, or ${MANUAL}.`,
    },
    {
      what: "no answer in time",
      error: new AwsCliError("aws ssm get-parameter did not answer within 30 s", undefined, false),
      fix: `Check this machine's connection to AWS and run the deploy again, or ${MANUAL}.`,
    },
  ])("SSM failure ($what): exit 2, nothing run, what failed and what to do", async ({ error, fix }) => {
    const rec = record(machineWith(CURRENT_CONFIG, { aws: async () => Promise.reject(error) }));
    expect(await runDeploy(["up", "current", "--my-ip"], rec.deps)).toBe(PREFLIGHT_EXIT_CODE);
    expect(rec.ran).toEqual([]);
    expect(rec.err()).toBe(
      `Cannot run pulumi up on stack current: nodeImageId is not pinned, and Canonical's Ubuntu 24.04 image for eu-west-2 ` +
        `could not be read from the SSM parameter ${UBUNTU_2404_SSM_PARAMETER} (${error.message}). Nothing was run.\n  → ${fix}\n`,
    );
  });

  test.each([
    ["None"],
    [""],
    ["ami-0123"],
    ["AMI-0A1B2C3D4E5F60718"],
    [" ami-0a1b2c3d4e5f60718"],
    [null],
    [{ Value: CANONICAL_IMAGE }],
  ])("an answer that is not an AMI id (%j) is refused: exit 2, nothing pinned or run", async (answer) => {
    const rec = record(machineWith(CURRENT_CONFIG, { aws: async () => answer }));
    expect(await runDeploy(["up", "current"], rec.deps)).toBe(PREFLIGHT_EXIT_CODE);
    expect(rec.ran).toEqual([]);
    expect(rec.err()).toContain(
      `the SSM parameter ${UBUNTU_2404_SSM_PARAMETER} in eu-west-2 answered ${JSON.stringify(answer)}, which is not an AMI id (ami- and 8 or 17 hexadecimal digits); nothing was pinned. Nothing was run.\n`,
    );
    expect(rec.err()).toContain("→ Check the answer yourself with aws ssm get-parameter --region eu-west-2");
    expect(rec.err()).toContain("pulumi config set nodeImageId <that id> --stack current");
  });

  test("a failed pin stops before pulumi up and claims nothing", async () => {
    const rec = record(machineWith(CURRENT_CONFIG, { exitCodes: { "pulumi config set": 255 } }));
    expect(await runDeploy(["up", "current"], rec.deps)).toBe(255);
    expect(rec.ran.at(-1)).toEqual(PIN);
    expect(rec.out()).not.toContain("nodeImageId: pinned");
    expect(rec.err()).toContain(`\`pulumi config set nodeImageId ${CANONICAL_IMAGE} --stack current\` failed with exit code 255`);
  });

  test("the repository's current stack ships unpinned, in a region deploy can read the image in", () => {
    const config = readRawStackConfig(PROJECT_ROOT, "current")!;
    expect(pinNeed(config, "swarm-flocker")).toEqual({ pin: true, region: "us-east-1", rawRegion: "us-east-1" });
    expect(pinNeed(readRawStackConfig(PROJECT_ROOT, "dev")!, "swarm-flocker")).toEqual({ pin: false });
  });

  test("--help says what deploy pins and that moving a pin is the manual command's job", async () => {
    const rec = record(machineWith(CURRENT_CONFIG));
    expect(await runDeploy(["up", "--help"], rec.deps)).toBe(0);
    expect(rec.out()).toMatch(/platform current with nodeImageId unset: pins Canonical's current Ubuntu 24\.04 image/);
    expect(rec.out()).toMatch(/never moves a pinned image: a new one replaces every node at once/);
    expect(rec.out()).toContain('docs/platforms.md, "Refreshing the pin"');
    expect(rec.out()).toContain("npm run deploy -- --stack current --my-ip");
    expect(rec.awsCalls).toEqual([]);
  });
});

describe("the AWS CLI runner (a stand-in aws on PATH)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-aws-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const standIn = (name: string, body: string): Record<string, string> => {
    const bin = path.join(dir, name);
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return { PATH: `${bin}:/usr/bin:/bin` };
  };

  test("the answer of --query Parameter.Value --output json is the id; the passphrase is not passed on", async () => {
    const env = standIn(
      "ok",
      'printf "%s\\n" "$*" > "$(dirname "$0")/args"; env > "$(dirname "$0")/env"; echo \'"ami-0a1b2c3d4e5f60718"\'',
    );
    const aws = awsCli({ ...env, PULUMI_CONFIG_PASSPHRASE: "correct horse" }, 5_000);
    expect(await lookUpNodeImage(aws, "current", "eu-west-2")).toBe("ami-0a1b2c3d4e5f60718");
    expect(fs.readFileSync(path.join(dir, "ok", "args"), "utf8")).toBe(
      `ssm get-parameter --region eu-west-2 --name ${UBUNTU_2404_SSM_PARAMETER} --query Parameter.Value --output json\n`,
    );
    expect(fs.readFileSync(path.join(dir, "ok", "env"), "utf8")).not.toContain("correct horse");
  });

  test("SSM's refusal of a key is a credentials failure", async () => {
    const env = standIn(
      "badkey",
      "echo 'An error occurred (UnrecognizedClientException) when calling the GetParameter operation: The security token included in the request is invalid.' >&2; exit 254",
    );
    const error = await awsCli(env, 5_000)(["ssm", "get-parameter"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsCliError);
    expect(error).toMatchObject({ code: "UnrecognizedClientException", credentials: true });
    await expect(lookUpNodeImage(awsCli(env, 5_000), "current", "eu-west-2")).rejects.toMatchObject({
      fix: expect.stringMatching(/^AWS found no credentials or refused them/),
    });
  });

  test("a call that hangs is stopped at the timeout", async () => {
    const env = standIn("hang", "exec sleep 30");
    await expect(awsCli(env, 300)(["ssm", "get-parameter"])).rejects.toThrow("aws ssm get-parameter did not answer within 0.3 s");
  });

  test("no aws on PATH says so", async () => {
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    await expect(awsCli({ PATH: empty }, 5_000)(["ssm", "get-parameter"])).rejects.toThrow(
      "aws ssm get-parameter cannot run: the AWS CLI is not on PATH",
    );
  });
});

describe("the commands", () => {
  test("up: login to Pulumi.yaml's backend, select-or-create with the passphrase provider, up with the policy pack and pass-through args", () => {
    expect(
      deployCommands({
        command: "up",
        stack: "prod",
        backendUrl: resolveBackendUrl({}, "file://~"),
        policyPack: "policy",
        pulumiArgs: ["--yes", "--skip-preview"],
      }),
    ).toEqual([
      ["pulumi", "login", "file://~"],
      ["pulumi", "stack", "select", "--create", "prod", "--secrets-provider", "passphrase"],
      ["pulumi", "up", "--stack", "prod", "--policy-pack", "policy", "--yes", "--skip-preview"],
    ]);
  });

  test("destroy: selects without creating, never touches config, no policy pack (pulumi destroy takes none)", () => {
    expect(
      deployCommands({ command: "destroy", stack: "dev", backendUrl: "file://~", policyPack: "policy", pulumiArgs: [] }),
    ).toEqual([
      ["pulumi", "login", "file://~"],
      ["pulumi", "stack", "select", "dev"],
      ["pulumi", "destroy", "--stack", "dev"],
    ]);
  });

  test("PULUMI_BACKEND_URL wins over Pulumi.yaml, which wins over the default", () => {
    expect(resolveBackendUrl({ PULUMI_BACKEND_URL: "s3://state-bucket?region=us-east-1" }, "file://~")).toBe(
      "s3://state-bucket?region=us-east-1",
    );
    expect(resolveBackendUrl({ PULUMI_BACKEND_URL: "  " }, "file:///srv/pulumi")).toBe("file:///srv/pulumi");
    expect(resolveBackendUrl({}, undefined)).toBe("file://~");
    expect(projectBackendUrl(PROJECT_ROOT)).toBe("file://~");
  });

  test.each([
    ["up", undefined, ["up", "dev"], "file://~"],
    ["up", "s3://state-bucket", ["up", "--stack", "prod", "--", "--yes"], "s3://state-bucket"],
    ["destroy", undefined, ["destroy", "prod", "--", "--yes"], "file://~"],
    ["destroy", "s3://state-bucket", ["destroy", "-s", "dev"], "s3://state-bucket"],
  ] as const)(
    "runDeploy %s with PULUMI_BACKEND_URL=%s runs the planned commands in order",
    async (command, backend, argv, url) => {
      const machine = fakeMachine();
      if (backend) machine.env.PULUMI_BACKEND_URL = backend;
      const rec = record(machine);
      expect(await runDeploy(argv, rec.deps)).toBe(0);
      const args = parseDeployArgs(argv, STACKS);
      expect(rec.ran).toEqual(
        deployCommands({ command, stack: args.stack, backendUrl: url, policyPack: "policy", pulumiArgs: args.pulumiArgs }),
      );
      expect(rec.ran[0]).toEqual(["pulumi", "login", url]);
      const policy = command === "up" ? ["--policy-pack", "policy"] : [];
      expect(rec.ran.at(-1)).toEqual(["pulumi", command, "--stack", args.stack, ...policy, ...args.pulumiArgs]);
      for (const line of rec.ran) expect(rec.out()).toContain(`$ ${displayCommand(line)}\n`);
    },
  );

  test("commands are shown as an operator would type them", () => {
    expect(displayCommand(["pulumi", "config", "set", "--path", "adminCidrs[0]", "198.18.0.77/32"])).toBe(
      "pulumi config set --path 'adminCidrs[0]' 198.18.0.77/32",
    );
    expect(displayCommand(["pulumi", "login", "file://~"])).toBe("pulumi login file://~");
    expect(displayCommand(["pulumi", "up", "--message", "it's ~"])).toBe("pulumi up --message 'it'\\''s ~'");
  });

  test("a failing command stops the run with its exit code", async () => {
    const rec = record(fakeMachine({ exitCodes: { "pulumi stack select": 255 } }));
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(255);
    expect(rec.ran).toHaveLength(2);
    expect(rec.err()).toMatch(/pulumi stack select --create dev --secrets-provider passphrase` failed with exit code 255/);
  });
});

describe("arguments", () => {
  test("the stack is required (deploy and destroy act on real infrastructure), as --stack NAME, -s NAME or a bare name", () => {
    for (const argv of [
      ["up", "--stack", "prod"],
      ["up", "-s", "prod"],
      ["up", "--stack=prod"],
      ["up", "prod"],
    ]) {
      expect(parseDeployArgs(argv, STACKS)).toEqual({
        command: "up",
        stack: "prod",
        myIp: false,
        forgetUnreachable: false,
        pulumiArgs: [],
        help: false,
      });
    }
    expect(parseDeployArgs(["destroy", "dev"], STACKS)).toEqual({
      command: "destroy",
      stack: "dev",
      myIp: false,
      forgetUnreachable: false,
      pulumiArgs: [],
      help: false,
    });
    expect(parseDeployArgs(["destroy", "dev", "--forget-unreachable", "--", "--yes"], STACKS)).toMatchObject({
      forgetUnreachable: true,
      pulumiArgs: ["--yes"],
    });
    expect(() => parseDeployArgs(["up"], STACKS)).toThrow(
      "which stack? Name it: npm run deploy -- --stack dev (stacks in this repository: dev, prod)",
    );
    expect(() => parseDeployArgs(["destroy", "--", "--yes"], STACKS)).toThrow(
      /which stack\? Name it: npm run destroy -- --stack dev/,
    );
  });

  test("what npm run passes: npm run deploy -- --stack prod --my-ip -- --yes --target 'urn:a b'", () => {
    expect(parseDeployArgs(["up", "--stack", "prod", "--my-ip", "--", "--yes", "--target", "urn:a b"], STACKS)).toEqual({
      command: "up",
      stack: "prod",
      myIp: true,
      forgetUnreachable: false,
      pulumiArgs: ["--yes", "--target", "urn:a b"],
      help: false,
    });
    expect(parseDeployArgs(["up", "--my-ip", "prod"], STACKS).stack).toBe("prod");
    expect(parseDeployArgs(["up", "dev", "--", "--", "-x"], STACKS).pulumiArgs).toEqual(["--", "-x"]);
    // A stack the repository has no file for gets the answer every tool gives, with how to create one.
    expect(() => parseDeployArgs(["up", "qa"], STACKS)).toThrow(
      'no stack "qa": Pulumi.qa.yaml does not exist (stacks: dev, prod); for a new stack, copy one: cp Pulumi.dev.yaml Pulumi.qa.yaml',
    );
    expect(() => parseDeployArgs(["destroy", "--stack", "prdo"], STACKS)).toThrow('no stack "prdo"');
  });

  test.each([
    [
      ["up", "dev", "--yes"],
      "unknown option --yes: options for pulumi up go after a second `--`, as in npm run deploy -- --stack dev -- --yes",
    ],
    [["up", "--stak", "dev"], "unknown option --stak: did you mean --stack?"],
    [["up", "--dev"], "unknown option --dev: name a stack with --stack dev (or just dev)"],
    [["up", "--stack"], "--stack needs a value, as in --stack dev"],
    [["deploy"], 'the first argument must be "up" or "destroy" (package.json passes it), got "deploy"'],
    [[], "got nothing"],
    [["up", "dev", "prod"], 'one stack at a time: got "dev", "prod"; arguments for pulumi up go after `--`'],
    [["up", "--stack", "dev", "prod"], 'one stack at a time: got --stack dev and "prod"'],
    [["up", "--stack", "dev", "--stack", "prod"], "--stack given twice (dev, prod): give it once"],
    [["destroy", "-stack", "prod"], "-stack has one dash: long options take two, as in --stack prod"],
    [["up", "dev", "--my-ip", "--my-ip"], "--my-ip given twice: give it once"],
    [["up", "../etc"], '"../etc" is not a stack name (letters, digits, "-", "_" and "." only)'],
    [["destroy", "dev", "--my-ip"], "--my-ip only applies to deploy"],
    [["up", "dev", "--forget-unreachable"], "unknown option --forget-unreachable"],
  ])("usage error for %j", (argv, message) => {
    expect(() => parseDeployArgs(argv, STACKS)).toThrow(UsageError);
    expect(() => parseDeployArgs(argv, STACKS)).toThrow(message);
  });

  test("a usage error exits with code 2, names the right form and prints the synopsis; nothing runs", async () => {
    const bad = record(fakeMachine());
    expect(await runDeploy(["up", "dev", "--yes"], bad.deps)).toBe(2);
    expect(bad.err()).toBe(
      "deploy: unknown option --yes: options for pulumi up go after a second `--`, as in npm run deploy -- --stack dev -- --yes\n" +
        "Usage: npm run deploy -- --stack NAME [--my-ip] [-- PULUMI_UP_ARGS...]\n" +
        "(npm run deploy -- --help for more)\n",
    );
    expect(bad.ran).toEqual([]);
    const missing = record(fakeMachine());
    expect(await runDeploy(["destroy"], missing.deps)).toBe(2);
    expect(missing.err()).toMatch(
      /^destroy: which stack\? Name it: npm run destroy -- --stack dev \(stacks in this repository: dev, prod\)\nUsage: npm run destroy -- --stack NAME \[--forget-unreachable\] \[-- PULUMI_DESTROY_ARGS...\]/,
    );
    expect(missing.ran).toEqual([]);
  });

  test("--help (with or without a stack) prints options, examples and exit codes and runs nothing", async () => {
    for (const argv of [
      ["up", "--help"],
      ["up", "-h", "prod"],
    ]) {
      const help = record(fakeMachine());
      expect(await runDeploy(argv, help.deps)).toBe(0);
      expect(help.out()).toMatch(/^Usage: npm run deploy -- --stack NAME \[--my-ip\] \[-- PULUMI_UP_ARGS\.\.\.\]\n/);
      expect(help.out()).toMatch(/-s, --stack NAME +the stack to act on \(required; a bare first word works too\): dev, prod/);
      expect(help.out()).toMatch(/--my-ip +set adminCidrs\[0\] to this machine's public IPv4\/32/);
      expect(help.out()).toContain("pulumi up --policy-pack policy");
      expect(help.out()).toContain("Examples:\n  npm run deploy -- --stack dev --my-ip\n");
      expect(help.out()).toMatch(/Exit codes:\n  0 +pulumi up finished\n  2 +usage error or a failed check: nothing was run/);
      expect(help.ran).toEqual([]);
    }
    const destroy = record(fakeMachine());
    expect(await runDeploy(["destroy", "--help"], destroy.deps)).toBe(0);
    expect(destroy.out()).toMatch(
      /^Usage: npm run destroy -- --stack NAME \[--forget-unreachable\] \[-- PULUMI_DESTROY_ARGS\.\.\.\]/,
    );
    expect(destroy.out()).toMatch(
      /--forget-unreachable +when a host that destroy needs does not answer, forget its steps that run a delete/,
    );
    expect(destroy.out()).toMatch(
      /Exit codes:\n  0 +pulumi destroy finished\n  2 +usage error or a failed check: nothing was run.*\n  2 +a host that destroy needs does not answer, without --forget-unreachable: nothing was destroyed \(the command to re-run is shown\)\n/,
    );
    expect(destroy.out()).not.toContain("--my-ip");
  });

  test("package.json's scripts check the install, then call this tool", () => {
    const pkg = require(path.join(PROJECT_ROOT, "package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts.deploy).toBe("node tools/dev/checkInstall.js && tsx tools/deploy/deploy.ts up");
    expect(pkg.scripts.destroy).toBe("node tools/dev/checkInstall.js && tsx tools/deploy/deploy.ts destroy");
    expect(availableStacks()).toEqual(expect.arrayContaining(["dev", "prod"]));
  });
});

describe("the policy pack", () => {
  test("up installs the pack's dependencies from its lock file first when they are missing", async () => {
    const rec = record(fakeMachine({ files: new Set() }));
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(0);
    expect(rec.ran[0]).toEqual(["npm", "ci", "--prefix", "policy", "--no-audit", "--no-fund"]);
    expect(rec.out()).toContain("$ npm ci --prefix policy --no-audit --no-fund");
    expect(rec.ran.at(-1)).toEqual(["pulumi", "up", "--stack", "dev", "--policy-pack", "policy"]);
  });

  test("a failed install of the pack stops the deploy before pulumi runs", async () => {
    const rec = record(fakeMachine({ files: new Set(), exitCodes: { "npm ci --prefix": 1 } }));
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(1);
    expect(rec.err()).toContain("`npm ci --prefix policy --no-audit --no-fund` failed with exit code 1");
    expect(rec.ran.some((argv) => argv[0] === "pulumi")).toBe(false);
  });

  test("destroy does not run the pack, so does not need it", async () => {
    const rec = record(fakeMachine({ files: new Set() }));
    expect(await runDeploy(["destroy", "dev"], rec.deps)).toBe(0);
    expect(rec.ran.at(-1)).toEqual(["pulumi", "destroy", "--stack", "dev"]);
  });

  test("with it, up enforces it and installs nothing", async () => {
    const rec = record(fakeMachine({ files: new Set([POLICY_PACK_INSTALLED]) }));
    expect(await runDeploy(["up", "dev"], rec.deps)).toBe(0);
    expect(rec.ran.some((argv) => argv[0] === "npm")).toBe(false);
    expect(rec.ran.at(-1)).toEqual(["pulumi", "up", "--stack", "dev", "--policy-pack", "policy"]);
  });
});

describe("destroy: the hosts whose steps run a delete must answer, or their deletes are forgotten on request", () => {
  const COMMAND = "command:remote:Command";
  const SELECT = [
    ["pulumi", "login", "file://~"],
    ["pulumi", "stack", "select", "dev"],
  ];
  const deployed = (unreachable: string[] = []) =>
    fakeMachine({ outputs: STACK_OUTPUTS, exported: stateExport(), unreachable: new Set(unreachable) });
  const stateDelete = (name: string) => ["pulumi", "state", "delete", "--stack", "dev", "--yes", urnOf(COMMAND, name)];

  test("every host answers: plain pulumi destroy; the state is not exported", async () => {
    const rec = record(deployed());
    expect(await runDeploy(["destroy", "dev", "--", "--yes"], rec.deps)).toBe(0);
    expect(rec.ran).toEqual([...SELECT, ["pulumi", "destroy", "--stack", "dev", "--yes"]]);
    expect(rec.captured).toEqual([["pulumi", "stack", "output", "--json", "--stack", "dev"]]);
    expect(rec.probes).toEqual([`${FIRST_MANAGER_IP}:22/5000`, `${SPARK_MASTER_IP}:22/5000`]);
    expect(rec.out()).toContain(`aws-101 (${FIRST_MANAGER_IP}) and aws-105 (${SPARK_MASTER_IP}) answer on port 22`);
  });

  test("the outputs are read after login and stack selection (they come from the selected backend)", async () => {
    const order: string[] = [];
    const rec = record(deployed());
    const deps = {
      ...rec.deps,
      run: (argv: readonly string[]) => (order.push(`run ${argv.slice(0, 3).join(" ")}`), rec.deps.run(argv)),
      capture: (argv: readonly string[]) => (order.push(`capture ${argv.slice(0, 3).join(" ")}`), rec.deps.capture(argv)),
    };
    await runDeploy(["destroy", "dev"], deps);
    expect(order).toEqual([
      "run pulumi login file://~",
      "run pulumi stack select",
      "capture pulumi stack output",
      "run pulumi destroy --stack",
    ]);
  });

  test("the first manager is the first of managerAddresses and the Spark master's node the sparkmaster role, not fixed names", async () => {
    const outputs = {
      ...STACK_OUTPUTS,
      managerAddresses: ["10.0.1.102:2377", "10.0.1.101:2377"],
      nodes: {
        ...STACK_OUTPUTS.nodes,
        "aws-106": { ...STACK_OUTPUTS.nodes["aws-106"], role: "sparkmaster" },
        "aws-105": { ...STACK_OUTPUTS.nodes["aws-105"], role: "worker" },
      },
    };
    const rec = record(fakeMachine({ outputs }));
    expect(await runDeploy(["destroy", "dev"], rec.deps)).toBe(0);
    expect(rec.probes).toEqual([`${SECOND_MANAGER_IP}:22/5000`, `${WORKER_IP}:22/5000`]);
  });

  test("a stack without outputs (never deployed) is destroyed as before, without probing", async () => {
    const rec = record(fakeMachine());
    expect(await runDeploy(["destroy", "dev"], rec.deps)).toBe(0);
    expect(rec.ran).toEqual([...SELECT, ["pulumi", "destroy", "--stack", "dev"]]);
    expect(rec.probes).toEqual([]);
    expect(rec.out()).toContain(
      "Stack dev has no node outputs (never deployed, or only partly): destroying without the reachability check.",
    );
  });

  test("the Spark master's node does not answer: exit 2, the warning names the host, its delete and the kept volume; nothing destroyed", async () => {
    const rec = record(deployed([SPARK_MASTER_IP]));
    expect(await runDeploy(["destroy", "dev", "--", "--yes"], rec.deps)).toBe(2);
    expect(rec.ran).toEqual(SELECT);
    expect(rec.probes).toEqual([`${FIRST_MANAGER_IP}:22/5000`, `${SPARK_MASTER_IP}:22/5000`, `${SPARK_MASTER_IP}:22/5000`]);
    expect(rec.captured.map((c) => c[2])).toEqual(["output"]);
    const err = rec.err();
    expect(err).toContain(
      `aws-105 (${SPARK_MASTER_IP}, the Spark master's node) does not answer on port 22. Its delete — spark-volume — deletes the`,
    );
    expect(err).toContain("Forgetting it means the dataset is NOT deleted: its EBS volume stays");
    expect(err).toContain("(tag flocker-dataset-id, Name=flocker-<dataset id>) and costs money until you delete it by hand");
    expect(err).toContain(
      `aws ec2 describe-volumes --region us-east-1 --filters Name=tag:flocker-dataset-id,Values=${DATASET_ID}`,
    );
    expect(err).not.toContain("the first manager) does not answer");
    expect(err).toContain(
      "Nothing was destroyed. If the host is gone for good, forget its deletes and destroy the rest with:\n" +
        "  npm run destroy -- --stack dev --forget-unreachable -- --yes\n",
    );
  });

  test("the first manager does not answer: its deletes are named, and forgetting them loses nothing of value", async () => {
    const rec = record(deployed([FIRST_MANAGER_IP]));
    expect(await runDeploy(["destroy", "dev"], rec.deps)).toBe(2);
    expect(rec.err()).toContain(
      `aws-101 (${FIRST_MANAGER_IP}, the first manager) does not answer on port 22. Its deletes — swarm-member-*, swarm-label-*,`,
    );
    expect(rec.err()).toContain("forgetting them loses nothing of value: the swarm goes with the instances.");
    expect(rec.err()).toContain("  npm run destroy -- --stack dev --forget-unreachable\n");
    expect(rec.ran).toEqual(SELECT);
  });

  test("--forget-unreachable, Spark master's node gone: its dependents on the first manager are destroyed, spark-volume alone is forgotten, then the rest", async () => {
    const rec = record(deployed([SPARK_MASTER_IP]));
    expect(await runDeploy(["destroy", "dev", "--forget-unreachable", "--", "--yes"], rec.deps)).toBe(0);
    expect(rec.captured).toEqual([
      ["pulumi", "stack", "output", "--json", "--stack", "dev"],
      ["pulumi", "stack", "export", "--show-secrets", "--stack", "dev"],
    ]);
    expect(rec.ran).toEqual([
      ...SELECT,
      [
        "pulumi",
        "destroy",
        "--stack",
        "dev",
        ...["spark-master", "spark-worker", "spark-smoke"].flatMap((name) => ["--target", urnOf(COMMAND, name)]),
        "--yes",
      ],
      stateDelete("spark-volume"),
      ["pulumi", "destroy", "--stack", "dev", "--yes"],
    ]);
    expect(rec.out()).toContain(
      `--forget-unreachable: forgetting 1 step (their deletes will not run): spark-volume on ${SPARK_MASTER_IP}.`,
    );
    expect(rec.err()).toContain("the dataset is NOT deleted");
  });

  test("--forget-unreachable, first manager gone: exactly its steps with a delete, dependents first; the other hosts' steps are left to pulumi destroy", async () => {
    const rec = record(deployed([FIRST_MANAGER_IP]));
    expect(await runDeploy(["destroy", "dev", "--forget-unreachable"], rec.deps)).toBe(0);
    const forgotten = rec.ran.filter((argv) => argv[1] === "state").map((argv) => argv.at(-1));
    expect(forgotten.sort()).toEqual(
      ["spark-master", "spark-network", "spark-worker", "swarm-label-aws-105", "swarm-member-aws-105"]
        .map((n) => urnOf(COMMAND, n))
        .sort(),
    );
    // swarm-join-aws-105, the scripts copy (no delete) and flocker-plugin-aws-106 (another host) stay in the state.
    const position = (name: string) =>
      rec.ran.findIndex((argv) => argv.at(-1) === urnOf(COMMAND, name) || argv.includes(urnOf(COMMAND, name)));
    expect(position("spark-worker")).toBeLessThan(position("spark-master"));
    expect(position("spark-master")).toBeLessThan(position("spark-network"));
    expect(position("swarm-label-aws-105")).toBeLessThan(position("swarm-member-aws-105"));
    // spark-smoke (no delete) goes before the step it depends on is forgotten; spark-volume (on aws-105, which
    // answers) is destroyed for real once the services that use it are forgotten, before the label it needs.
    expect(rec.ran[2]).toEqual(["pulumi", "destroy", "--stack", "dev", "--target", urnOf(COMMAND, "spark-smoke")]);
    expect(position("spark-master")).toBeLessThan(position("spark-volume"));
    expect(rec.ran[position("spark-volume")]).toEqual([
      "pulumi",
      "destroy",
      "--stack",
      "dev",
      "--target",
      urnOf(COMMAND, "spark-volume"),
    ]);
    expect(position("spark-volume")).toBeLessThan(position("swarm-label-aws-105"));
    expect(rec.ran.at(-1)).toEqual(["pulumi", "destroy", "--stack", "dev"]);
    for (const kept of ["swarm-join-aws-105", "flocker-plugin-aws-106"]) expect(position(kept)).toBe(-1);
  });

  test("the state export's secrets never reach stdout or stderr", async () => {
    const rec = record(deployed([FIRST_MANAGER_IP, SPARK_MASTER_IP]));
    expect(await runDeploy(["destroy", "dev", "--forget-unreachable"], rec.deps)).toBe(0);
    for (const text of [rec.out(), rec.err(), JSON.stringify(rec.ran)]) {
      expect(text).not.toContain("PRIVATE KEY");
      expect(text).not.toContain(STATE_PRIVATE_KEY.split("\n")[1]);
      expect(text).not.toContain("v1:abc");
    }
    expect(rec.ran.filter((argv) => argv[1] === "state")).toHaveLength(6);
  });

  test("an export that is not JSON stops with a message that does not echo it; nothing forgotten or destroyed", async () => {
    const rec = record(fakeMachine({ outputs: STACK_OUTPUTS, exported: undefined, unreachable: new Set([SPARK_MASTER_IP]) }));
    const deps = {
      ...rec.deps,
      capture: (argv: readonly string[]) =>
        argv[2] === "export" ? { code: 0, stdout: `{"key": "${STATE_PRIVATE_KEY}` } : rec.deps.capture(argv),
    };
    expect(await runDeploy(["destroy", "dev", "--forget-unreachable"], deps)).toBe(2);
    expect(rec.err()).toContain(
      "deploy: cannot forget the deletes of aws-105: pulumi stack export printed something that is not JSON. Nothing was forgotten or destroyed",
    );
    expect(rec.err()).not.toContain("PRIVATE KEY");
    expect(rec.ran).toEqual(SELECT);
  });

  test("a failing state delete stops the run with its exit code, before pulumi destroy", async () => {
    const rec = record({ ...deployed([SPARK_MASTER_IP]), exitCodes: { "pulumi state delete": 255 } });
    expect(await runDeploy(["destroy", "dev", "--forget-unreachable"], rec.deps)).toBe(255);
    expect(rec.ran.at(-1)).toEqual(stateDelete("spark-volume"));
    expect(rec.err()).toContain("failed with exit code 255");
  });

  test("a host that answers on the second attempt is reachable", async () => {
    const rec = record(deployed());
    let calls = 0;
    const deps = { ...rec.deps, probe: async (host: string) => host !== SPARK_MASTER_IP || ++calls > 1 };
    expect(await runDeploy(["destroy", "dev"], deps)).toBe(0);
    expect(rec.ran.at(-1)).toEqual(["pulumi", "destroy", "--stack", "dev"]);
  });

  test("the real probe: a listening port answers, a closed one does not, a silent one times out", async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    expect(await probeTcp("127.0.0.1", port, 2000)).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await probeTcp("127.0.0.1", port, 2000)).toBe(false);
    const started = Date.now();
    expect(await probeTcp("192.0.2.1", 22, 300)).toBe(false); // TEST-NET-1: nothing answers there
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
