/**
 * Before `npm run destroy` runs `pulumi destroy`: do the hosts whose steps run a delete answer?
 * Only two do (docs/operations.md, "Teardown, and deletes that finish"): the first manager and the
 * Spark master's node. When one is gone, each of its deletes would fail after 8 SSH dials, so this
 * names what would be left undone and, when the operator agrees, forgets exactly those steps in
 * the state (`pulumi state delete`) so that the destroy finishes.
 *
 * The state export holds secrets (the SSH key in every step's connection): it is parsed here in
 * memory and nothing of it but URNs, step names and addresses is ever printed.
 */
import * as net from "net";
import type { BookStackOutputValues, StackOutputValues } from "../../lib/stackOutputs";

/** A host destroy needs, with why. */
export interface NeededHost {
  readonly node: string;
  readonly publicIp: string;
  readonly duty: "first-manager" | "spark-master";
}

export type DestroyOutputs = Pick<StackOutputValues, "nodes" | "managerAddresses"> &
  Partial<Pick<BookStackOutputValues, "flockerStatus">>;

/** The outputs `pulumi stack output --json` printed, or undefined when they do not say where the nodes are. */
export function parseDestroyOutputs(stdout: string): DestroyOutputs | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const outputs = value as Partial<DestroyOutputs> | null;
  if (outputs === null || typeof outputs !== "object") return undefined;
  if (typeof outputs.nodes !== "object" || outputs.nodes === null || !Array.isArray(outputs.managerAddresses)) {
    return undefined;
  }
  return outputs as DestroyOutputs;
}

/**
 * The first manager (the first of managerAddresses, by private address) and the node with the
 * Spark master's role (lib/topology.ts), each once.
 */
export function neededHosts(outputs: DestroyOutputs): NeededHost[] {
  const nodes = Object.entries(outputs.nodes);
  const firstManagerIp = outputs.managerAddresses[0]?.split(":")[0];
  const hosts: NeededHost[] = [];
  const firstManager = nodes.find(([, node]) => node.swarmRole === "manager" && node.privateIp === firstManagerIp);
  if (firstManager) hosts.push({ node: firstManager[0], publicIp: firstManager[1].publicIp, duty: "first-manager" });
  const sparkMaster = nodes.find(([, node]) => node.role === "sparkmaster");
  if (sparkMaster) hosts.push({ node: sparkMaster[0], publicIp: sparkMaster[1].publicIp, duty: "spark-master" });
  return hosts;
}

/** One resource of `pulumi stack export`'s `deployment.resources`. */
interface ExportedResource {
  readonly urn: string;
  readonly type: string;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly deletedWith?: string;
}

/** A step whose delete would dial an unreachable host. */
export interface ForgottenStep {
  readonly urn: string;
  readonly name: string;
  readonly host: string;
}

/**
 * What to do before the final `pulumi destroy`, in order. `pulumi state delete` refuses a resource
 * that others still depend on, so the dependents of a forgotten step go first: forgotten too when
 * their delete also dials a gone host, else destroyed for real (`pulumi destroy --target`; their
 * deletes run on hosts that answer, or connect nowhere).
 */
export type ForgetAction =
  { readonly kind: "forget"; readonly step: ForgottenStep } | { readonly kind: "destroy"; readonly urns: readonly string[] };

export interface ForgetPlan {
  readonly steps: readonly ForgottenStep[];
  readonly actions: readonly ForgetAction[];
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** `--show-secrets` writes a secret as `{ <sig>: <sig value>, plaintext: "<JSON of the value>" }`. */
function revealed(value: unknown): unknown {
  if (value !== null && typeof value === "object" && (value as Record<string, unknown>)[SECRET_SIG] === SECRET_SIG_VALUE) {
    const plaintext = (value as { plaintext?: unknown }).plaintext;
    if (typeof plaintext !== "string") return undefined;
    try {
      return JSON.parse(plaintext);
    } catch {
      return undefined;
    }
  }
  return value;
}

function field(bag: Record<string, unknown> | undefined, key: string): unknown {
  return bag === undefined ? undefined : revealed(bag[key]);
}

function hostOf(resource: ExportedResource): string | undefined {
  for (const bag of [resource.inputs, resource.outputs]) {
    const connection = field(bag, "connection") as { host?: unknown } | undefined;
    const host = revealed(connection?.host);
    if (typeof host === "string" && host !== "") return host;
  }
  return undefined;
}

/**
 * Only a remote Command with a `delete` connects on destroy: pulumi-command's Command.Delete
 * returns at once without one, and CopyToRemote has no delete at all. Forgetting the others would
 * gain nothing and would need their many dependents forgotten too.
 */
function deleteDials(resource: ExportedResource): boolean {
  if (resource.type !== "command:remote:Command") return false;
  const command = field(resource.outputs, "delete") ?? field(resource.inputs, "delete");
  return typeof command === "string" && command.trim() !== "";
}

function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Every URN a resource needs to outlive it (what `pulumi state delete` counts as depending). */
function needs(resource: ExportedResource): string[] {
  return [
    ...(resource.dependencies ?? []),
    ...Object.values(resource.propertyDependencies ?? {}).flat(),
    ...(resource.parent ? [resource.parent] : []),
    ...(resource.deletedWith ? [resource.deletedWith] : []),
  ];
}

/** `pulumi stack export --show-secrets`'s resources; throws when the document is of another shape. */
export function parseExport(stdout: string): ExportedResource[] {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    // Never echo the document: it holds the stack's secrets.
    throw new Error("pulumi stack export printed something that is not JSON");
  }
  const resources = (value as { deployment?: { resources?: unknown } } | null)?.deployment?.resources;
  if (resources === undefined) return []; // a stack that never had resources
  if (!Array.isArray(resources)) throw new Error("pulumi stack export has no deployment.resources list");
  return resources as ExportedResource[];
}

/** The steps whose delete runs on one of `unreachable` (addresses), and the order that forgets them. */
export function forgetPlan(resources: readonly ExportedResource[], unreachable: ReadonlySet<string>): ForgetPlan {
  const forgotten = resources.filter((r) => deleteDials(r) && unreachable.has(hostOf(r) ?? ""));
  const forgottenUrns = new Set(forgotten.map((r) => r.urn));
  const dependentsOf = new Map<string, string[]>();
  for (const resource of resources) {
    for (const needed of new Set(needs(resource))) dependentsOf.set(needed, [...(dependentsOf.get(needed) ?? []), resource.urn]);
  }

  const left = new Set<string>();
  const queue = [...forgottenUrns];
  while (queue.length > 0) {
    const urn = queue.pop()!;
    if (left.has(urn)) continue;
    left.add(urn);
    queue.push(...(dependentsOf.get(urn) ?? []));
  }

  const stepOf = (urn: string): ForgottenStep => ({
    urn,
    name: nameOf(urn),
    host: hostOf(forgotten.find((r) => r.urn === urn)!)!,
  });
  const actions: ForgetAction[] = [];
  const inStateOrder = (urns: Iterable<string>) => resources.map((r) => r.urn).filter((urn) => new Set(urns).has(urn));
  while ([...left].some((urn) => forgottenUrns.has(urn))) {
    const ready = [...left].filter((urn) => !(dependentsOf.get(urn) ?? []).some((d) => left.has(d)));
    if (ready.length === 0) throw new Error("the state's dependencies form a cycle");
    const readyToForget = ready.filter((urn) => forgottenUrns.has(urn));
    // Forgetting costs nothing; a real destroy only when nothing can be forgotten yet, and then of
    // everything that no step still to be forgotten depends on (one `pulumi destroy` orders them).
    const batch =
      readyToForget.length > 0
        ? readyToForget
        : [...left].filter((urn) => !forgottenUrns.has(urn) && !reaches(urn, dependentsOf, left, forgottenUrns));
    for (const urn of batch) left.delete(urn);
    if (readyToForget.length > 0)
      actions.push(...inStateOrder(batch).map((urn) => ({ kind: "forget" as const, step: stepOf(urn) })));
    else actions.push({ kind: "destroy", urns: inStateOrder(batch) });
  }
  return {
    steps: actions.flatMap((a) => (a.kind === "forget" ? [a.step] : [])),
    actions,
  };
}

/** True when a dependent of `urn`, transitively within `among`, is one of `targets`. */
function reaches(
  urn: string,
  dependentsOf: ReadonlyMap<string, readonly string[]>,
  among: ReadonlySet<string>,
  targets: ReadonlySet<string>,
): boolean {
  const seen = new Set<string>();
  const queue = [...(dependentsOf.get(urn) ?? [])];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next) || !among.has(next)) continue;
    if (targets.has(next)) return true;
    seen.add(next);
    queue.push(...(dependentsOf.get(next) ?? []));
  }
  return false;
}

/** Connects to host:port; true when a TCP connection is accepted within `timeoutMs`. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export const SSH_PORT = 22;
export const PROBE_TIMEOUT_MS = 5_000;
export const PROBE_ATTEMPTS = 2;

/** True when any of `attempts` probes answers. */
export async function answers(
  probe: (host: string, port: number, timeoutMs: number) => Promise<boolean>,
  host: string,
): Promise<boolean> {
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt += 1) {
    if (await probe(host, SSH_PORT, PROBE_TIMEOUT_MS)) return true;
  }
  return false;
}

/** What is left undone when a host's deletes are forgotten. */
export function consequences(host: NeededHost, outputs: DestroyOutputs, region: string | undefined): string[] {
  if (host.duty === "first-manager") {
    return [
      `  ${host.node} (${host.publicIp}, the first manager) does not answer on port 22. Its deletes — swarm-member-*, swarm-label-*,`,
      "  spark-network, spark-master and spark-worker — remove nodes, labels, services and the network from the swarm;",
      "  forgetting them loses nothing of value: the swarm goes with the instances.",
    ];
  }
  const datasets = (outputs.flockerStatus?.datasets ?? []).map((d) => d.datasetId);
  const regionFlag = region ? ` --region ${region}` : "";
  const lines = [
    `  ${host.node} (${host.publicIp}, the Spark master's node) does not answer on port 22. Its delete — spark-volume — deletes the`,
    "  Flocker dataset through the control API. Forgetting it means the dataset is NOT deleted: its EBS volume stays",
    "  (tag flocker-dataset-id, Name=flocker-<dataset id>) and costs money until you delete it by hand:",
  ];
  const ids = datasets.length > 0 ? datasets : ["<id from pulumi stack output flockerStatus>"];
  for (const id of ids) {
    lines.push(`    aws ec2 describe-volumes${regionFlag} --filters Name=tag:flocker-dataset-id,Values=${id}`);
  }
  lines.push(`    aws ec2 delete-volume${regionFlag} --volume-id <vol-…>   # once its instance is terminated`);
  return lines;
}
