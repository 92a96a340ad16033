/**
 * Runs the policy pack's policies on resources recorded by tools/plan/mockRuntime.ts, without the
 * Pulumi engine (docs/testing.md): builds the ResourceValidationArgs and
 * StackValidationArgs the analyzer would, and collects the violations each policy reports.
 *
 * Differences from the engine, on purpose and documented: `props` are the recorded inputs for stack
 * policies too (the engine passes outputs there), and `propertyDependencies` is whatever the test
 * supplies (the recorder keeps resource-level `dependencies` only), so stack policies fall back to
 * `dependencies` when linking resources under mocks.
 */
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "../../policy/policies";

/** What the builders need of a resource: a RecordedResource fits, and so does a crafted one. */
export interface ResourceLike {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly parent?: string;
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  /** Per-input dependencies (URNs), as the engine records them. @default {} */
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly options?: {
    readonly protect?: boolean;
    readonly ignoreChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly additionalSecretOutputs?: readonly string[];
    readonly customTimeouts?: { create?: string; update?: string; delete?: string };
  };
}

export type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

export interface Violation {
  readonly policy: string;
  readonly message: string;
  readonly urn?: string;
}

class NotApplicable extends Error {}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "not applicable");
}

/** "1h30m", "10m", "45s" → seconds (0 when unset or unparsable), as PolicyCustomTimeouts wants. */
function seconds(duration?: string): number {
  if (!duration) return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, value, unit] of duration.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) total += Number(value) * units[unit];
  return total;
}

function typeTest(type: string) {
  return (cls: unknown): boolean => (cls as { __pulumiType?: string } | undefined)?.__pulumiType === type;
}

function options(r: ResourceLike) {
  const o = r.options ?? {};
  return {
    protect: o.protect ?? false,
    ignoreChanges: [...(o.ignoreChanges ?? [])],
    deleteBeforeReplace: o.deleteBeforeReplace,
    aliases: [],
    customTimeouts: {
      createSeconds: seconds(o.customTimeouts?.create),
      updateSeconds: seconds(o.customTimeouts?.update),
      deleteSeconds: seconds(o.customTimeouts?.delete),
    },
    additionalSecretOutputs: [...(o.additionalSecretOutputs ?? [])],
    parent: r.parent,
  };
}

function resourceArgs(r: ResourceLike): ResourceValidationArgs {
  const props = r.inputs as Record<string, any>;
  const isType = typeTest(r.type);
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    opts: options(r),
    stackTags: new Map(),
    isType: isType as ResourceValidationArgs["isType"],
    asType: ((cls: unknown) => (isType(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
}

/** The stack as the analyzer presents it: parents, dependencies and property dependencies as objects. */
function stackArgs(resources: readonly ResourceLike[]): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  const built = resources.map((r) => {
    const props = r.inputs as Record<string, any>;
    const isType = typeTest(r.type);
    const resource: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: r.name,
      opts: options(r),
      dependencies: [],
      propertyDependencies: {},
      isType: isType as PolicyResource["isType"],
      asType: ((cls: unknown) => (isType(cls) ? props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(r.urn, resource);
    return { r, resource };
  });
  const resolve = (urns: readonly string[]) =>
    urns.map((urn) => byUrn.get(urn)).filter((x): x is PolicyResource => x !== undefined);
  for (const { r, resource } of built) {
    if (r.parent && byUrn.has(r.parent)) resource.parent = byUrn.get(r.parent);
    resource.dependencies = resolve(r.dependencies);
    for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) resource.propertyDependencies[key] = resolve(urns);
  }
  return {
    resources: built.map((b) => b.resource),
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable,
  };
}

export function isStackPolicy(policy: AnyPolicy): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

/** Violations one resource policy reports for one resource ("not applicable" reports none). */
async function validateResource(policy: ResourceValidationPolicy, r: ResourceLike): Promise<Violation[]> {
  const violations: Violation[] = [];
  const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
  for (const validate of validations) {
    try {
      await validate(resourceArgs(r), (message) => violations.push({ policy: policy.name, message, urn: r.urn }));
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
  return violations;
}

/** Violations one stack policy reports for a stack. */
async function validateStack(policy: StackValidationPolicy, resources: readonly ResourceLike[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  try {
    await policy.validateStack(stackArgs(resources), (message, urn) => violations.push({ policy: policy.name, message, urn }));
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
  return violations;
}

/**
 * Every policy on a stack, as `pulumi preview --policy-pack` would run them: resource policies on
 * every resource, stack policies once. Returns the violations of each policy by name (every policy
 * present, with an empty list when it passed).
 */
export async function validateAll(
  policies: readonly AnyPolicy[],
  resources: readonly ResourceLike[],
): Promise<Record<string, Violation[]>> {
  const result: Record<string, Violation[]> = {};
  for (const policy of policies) {
    if (isStackPolicy(policy)) {
      result[policy.name] = await validateStack(policy, resources);
    } else {
      const found: Violation[] = [];
      for (const r of resources) found.push(...(await validateResource(policy, r)));
      result[policy.name] = found;
    }
  }
  return result;
}

/** Only the policies that reported something. */
export function fired(result: Record<string, Violation[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(result)
      .filter(([, violations]) => violations.length > 0)
      .map(([name, violations]) => [name, violations.map((v) => v.message)]),
  );
}

/** A deep copy of a resource under a new name (and URN), with its inputs changed by `edit`. */
export function variant<R extends ResourceLike>(
  r: R,
  edit: (inputs: Record<string, any>) => void,
  changes: Partial<Omit<ResourceLike, "inputs">> = {},
): ResourceLike {
  const inputs = structuredClone(r.inputs) as Record<string, any>;
  edit(inputs);
  const name = changes.name ?? r.name;
  const urn = changes.urn ?? (name === r.name ? r.urn : r.urn.replace(/::[^:]+$/, `::${name}`));
  // Re-wired dependencies replace the recorded wiring: the recorded per-property dependencies
  // would still name the original resources (and the policies prefer them).
  const rewired = changes.dependencies !== undefined && changes.propertyDependencies === undefined;
  return { ...r, ...changes, name, urn, inputs, ...(rewired ? { propertyDependencies: undefined } : {}) };
}
