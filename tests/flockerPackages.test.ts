/**
 * Package-source trust in packages mode (lib/flockerPackages.ts, config/secretConfig.ts): what the
 * validator lets through, how an apt line with credentials is split for the node (source line on
 * stdin, the password only in an auth.conf entry), which .deb files leave the operator's machine,
 * and that a secret source never shows in an error message. The program runs that prove it end to
 * end are in flockerPackages.program.test.ts and flockerDebs.program.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../config/load";
import { validateConfig } from "../config/validate";
import {
  flockerPackageEnv,
  flockerPackageStdin,
  remoteDebDir,
  selectFlockerDebs,
  splitAptCredentials,
} from "../lib/flockerPackages";
import { remoteScriptsDir } from "../lib/remotePaths";

const PASSWORD = "s3cr3t-Pa55";
const WITH_CREDENTIALS = `deb [trusted=yes] https://deploy:${PASSWORD}@repo.example.com/flocker/16.04 /`;

describe("an apt line with credentials is split: the line for sources.list, the password for auth.conf", () => {
  test("user and password leave the URI and become one auth.conf entry", () => {
    expect(splitAptCredentials(WITH_CREDENTIALS)).toEqual({
      line: "deb [trusted=yes] https://repo.example.com/flocker/16.04 /",
      auth: `machine repo.example.com/flocker/16.04 login deploy password ${PASSWORD}`,
    });
  });

  test("percent-encoded credentials are decoded (apt's auth.conf takes them literally); a port stays in the machine", () => {
    expect(splitAptCredentials("deb https://ci%40corp:p%3Ass@repo.example.com:8443/debs/ xenial main")).toEqual({
      line: "deb https://repo.example.com:8443/debs/ xenial main",
      auth: "machine repo.example.com:8443/debs login ci@corp password p:ss",
    });
  });

  test("a line without credentials stays as it is", () => {
    expect(splitAptCredentials("deb [trusted=yes] https://repo.example.com/f /")).toEqual({
      line: "deb [trusted=yes] https://repo.example.com/f /",
    });
  });
});

describe("what flocker-packages.sh gets", () => {
  test("apt mode: no source in the environment (the command line); the source, and its credentials apart, on stdin", () => {
    const source = { kind: "apt", aptSource: WITH_CREDENTIALS, allowUnsigned: true } as const;
    const env = flockerPackageEnv(source, "ubuntu");
    expect(env).toEqual({
      FLOCKER_PACKAGE_SOURCE: "apt",
      FLOCKER_APT_KEYRING: "/etc/apt/keyrings/flocker.gpg",
      FLOCKER_APT_KEY: "",
      FLOCKER_APT_ALLOW_UNSIGNED: "true",
      FLOCKER_PACKAGES: "clusterhq-python-flocker clusterhq-flocker-node clusterhq-flocker-docker-plugin",
    });
    expect(JSON.stringify(env)).not.toContain("repo.example.com");
    expect(flockerPackageStdin(source)).toBe(
      `deb [trusted=yes] https://repo.example.com/flocker/16.04 /\nmachine repo.example.com/flocker/16.04 login deploy password ${PASSWORD}\n`,
    );
  });

  test("deb mode: a fixed directory beside scripts/, whatever the local directory is called, and nothing on stdin", () => {
    for (const local of ["/tmp/flocker-debs/", "./scripts", "/home/me/scripts"]) {
      const source = { kind: "debs", debDir: local } as const;
      expect(flockerPackageEnv(source, "ubuntu")).toMatchObject({
        FLOCKER_PACKAGE_SOURCE: "deb",
        FLOCKER_DEB_DIR: "/home/ubuntu/.swarm-flocker/flocker-debs",
      });
      expect(flockerPackageStdin(source)).toBeUndefined();
    }
    expect(remoteDebDir("root")).toBe("/root/.swarm-flocker/flocker-debs");
    expect(remoteDebDir("ubuntu")).not.toBe(remoteScriptsDir("ubuntu"));
    expect(remoteScriptsDir("ubuntu").startsWith(`${remoteDebDir("ubuntu")}/`)).toBe(false);
  });
});

test("selectFlockerDebs takes one .deb per package, the newest, and nothing else of the directory", () => {
  const names = [
    ".env",
    ".clusterhq-flocker-node_9.9.9-1_all.deb",
    "id_rsa",
    "notes.txt",
    "clusterhq-python-flocker_1.15.0-1_amd64.deb",
    "clusterhq-flocker-node_1.9.2-1_all.deb",
    "clusterhq-flocker-node_1.15.0-1_all.deb",
    "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb",
    "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb.sig",
    "clusterhq-flocker-cli_1.15.0-1_all.deb",
  ];
  expect(selectFlockerDebs(names)).toEqual([
    { pkg: "clusterhq-python-flocker", file: "clusterhq-python-flocker_1.15.0-1_amd64.deb" },
    { pkg: "clusterhq-flocker-node", file: "clusterhq-flocker-node_1.15.0-1_all.deb" },
    { pkg: "clusterhq-flocker-docker-plugin", file: "clusterhq-flocker-docker-plugin_1.15.0-1_all.deb" },
  ]);
});

describe("the validator and credentials in an apt source (the trust rule itself: aptSource.test.ts)", () => {
  const problems = (aptSource: string, extra: Record<string, string> = {}) =>
    validateConfig({
      project: "swarm-flocker",
      stack: "prod",
      region: "us-east-1",
      values: {
        adminCidrs: '["203.0.113.10/32"]',
        flockerInstall: "packages",
        flockerAptSource: aptSource,
        flockerAptAllowUnsigned: "true",
        ...extra,
      },
    }).problems.map((p) => p.message);

  test("credentials over https pass", () => {
    expect(problems(WITH_CREDENTIALS)).toEqual([]);
  });

  test.each([
    [
      `deb [trusted=yes] http://deploy:${PASSWORD}@repo.example.com/flocker /`,
      "sets trusted=yes over plain http",
      "carries credentials in a plain http URI: apt would send them in clear text; use https://",
    ],
    [
      "deb [trusted=yes] https://deploy:two%20words@repo.example.com/flocker /",
      "has credentials with spaces or # in them",
      undefined,
    ],
  ])("%s is refused", (line, reason, second) => {
    const found = problems(line);
    expect(found).toHaveLength(second === undefined ? 1 : 2);
    expect(found[0]).toContain(`flockerAptSource: ${JSON.stringify(line)} ${reason}`);
    if (second !== undefined) expect(found[1]).toContain(second);
  });
});

describe("loading the configuration: secrets are detected, kept out of messages, and required for credentials", () => {
  const KEY = "swarm-flocker:flockerAptSource";
  const base = {
    "aws:region": "us-east-1",
    "swarm-flocker:adminCidrs": '["203.0.113.10/32"]',
    "swarm-flocker:flockerInstall": "packages",
    "swarm-flocker:flockerAptAllowUnsigned": "true",
  };

  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) },
      "swarm-flocker",
      "prod",
      false,
    );
  });

  function loadWith(aptSource: string, secret: boolean): { error?: string } {
    pulumi.runtime.setAllConfig({ ...base, [KEY]: aptSource }, secret ? [KEY] : []);
    try {
      loadConfig();
      return {};
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  test("a secret source with credentials loads", () => {
    expect(loadWith(WITH_CREDENTIALS, true)).toEqual({});
  });

  test("credentials in a source stored in plain text are refused, without repeating them", () => {
    const { error } = loadWith(WITH_CREDENTIALS, false);
    expect(error).toContain(
      "flockerAptSource holds credentials in its URL but is stored in plain text: set it as a secret, pulumi config set --secret flockerAptSource",
    );
    expect(error).not.toContain(PASSWORD);
  });

  test("an archive mirror with credentials in plain text is refused too; as a secret it loads", () => {
    const mirror = `https://deploy:${PASSWORD}@mirror.corp.example/ubuntu`;
    const mirrorKey = "swarm-flocker:ubuntuArchiveMirror";
    const load = (secret: boolean) => {
      pulumi.runtime.setAllConfig(
        { ...base, [KEY]: "deb [trusted=yes] https://repo.example.com/f /", [mirrorKey]: mirror },
        secret ? [mirrorKey] : [],
      );
      try {
        loadConfig();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const error = load(false);
    expect(error).toContain(
      "ubuntuArchiveMirror holds credentials in its URL but is stored in plain text: set it as a secret, pulumi config set --secret ubuntuArchiveMirror",
    );
    expect(error).not.toContain(PASSWORD);
    expect(load(true)).toBeUndefined();
  });

  test("a secret source the validator refuses is named, its value is not", () => {
    const bad = `deb [trusted=yes] http://deploy:${PASSWORD}@packages.corp.example/flocker /`;
    const { error } = loadWith(bad, true);
    expect(error).toContain("flockerAptSource: [secret] carries credentials in a plain http URI");
    expect(error).not.toContain(PASSWORD);
    expect(error).not.toContain("packages.corp.example");
    // The same line in plain text is shown as it is (and refused for its credentials too).
    expect(loadWith(bad, false).error).toContain("packages.corp.example");
  });
});
