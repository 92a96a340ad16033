/**
 * A small IAM evaluator for the policy documents the stack writes: enough of AWS's logic
 * (Action/Resource globs, the condition operators the documents use, IfExists, ForAllValues,
 * explicit Deny) to ask "would AWS allow this request?" in a test. Operators it does not know make
 * it throw, so a document cannot pass by using something the tests never evaluate.
 */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface IamRequest {
  readonly action: string;
  /** Every resource the call touches (AttachVolume: the volume and the instance), each with its own context. */
  readonly resources: readonly { readonly arn: string; readonly context?: Record<string, string | readonly string[]> }[];
  /** Context keys of the request itself (aws:RequestTag/…, aws:TagKeys, ec2:VolumeSize …). */
  readonly context?: Record<string, string | readonly string[]>;
}

const list = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

function glob(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, caseInsensitive ? "i" : "").test(text);
}

function conditionHolds(
  operator: string,
  key: string,
  expected: readonly string[],
  context: Record<string, string | readonly string[]>,
): boolean {
  const present = key in context;
  const actual = present ? list(context[key]) : [];
  const ifExists = operator.endsWith("IfExists");
  const base = operator.replace(/IfExists$/, "");
  if (ifExists && !present) return true;
  switch (base) {
    case "Null":
      return (expected[0] === "true") === !present;
    case "StringEquals":
      return present && actual.some((value) => expected.includes(value));
    case "StringLike":
      return present && actual.some((value) => expected.some((pattern) => glob(pattern, value, false)));
    case "NumericLessThanEquals":
      return present && actual.some((value) => expected.some((limit) => Number(value) <= Number(limit)));
    case "ForAllValues:StringEquals":
      return actual.every((value) => expected.includes(value));
    default:
      throw new Error(`the test evaluator does not know the condition operator ${operator}`);
  }
}

function statementMatches(
  statement: IamStatement,
  action: string,
  arn: string,
  context: Record<string, string | readonly string[]>,
): boolean {
  if (!list(statement.Action).some((pattern) => glob(pattern, action, true))) return false;
  if (!list(statement.Resource).some((pattern) => glob(pattern, arn, false))) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => conditionHolds(operator, key, list(expected), context)),
  );
}

/** True when the statements allow the request on every resource it touches and deny it on none. */
export function isAllowed(statements: readonly IamStatement[], request: IamRequest): boolean {
  return request.resources.every(({ arn, context }) => {
    const merged = { ...request.context, ...context };
    const matching = statements.filter((s) => statementMatches(s, request.action, arn, merged));
    return matching.some((s) => s.Effect === "Allow") && !matching.some((s) => s.Effect === "Deny");
  });
}
