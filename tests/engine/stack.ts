/**
 * The stack the engine tier deploys: the dev stack, shrunk to six nodes (three managers, the
 * Flocker control node, the Spark master's node, one worker) and run under mocks with real key
 * material (runProgram's realCrypto), so that the nodes' sshd accepts the stack's own SSH key and
 * the Flocker stand-ins check the stack's own certificates. The engine nodes take the instances'
 * names and private addresses; a step's connection host (the mock's public address of an
 * instance) maps to the node of that instance.
 */
import { runProgram, type ProgramRun } from "../../tools/plan/mockRuntime";
import { qualifiedConfigKey, readStackConfig } from "../../tools/common/stackConfig";
import type { EngineNodeSpec } from "./nodes";

/** The test cluster: bare config keys over the dev stack. */
const ENGINE_STACK_OVERRIDES: Readonly<Record<string, string>> = {
  nodeCount: "6",
  managerCount: "3",
  sparkWorkerReplicas: "1",
};

interface NodeOutput {
  readonly publicIp: string;
  readonly privateIp: string;
}

/** One evaluation of the program for the engine (one per jest file: Pulumi's runtime is global). */
export async function engineProgramRun(overrides: Readonly<Record<string, string>> = {}): Promise<ProgramRun> {
  const config = readStackConfig("dev");
  for (const [key, value] of Object.entries({ ...ENGINE_STACK_OVERRIDES, ...overrides })) config[qualifiedConfigKey(key)] = value;
  return runProgram({ stack: "dev", config, realCrypto: true });
}

function nodesOf(run: ProgramRun): Record<string, NodeOutput> {
  return run.outputs.nodes as Record<string, NodeOutput>;
}

/** The engine nodes that stand for the run's instances: their names and private addresses. */
export function nodeSpecs(run: ProgramRun): EngineNodeSpec[] {
  return Object.entries(nodesOf(run)).map(([name, node]) => ({ name, ip: node.privateIp }));
}

/** A connection host (an instance's public address under mocks) → the address of its engine node. */
export function addressMap(run: ProgramRun): (host: string) => string {
  const byPublic = new Map(Object.values(nodesOf(run)).map((node) => [node.publicIp, node.privateIp]));
  return (host) => {
    const address = byPublic.get(host);
    if (address === undefined) throw new Error(`no engine node stands for the connection host ${host}`);
    return address;
  };
}

/** The node name whose instance has this public address. */
export function nodeNamed(run: ProgramRun, publicIp: string): string {
  const found = Object.entries(nodesOf(run)).find(([, node]) => node.publicIp === publicIp);
  if (found === undefined) throw new Error(`no node has the public address ${publicIp}`);
  return found[0];
}

/** The stack's SSH public key, as its ssh-key steps install it (OpenSSH format). */
export function stackPublicKey(run: ProgramRun): string {
  const step = run.resources.find((r) => r.type === "command:local:Command" && /-ssh-key$/.test(r.name));
  const key = (step?.inputs.environment as Record<string, string> | undefined)?.PUBLIC_KEY;
  if (key === undefined) throw new Error("the run has no ssh-key step with a PUBLIC_KEY");
  return key;
}

export function sshUser(run: ProgramRun): string {
  return String(run.outputs.sshUser);
}
