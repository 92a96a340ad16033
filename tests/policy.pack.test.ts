/**
 * The policy pack as the Pulumi CLI runs it: `run-policy-pack` compiles policy/index.ts with
 * ts-node (type-checked) in a child process, serves the analyzer over gRPC, and this test talks to
 * it the way the engine does (GetAnalyzerInfo, Analyze, AnalyzeStack), including the unknown
 * values of a preview. Nothing is imported from policy/index.ts in this process: its PolicyPack
 * constructor would start the server here.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../policy/policies";

const POLICY_DIR = path.join(__dirname, "..", "policy");
/** The pack's own @pulumi/pulumi (policy/node_modules after `npm ci --prefix policy`, else the root's). */
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [POLICY_DIR] }));
const fromPulumi = (request: string) => require(require.resolve(request, { paths: [PULUMI_DIR] }));
const grpc = fromPulumi("@grpc/grpc-js");
const analyzerPb = require(path.join(PULUMI_DIR, "proto", "analyzer_pb.js"));
const analyzerGrpc = require(path.join(PULUMI_DIR, "proto", "analyzer_grpc_pb.js"));
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb.js");

/** Pulumi's wire value of a string that is unknown during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const MANDATORY = 1; // pulumirpc.EnforcementLevel

const T = {
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  user: "aws:iam/user:User",
  key: "aws:iam/accessKey:AccessKey",
  ebs: "aws:ebs/encryptionByDefault:EncryptionByDefault",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
};
const urn = (type: string, name: string) => `urn:pulumi:dev::swarm-flocker::${type}::${name}`;

let pack: ChildProcess;
let client: any;
let stderr = "";

function call<R>(method: string, request: unknown): Promise<R> {
  return new Promise((resolve, reject) => client[method](request, (e: Error | null, r: R) => (e ? reject(e) : resolve(r))));
}

function withResource<M>(message: M & Record<string, any>, type: string, name: string, props: Record<string, unknown>): M {
  message.setType(type);
  message.setName(name);
  message.setUrn(urn(type, name));
  message.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props)))); // drops undefined
  const options = new analyzerPb.AnalyzerResourceOptions();
  options.setProtect(false);
  message.setOptions(options);
  return message;
}

interface Diagnostic {
  readonly policy: string;
  readonly mandatory: boolean;
  readonly message: string;
  readonly urn: string;
}

function diagnostics(response: any): Diagnostic[] {
  return response.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(),
    mandatory: d.getEnforcementlevel() === MANDATORY,
    message: d.getMessage(),
    urn: d.getUrn(),
  }));
}

async function analyze(type: string, name: string, props: Record<string, unknown>): Promise<Diagnostic[]> {
  return diagnostics(await call("analyze", withResource(new analyzerPb.AnalyzeRequest(), type, name, props)));
}

interface StackEntry {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  readonly propertyDependencies?: Record<string, string[]>;
}

async function analyzeStack(entries: readonly StackEntry[]): Promise<Diagnostic[]> {
  const request = new analyzerPb.AnalyzeStackRequest();
  request.setResourcesList(
    entries.map((e) => {
      const resource = withResource(new analyzerPb.AnalyzerResource(), e.type, e.name, e.props);
      const all = Object.values(e.propertyDependencies ?? {}).flat();
      resource.setDependenciesList([...new Set(all)]);
      for (const [key, urns] of Object.entries(e.propertyDependencies ?? {})) {
        const dependencies = new analyzerPb.AnalyzerPropertyDependencies();
        dependencies.setUrnsList(urns);
        resource.getPropertydependenciesMap().set(key, dependencies);
      }
      return resource;
    }),
  );
  return diagnostics(await call("analyzeStack", request));
}

beforeAll(async () => {
  const runner = path.join(PULUMI_DIR, "cmd", "run-policy-pack");
  // The engine address is not used until the engine calls back; the pack reads its own directory.
  pack = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
  pack.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.once("data", (chunk) => resolve(String(chunk).trim()));
    pack.once("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
  });
  expect(port).toMatch(/^\d+$/);
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

test("the pack serves every policy of `policies`, mandatory, under the package's name and version", async () => {
  const info: any = await call("getAnalyzerInfo", new Empty());
  const version = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")).version;
  expect(info.getName()).toBe("swarm-flocker");
  expect(info.getVersion()).toBe(version);
  const served = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
  expect(served).toEqual(policies.map((p) => [p.name, MANDATORY]));
  expect(stderr).toBe("");
});

test("preview: network rules run although security group ids are still unknown", async () => {
  const raft = {
    securityGroupId: UNKNOWN,
    referencedSecurityGroupId: UNKNOWN,
    ipProtocol: "tcp",
    fromPort: 2377,
    toPort: 2377,
    description: "Raft",
  };
  expect(await analyze(T.ingress, "raft", raft)).toEqual([]);

  const fromCidr = { ...raft, referencedSecurityGroupId: undefined, cidrIpv4: "0.0.0.0/0" };
  const found = await analyze(T.ingress, "raft", fromCidr);
  expect(found.map((d) => [d.policy, d.mandatory])).toEqual([
    ["no-public-ingress", true],
    ["cluster-ports-from-security-groups", true],
  ]);
  expect(found[1].message).toMatch(
    /ingress rule "raft" admits Swarm cluster management \(Raft\) \(2377\/tcp\) from 0\.0\.0\.0\/0/,
  );
});

test("preview: a policy document that is still unknown is deferred (advisory), not passed", async () => {
  const found = await analyze(T.userPolicy, "flocker", { user: UNKNOWN, policy: UNKNOWN });
  expect(found).toHaveLength(1);
  expect(found[0]).toMatchObject({ policy: "iam-least-privilege", mandatory: false });
  expect(found[0].message).toMatch(/can't run policy 'iam-least-privilege' .* during preview/);
});

test("stack: outputs with unknowns pass; an access key of an untagged user fails", async () => {
  const base: StackEntry[] = [
    { type: T.ebs, name: "ebs", props: { enabled: true } },
    { type: T.sg, name: "node", props: { description: "nodes", id: UNKNOWN, ingress: UNKNOWN, egress: UNKNOWN } },
    {
      type: T.ingress,
      name: "ssh",
      props: {
        securityGroupId: UNKNOWN,
        cidrIpv4: "203.0.113.10/32",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        description: "SSH",
      },
      propertyDependencies: { securityGroupId: [urn(T.sg, "node")] },
    },
    { type: T.user, name: "flocker", props: { name: "flocker-1a2b", tags: { Purpose: "flocker-ebs-backend" } } },
    { type: T.user, name: "ci", props: { name: "ci-3c4d", tags: {} } },
  ];
  const key = (user: string): StackEntry => ({
    type: T.key,
    name: "key",
    props: { user: `${user}-x` },
    propertyDependencies: { user: [urn(T.user, user)] },
  });
  expect(await analyzeStack([...base, key("flocker")])).toEqual([]);
  const found = await analyzeStack([...base, key("ci")]);
  expect(found).toEqual([
    expect.objectContaining({ policy: "access-keys-only-for-flocker-user", mandatory: true, urn: urn(T.key, "key") }),
  ]);
  expect(found[0].message).toMatch(/access key "key" belongs to IAM user "ci", which is not tagged Purpose=flocker-ebs-backend/);
});
