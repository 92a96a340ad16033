/**
 * .github/workflows: parsed with `yaml` and checked against what the deploy needs — triggers, a
 * matrix over every stack in the repository, only real inputs of pulumi/actions, previews on pull
 * requests with a comment, `up` only on main behind an environment, one update per stack at a time,
 * and secrets referenced by name and documented — and against what keeps secrets from untrusted
 * code: no trigger that runs a fork's code with secrets, secrets only in environments (a pull
 * request's only in `preview-<stack>`, which has required reviewers), never for forks, least token
 * permissions per job, checkout without persisted credentials, every action pinned to a commit.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { readRawStackConfig } from "../tools/deploy/deployPreflight";
import { PROJECT_ROOT, availableStacks, projectName } from "../tools/common/stackConfig";

/**
 * The actions the workflows may use, each pinned to the commit its release tag pointed to when it
 * was pinned (read from the action's repository: `git rev-parse <tag>^{commit}`). A tag can be
 * moved by whoever controls the action's repository; a commit cannot.
 */
const PINNED_ACTIONS: Readonly<Record<string, { sha: string; tag: string }>> = {
  "actions/checkout": { sha: "11d5960a326750d5838078e36cf38b85af677262", tag: "v4.4.0" },
  "actions/setup-node": { sha: "49933ea5288caeca8642d1e84afbd3f7d6820020", tag: "v4.4.0" },
  "aws-actions/configure-aws-credentials": { sha: "7474bc4690e29a8392af63c5b98e7449536d5c3a", tag: "v4.3.1" },
  "pulumi/actions": { sha: "8582a9e8cc630786854029b4e09281acd6794b58", tag: "v6.6.1" },
};

/**
 * Every input of pulumi/actions v6.6.1 (its action.yml). A name outside this list is silently
 * ignored by the action, e.g. `configMap` (v3's spelling) or `stack` instead of `stack-name`.
 */
const PULUMI_ACTION_INPUTS = new Set([
  "exclude",
  "exclude-dependents",
  "continue-on-error",
  "log-verbosity",
  "log-flow",
  "debug",
  "output",
  "command",
  "stack-name",
  "pulumi-version",
  "pulumi-version-file",
  "work-dir",
  "comment-on-pr",
  "comment-on-pr-number",
  "comment-on-summary",
  "edit-pr-comment",
  "github-token",
  "cloud-url",
  "secrets-provider",
  "parallel",
  "message",
  "config-map",
  "expect-no-changes",
  "diff",
  "replace",
  "target",
  "target-dependents",
  "policyPacks",
  "policyPackConfigs",
  "refresh",
  "upsert",
  "remove",
  "color",
  "exclude-protected",
  "plan",
  "suppress-outputs",
  "suppress-progress",
  "always-include-summary",
]);
const PULUMI_ACTION_COMMANDS = new Set(["up", "update", "preview", "refresh", "destroy", "output"]);
/** The inputs of aws-actions/configure-aws-credentials v4.3.1 this repository may use (no stored keys). */
const CONFIGURE_AWS_INPUTS = new Set([
  "aws-region",
  "role-to-assume",
  "role-session-name",
  "role-duration-seconds",
  "role-external-id",
  "role-skip-session-tagging",
  "audience",
  "mask-aws-account-id",
  "output-credentials",
  "unset-current-credentials",
]);
/** The secrets the workflows may use, each documented in the file's header comment. */
const DOCUMENTED_SECRETS = ["AWS_ROLE_ARN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"];

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  if?: string;
  env?: Record<string, string>;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean | string } | string;
  strategy?: {
    matrix?: { include?: Array<Record<string, string>>; stack?: string[] };
    "max-parallel"?: number;
    "fail-fast"?: boolean;
  };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const WORKFLOW_DIR = path.join(PROJECT_ROOT, ".github", "workflows");
const files = fs.readdirSync(WORKFLOW_DIR).filter((f) => /\.ya?ml$/.test(f));
const sources = Object.fromEntries(files.map((f) => [f, fs.readFileSync(path.join(WORKFLOW_DIR, f), "utf8")]));
const workflows = Object.fromEntries(files.map((f) => [f, YAML.parse(sources[f]) as Workflow]));
const allJobs = Object.entries(workflows).flatMap(([file, wf]) =>
  Object.entries(wf.jobs).map(([id, job]) => ({ file, id, job, wf })),
);
const pulumiSteps = allJobs.flatMap(({ file, id, job }) =>
  job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@")).map((step) => ({ file, id, job, step })),
);
const stepsWith = (command: string) => pulumiSteps.filter(({ step }) => step.with?.command === command);
const stacks = availableStacks();
/** The stacks whose secrets no pull request's code may ever run with (the header names them too). */
const PRODUCTION_STACKS = ["prod"];
const nonProductionStacks = stacks.filter((stack) => !PRODUCTION_STACKS.includes(stack));

function matrixRows(job: Job): Array<Record<string, string>> {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [];
  if (matrix.include) return matrix.include;
  return (matrix.stack ?? []).map((stack) => ({ stack }));
}

test("the workflow files parse, and there is at least one preview and one up", () => {
  expect(files.length).toBeGreaterThan(0);
  expect(stepsWith("preview").length).toBeGreaterThan(0);
  expect(stepsWith("up").length).toBeGreaterThan(0);
});

test("triggers: pull requests, pushes to main, and a manual run (the previews of every stack)", () => {
  const triggers = Object.values(workflows).map((wf) => wf.on);
  expect(triggers.some((on) => "pull_request" in on)).toBe(true);
  expect(triggers.some((on) => "workflow_dispatch" in on)).toBe(true);
  expect(triggers.some((on) => (on.push as { branches?: string[] } | undefined)?.branches?.includes("main"))).toBe(true);
});

test("tests run on both events: checkout, setup-node 20 with the npm cache, bash .ci/run", () => {
  const testJobs = allJobs.filter(({ job }) => job.steps.some((s) => s.run?.trim() === "bash .ci/run"));
  expect(testJobs.length).toBeGreaterThan(0);
  for (const { job } of testJobs) {
    expect(job.if).toBeUndefined();
    const uses = job.steps.map((s) => s.uses?.split("@")[0]);
    expect(uses.indexOf("actions/checkout")).toBeLessThan(uses.indexOf("actions/setup-node"));
    const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
    expect(String(node.with?.["node-version"])).toBe("20");
    expect(node.with?.cache).toBe("npm");
  }
  const testIds = testJobs.map(({ id }) => id);
  for (const { job } of pulumiSteps) expect([job.needs].flat()).toContain(testIds[0]);
  expect(pulumiSteps.every(({ id }) => !testIds.includes(id))).toBe(true);
});

describe.each(["preview", "up"])("every %s job", (command) => {
  const jobs = stepsWith(command);

  test("runs a matrix over exactly the stacks that have a Pulumi.<stack>.yaml (a pull request's: the non-production ones), with each stack's own region", () => {
    for (const { job } of jobs) {
      const rows = matrixRows(job);
      expect(rows.map((r) => r.stack).sort()).toEqual(runsOnPullRequests(job) ? nonProductionStacks : stacks);
      for (const row of rows) {
        const region = readRawStackConfig(PROJECT_ROOT, row.stack)?.["aws:region"];
        const aws = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
        expect(aws.with?.["aws-region"]).toBe("${{ matrix.region }}");
        expect([row.stack, row.region]).toEqual([row.stack, region]);
      }
    }
  });

  test("names the stack organization/<project>/<stack>, the DIY backend's fully qualified form", () => {
    for (const { step } of jobs) expect(step.with?.["stack-name"]).toBe(`organization/${projectName()}/\${{ matrix.stack }}`);
  });

  test("installs the root's and the policy pack's dependencies, then assumes the AWS role through OIDC, before Pulumi", () => {
    for (const { job, step } of jobs) {
      const at = (predicate: (s: Step) => boolean) => job.steps.findIndex(predicate);
      const pulumi = job.steps.indexOf(step);
      const npmCi = at((s) => /^npm ci\b(?!.*--prefix)/.test(s.run ?? ""));
      const policyCi = at((s) => /^npm ci\b.*--prefix policy\b/.test(s.run ?? ""));
      const aws = at((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true);
      expect(npmCi).toBeGreaterThanOrEqual(0);
      expect(policyCi).toBeGreaterThanOrEqual(0);
      expect(aws).toBeGreaterThanOrEqual(0);
      expect(Math.max(npmCi, policyCi, aws)).toBeLessThan(pulumi);
      const awsWith = job.steps[aws].with ?? {};
      expect(awsWith["role-to-assume"]).toBe("${{ secrets.AWS_ROLE_ARN }}");
      expect(awsWith["aws-access-key-id"]).toBeUndefined();
      for (const key of Object.keys(awsWith)) expect([key, CONFIGURE_AWS_INPUTS.has(key)]).toEqual([key, true]);
      expect(job.permissions?.["id-token"]).toBe("write");
      expect(job.permissions?.contents).toBe("read");
    }
  });

  test("points Pulumi at the shared backend (cloud-url and PULUMI_BACKEND_URL) with the passphrase, runs the policy pack, never upserts", () => {
    for (const { step } of jobs) {
      expect(step.with?.["cloud-url"]).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
      // Pulumi.yaml's backend.url (file://~) beats `pulumi login`; only the variable overrides it.
      expect(step.env?.PULUMI_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
      expect(step.env?.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
      expect(step.with?.policyPacks).toBe("policy");
      expect(String(step.with?.upsert ?? "false")).toBe("false");
    }
  });

  test("never cancels a run in progress, and stays within one stack's group", () => {
    for (const { job } of jobs) {
      expect(typeof job.concurrency).toBe("object");
      const concurrency = job.concurrency as { group: string; "cancel-in-progress"?: boolean };
      expect(concurrency.group).toMatch(/^pulumi-\$\{\{ matrix\.stack \}\}/);
      expect(concurrency["cancel-in-progress"]).toBe(false);
    }
  });
});

test("pulumi/actions steps pass only real inputs, and a real command", () => {
  expect(pulumiSteps.length).toBeGreaterThan(0);
  for (const { file, id, step } of pulumiSteps) {
    for (const key of Object.keys(step.with ?? {}))
      expect([file, id, key, PULUMI_ACTION_INPUTS.has(key)]).toEqual([file, id, key, true]);
    expect(PULUMI_ACTION_COMMANDS.has(String(step.with?.command))).toBe(true);
    expect(step.with?.["stack-name"]).toBeTruthy();
  }
});

test("a pull request's previews: this repository's pull requests only, from preview-<stack>, no production stack", () => {
  const prPreviews = stepsWith("preview").filter(({ job }) => runsOnPullRequests(job));
  expect(prPreviews.length).toBeGreaterThan(0);
  for (const { job } of prPreviews) {
    expect(job.if).toMatch(/github\.event_name == 'pull_request'/);
    expect(job.if).toMatch(/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    expect(job.environment).toBe("preview-${{ matrix.stack }}");
    expect(matrixRows(job).filter((row) => PRODUCTION_STACKS.includes(row.stack))).toEqual([]);
  }
});

test("every stack, prod included, is previewed from main only: a manual run whose job checks the ref", () => {
  const mainPreviews = stepsWith("preview").filter(({ job }) => !runsOnPullRequests(job));
  expect(mainPreviews.length).toBeGreaterThan(0);
  for (const { job } of mainPreviews) {
    expect(job.if).toMatch(/github\.event_name == 'workflow_dispatch'/);
    expect(job.if).toMatch(/github\.ref == 'refs\/heads\/main'/);
    expect(job.if).not.toMatch(/\|\|/);
    expect(job.environment).toBe("preview-${{ matrix.stack }}");
  }
  const previewed = mainPreviews.flatMap(({ job }) => matrixRows(job).map((row) => row.stack));
  for (const stack of PRODUCTION_STACKS) expect(previewed).toContain(stack);
});

test("no preview output reaches a pull request: no step comments on one, no job may write to pull requests", () => {
  for (const { file, id, step } of pulumiSteps) {
    expect([file, id, String(step.with?.["comment-on-pr"] ?? "false")]).toEqual([file, id, "false"]);
    expect(step.with?.["comment-on-pr-number"]).toBeUndefined();
  }
  for (const { id, job } of allJobs) expect([id, job.permissions?.["pull-requests"]]).toEqual([id, undefined]);
});

/**
 * The header's row for one environment under "Environments": the line that lists it (alone or as
 * `dev, prod`) and its continuation lines, up to the next environment or the end of the list.
 */
function environmentRow(header: string, environment: string): string {
  const lines = header.split("\n");
  const rowStart = /^#\s{5}(\S[\w, -]*?)\s{2,}/;
  const at = lines.findIndex((line) => rowStart.exec(line)?.[1].split(/,\s*/).includes(environment));
  if (at < 0) return "";
  const end = lines.findIndex((line, i) => i > at && (rowStart.test(line) || !/^#\s{20,}/.test(line)));
  return lines.slice(at, end < 0 ? undefined : end).join("\n");
}

test("the header names the production stacks, and limits every environment holding their secrets to main", () => {
  for (const [file, source] of Object.entries(sources)) {
    const header = source.slice(0, source.search(/^name:/m));
    const named = /^# Production stacks: ([^.]+)\.$/m.exec(header)?.[1].split(/,\s*/);
    expect([file, named?.sort()]).toEqual([file, [...PRODUCTION_STACKS].sort()]);
    for (const stack of PRODUCTION_STACKS) {
      expect(stacks).toContain(stack);
      for (const environment of [`preview-${stack}`, stack]) {
        expect([file, environment, environmentRow(header, environment).includes("limited to `main`")]).toEqual([
          file,
          environment,
          true,
        ]);
      }
    }
  }
});

test("up runs only on a push to main, behind the environment named after the stack, one stack at a time", () => {
  for (const { job } of stepsWith("up")) {
    expect(job.if).toMatch(/github\.event_name == 'push'/);
    expect(job.if).toMatch(/github\.ref == 'refs\/heads\/main'/);
    expect(job.environment).toBe("${{ matrix.stack }}");
    expect(job.concurrency).toEqual({ group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
    expect(job.permissions?.["pull-requests"]).toBeUndefined();
    expect(job.strategy?.["max-parallel"]).toBe(1);
    expect(matrixRows(job)[0].stack).toBe("dev");
  }
  // Nothing else may update a stack: destroy and refresh are for operators.
  expect(pulumiSteps.every(({ step }) => ["preview", "up"].includes(String(step.with?.command)))).toBe(true);
});

test("the workflow token has no rights unless a job asks for them", () => {
  for (const wf of Object.values(workflows)) expect(wf.permissions).toEqual({});
});

test("secrets are referenced by name, and every one is documented in the header comment", () => {
  for (const [file, source] of Object.entries(sources)) {
    const referenced = new Set([...source.matchAll(/\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g)].map((m) => m[1]));
    expect([...referenced].sort()).toEqual(DOCUMENTED_SECRETS);
    expect(source).not.toMatch(/secrets\[/);
    const header = source.slice(0, source.search(/^name:/m));
    for (const secret of DOCUMENTED_SECRETS)
      expect([file, secret, new RegExp(`^#\\s+${secret}\\s`, "m").test(header)]).toEqual([file, secret, true]);
    // No literal credentials.
    expect(source).not.toMatch(/AKIA[0-9A-Z]{16}|arn:aws:iam::\d{12}:role/);
  }
});

describe("the secrets check that opens every Pulumi job", () => {
  const checks = pulumiSteps.map(({ job, step }) => {
    const at = job.steps.findIndex((s) => s.name === "Check the secrets this job needs");
    return { job, at, pulumiAt: job.steps.indexOf(step) };
  });
  const run = (script: string, env: Record<string, string>) =>
    spawnSync("bash", ["-e", "-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8" });

  test("comes before anything else that needs them", () => {
    for (const { job, at, pulumiAt } of checks) {
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(pulumiAt);
      expect(job.steps[at].env).toEqual(Object.fromEntries(DOCUMENTED_SECRETS.map((name) => [name, `\${{ secrets.${name} }}`])));
    }
  });

  test("names every missing secret, refuses a file:// backend, passes a complete set", () => {
    const script = checks[0].job.steps[checks[0].at].run!;
    for (const { job, at } of checks) expect(job.steps[at].run).toBe(script);
    const none = run(script, {});
    expect(none.status).toBe(1);
    for (const name of DOCUMENTED_SECRETS) expect(none.stdout).toContain(`::error::The secret ${name} is not set`);
    const local = run(script, { AWS_ROLE_ARN: "arn", PULUMI_BACKEND_URL: "file://~", PULUMI_CONFIG_PASSPHRASE: "p" });
    expect(local.status).toBe(1);
    expect(local.stdout).toContain("must name a shared backend");
    expect(run(script, { AWS_ROLE_ARN: "arn", PULUMI_BACKEND_URL: "s3://state", PULUMI_CONFIG_PASSPHRASE: "p" }).status).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Secrets and untrusted code.

/** Every `uses:` line of a workflow, with what follows `@` and the comment after it. */
function usesLines(source: string): { action: string; ref: string; comment: string }[] {
  return [...source.matchAll(/^\s*(?:-\s+)?uses:\s*([^@\s]+)@(\S+)[ \t]*(?:#[ \t]*(.*))?$/gm)].map((m) => ({
    action: m[1],
    ref: m[2],
    comment: (m[3] ?? "").trim(),
  }));
}

const referencesSecrets = (value: unknown) => /\$\{\{\s*secrets\./.test(JSON.stringify(value ?? {}));
/**
 * True unless the job's `if` holds it to pushes or manual runs. Conservative: a job with no `if`, or
 * one that names pull_request anywhere, counts as running a pull request's code.
 */
const runsOnPullRequests = (job: Job) =>
  /pull_request/.test(job.if ?? "") || !/github\.event_name == '(push|workflow_dispatch)'/.test(job.if ?? "");

test("no trigger runs a fork's code with this repository's secrets", () => {
  for (const wf of Object.values(workflows)) {
    for (const trigger of ["pull_request_target", "workflow_run", "issue_comment"])
      expect([trigger, trigger in wf.on]).toEqual([trigger, false]);
  }
});

test("every action is pinned to a full commit SHA, with its release tag in a comment, as listed in PINNED_ACTIONS", () => {
  const all = Object.values(sources).flatMap(usesLines);
  expect(all.length).toBe(allJobs.reduce((n, { job }) => n + job.steps.filter((s) => s.uses !== undefined).length, 0));
  for (const { action, ref, comment } of all) {
    expect([action, ref]).toEqual([action, PINNED_ACTIONS[action]?.sha]);
    expect([action, comment]).toEqual([action, PINNED_ACTIONS[action].tag]);
    expect(ref).toMatch(/^[0-9a-f]{40}$/);
  }
});

test("actions/checkout never leaves the token in .git/config", () => {
  const checkouts = allJobs.flatMap(({ job }) => job.steps.filter((s) => s.uses?.startsWith("actions/checkout@")));
  expect(checkouts.length).toBe(allJobs.length);
  for (const step of checkouts) expect(step.with?.["persist-credentials"]).toBe(false);
});

describe("every job asks for the least token permissions", () => {
  test.each(allJobs.map(({ id, job }) => [id, job] as const))("%s", (_id, job) => {
    const logsInToAws = job.steps.some(
      (s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") && s.with?.["role-to-assume"],
    );
    const commentsOnPr = job.steps.some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.["comment-on-pr"] === true);
    const expected: Record<string, string> = { contents: "read" };
    if (logsInToAws) expected["id-token"] = "write";
    if (commentsOnPr) expected["pull-requests"] = "write";
    expect(job.permissions).toEqual(expected);
  });
});

describe("secrets reach only jobs in an environment, and only the steps that need them", () => {
  test.each(allJobs.filter(({ job }) => referencesSecrets(job)).map(({ id, job }) => [id, job] as const))("%s", (_id, job) => {
    expect(job.environment).toBeDefined();
    expect(referencesSecrets(job.env)).toBe(false);
    for (const step of job.steps.filter((s) => s.run !== undefined && /\bnpm\b|\.ci\/run/.test(s.run))) {
      expect([step.run, referencesSecrets(step.env)]).toEqual([step.run, false]);
    }
  });

  test("no job that runs a pull request's code can name a production stack's environment", () => {
    const prJobs = allJobs.filter(({ job }) => runsOnPullRequests(job));
    expect(prJobs.length).toBeGreaterThan(0);
    for (const { id, job } of prJobs) {
      const environment = typeof job.environment === "object" ? job.environment.name : job.environment;
      const reached =
        matrixRows(job).length > 0
          ? matrixRows(job).map((row) => environment?.replace("${{ matrix.stack }}", row.stack))
          : [environment];
      for (const stack of PRODUCTION_STACKS) {
        expect([id, reached.filter((e) => e === stack || e === `preview-${stack}`)]).toEqual([id, []]);
      }
      for (const stack of PRODUCTION_STACKS) {
        expect({ id, names: new RegExp(`\\b${stack}\\b`).test(JSON.stringify(job)) }).toEqual({ id, names: false });
      }
    }
  });

  test("the test job, which runs every pull request's code (forks included), gets no secrets", () => {
    const tests = allJobs.filter(({ job }) => job.steps.some((s) => s.run?.trim() === "bash .ci/run"));
    expect(tests.length).toBeGreaterThan(0);
    for (const { job } of tests) {
      expect(referencesSecrets(job)).toBe(false);
      expect(job.environment).toBeUndefined();
    }
  });
});

test("a pull request's code gets secrets only from preview-<stack> (required reviewers), never for forks, never a deploy environment", () => {
  const prJobs = allJobs.filter(({ job }) => referencesSecrets(job) && runsOnPullRequests(job));
  expect(prJobs.length).toBeGreaterThan(0);
  for (const { file, job } of prJobs) {
    expect(job.if).toMatch(/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
    expect(job.environment).toBe("preview-${{ matrix.stack }}");
    // The header tells the maintainer to protect each of those environments with required reviewers.
    const header = sources[file].slice(0, sources[file].search(/^name:/m));
    const environments = matrixRows(job).map((row) => `preview-${row.stack}`);
    const line = header.split("\n").find((l) => environments.every((e) => l.includes(e)));
    expect(line).toMatch(/required reviewers/);
  }
  // Deployments (the stack's own environment) run on pushes to main only, i.e. on merged code.
  const deployments = allJobs.filter(({ job }) => job.environment === "${{ matrix.stack }}");
  expect(deployments.length).toBeGreaterThan(0);
  for (const { job } of deployments) expect(runsOnPullRequests(job)).toBe(false);
});

test("the instructions rule out repository-level secrets: each is an environment secret", () => {
  for (const source of Object.values(sources)) {
    const header = source.slice(0, source.search(/^name:/m));
    expect(header).toMatch(/as ENVIRONMENT\s+#\s+secrets\. Do not add them as repository secrets/);
  }
});
