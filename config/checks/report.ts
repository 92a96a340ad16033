/**
 * How checks report problems, and the readers of Pulumi's text values for integers and booleans.
 */

/** Records one problem: the key, the value exactly as given (undefined when unset) and the reason. */
export type Report = (key: string, value: string | undefined, reason: string) => void;

export interface IntegerRule {
  readonly min: number;
  readonly max: number;
  /** What is allowed, in words, e.g. "use a whole number from 3 to 200". */
  readonly allowed: string;
}

export function readInteger(key: string, text: string, rule: IntegerRule, report: Report): number | undefined {
  if (!/^-?\d+$/.test(text)) {
    report(key, text, `is not a whole number: ${rule.allowed}`);
    return undefined;
  }
  const value = Number(text);
  if (value < rule.min || value > rule.max) {
    report(key, text, `is not allowed: ${rule.allowed}`);
    return undefined;
  }
  return value;
}

export function readBoolean(key: string, text: string, report: Report): boolean | undefined {
  if (text === "true" || text === "false") return text === "true";
  report(key, text, "is not allowed: use true or false");
  return undefined;
}
