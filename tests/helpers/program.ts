/**
 * Queries over a recorded program run (tools/plan/mockRuntime.ts), so tests read like the behaviour
 * they check: "the join of aws-103 waits for the join of aws-102".
 */
import { parse } from "shell-quote";
import { isSecretWire, type ProgramRun, type RecordedResource } from "../../tools/plan/mockRuntime";

export const TYPES = {
  instance: "aws:ec2/instance:Instance",
  command: "command:remote:Command",
  copy: "command:remote:CopyToRemote",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
  locallySigned: "tls:index/locallySignedCert:LocallySignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  uuid: "random:index/randomUuid:RandomUuid",
  accessKey: "aws:iam/accessKey:AccessKey",
  userPolicy: "aws:iam/userPolicy:UserPolicy",
  iamUser: "aws:iam/user:User",
  ebsEncryption: "aws:ebs/encryptionByDefault:EncryptionByDefault",
  keyPair: "aws:ec2/keyPair:KeyPair",
} as const;

export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export function named(run: ProgramRun, name: string): RecordedResource {
  const matches = run.resources.filter((r) => r.name === name);
  if (matches.length !== 1) throw new Error(`expected one resource named ${name}, found ${matches.length}`);
  return matches[0];
}

export function maybeNamed(run: ProgramRun, name: string): RecordedResource | undefined {
  return run.resources.find((r) => r.name === name);
}

/** True when `dependent` waits directly for `dependency` (an edge the engine receives). */
export function waitsFor(run: ProgramRun, dependent: string, dependency: string): boolean {
  return named(run, dependent).dependencies.includes(named(run, dependency).urn);
}

/** True when `dependent` waits for `dependency` directly or through other resources. */
export function waitsTransitivelyFor(run: ProgramRun, dependent: string, dependency: string): boolean {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const target = named(run, dependency).urn;
  const seen = new Set<string>();
  const stack = [...named(run, dependent).dependencies];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (urn === target) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    stack.push(...(byUrn.get(urn)?.dependencies ?? []));
  }
  return false;
}

/**
 * The nearest resources among `resource`'s dependencies (direct, or through resources that are not
 * targets) that are targets: the steps a step waits for, seen through components and AWS resources.
 */
export function nearestAncestors(
  byUrn: ReadonlyMap<string, RecordedResource>,
  resource: RecordedResource,
  isTarget: (dependency: RecordedResource | undefined) => boolean,
): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const stack = [...resource.dependencies];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const dependency = byUrn.get(urn);
    if (isTarget(dependency)) found.add(urn);
    else stack.push(...(dependency?.dependencies ?? []));
  }
  return [...found];
}

/** The `create` command line of a remote step. */
export function createOf(run: ProgramRun, name: string): string {
  return String(named(run, name).inputs.create);
}

/** A step's command line split into words the way the node's shell splits it. */
export function wordsOf(commandLine: string): string[] {
  return parse(commandLine).map((token) => {
    if (typeof token !== "string") throw new Error(`unexpected shell operator in ${commandLine}`);
    return token;
  });
}

/** Environment assignments given to `env` on a step's command line, e.g. { SWARM_ROLE: "manager" }. */
export function envOf(commandLine: string): Record<string, string> {
  const words = wordsOf(commandLine);
  const env: Record<string, string> = {};
  for (const word of words.slice(words.indexOf("env") + 1)) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(word);
    if (!match) break;
    env[match[1]] = match[2];
  }
  return env;
}

/** Paths (resource.input.path) where `needle` occurs outside a secret value. */
export function plainOccurrences(value: unknown, needle: string, where: string): string[] {
  if (isSecretWire(value)) return [];
  if (typeof value === "string") return value.includes(needle) ? [where] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => plainOccurrences(v, needle, `${where}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => plainOccurrences(v, needle, `${where}.${k}`));
  }
  return [];
}
