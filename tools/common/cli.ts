/**
 * The command-line convention of every `npm run` tool (plan, deploy, destroy, status, ssh):
 * - the stack as `--stack NAME` (`-s NAME`) or as a bare first word (`npm run plan -- prod`);
 * - tools that act on real infrastructure require it; the offline plan defaults to dev and says so;
 * - strict parsing: an unknown option is refused with the closest known one, an option given twice
 *   is refused, and so is a long option written with one dash (`-stack prod`, which Node's parser
 *   reads as `-s tack`); a stack without a Pulumi.<stack>.yaml gets the same answer in every tool;
 * - `--help` with examples and the exit codes; 2 for a usage error (nothing was run), with the
 *   right form suggested;
 * - output that can be piped into `head`: a closed pipe ends the tool quietly.
 */
import { parseArgs } from "util";
import { distance } from "fastest-levenshtein";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
/** A usage error or a failed precondition: nothing was run. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

/** Pulumi's rule for a stack name (letters, digits, `-`, `_`, `.`). */
export const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The tool refuses to run without it; the synopsis shows it without brackets. @default optional */
  readonly required?: true;
  /** Placeholder of the value in the help, e.g. "KEY=VALUE". */
  readonly value?: string;
  readonly description: string;
}

export interface ToolSpec {
  /** The npm script: `npm run <name>`. */
  readonly name: string;
  /** One line: what the tool does. */
  readonly summary: string;
  /** "required" for tools that act on real infrastructure; otherwise the stack used when none is named. */
  readonly stack: { readonly required: true } | { readonly required: false; readonly default: string };
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Words after the stack (ssh: NODE [COMMAND...]). @default none */
  readonly operands?: { readonly synopsis: string; readonly min: number; readonly max: number };
  /** What the words after `--` are: `to` names their receiver in messages ("pulumi up"). @default nothing may follow `--` */
  readonly passThrough?: { readonly to: string; readonly synopsis: string; readonly description: string };
  readonly description: readonly string[];
  readonly examples: readonly string[];
  readonly exitCodes: ReadonlyArray<readonly [number | string, string]>;
}

export interface CommandLine {
  readonly help: boolean;
  /** "" only with --help. */
  readonly stack: string;
  /** True when the stack was not named and the tool's default was taken. */
  readonly stackDefaulted: boolean;
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly operands: readonly string[];
  readonly passThrough: readonly string[];
}

const STACK_OPTION: OptionSpec = { type: "string", short: "s", value: "NAME", description: "" };
const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "this text" };

function synopsis(spec: ToolSpec): string {
  const stack = spec.stack.required ? "--stack NAME" : "[--stack NAME]";
  const options = Object.entries(spec.options).map(([name, o]) => {
    const option = `--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}${o.multiple ? " ..." : ""}`;
    return o.required ? option : `[${option}]`;
  });
  const operands = spec.operands ? [spec.operands.synopsis] : [];
  const passThrough = spec.passThrough ? [`[-- ${spec.passThrough.synopsis}]`] : [];
  return `npm run ${spec.name} -- ${[stack, ...options, ...operands, ...passThrough].join(" ")}`;
}

/** The `--help` text. */
export function helpText(spec: ToolSpec, knownStacks: readonly string[]): string {
  const stackLine = spec.stack.required
    ? `the stack to act on (required; a bare first word works too): ${knownStacks.join(", ")}`
    : `the stack (a bare first word works too): ${knownStacks.join(", ")}; default ${spec.stack.default}`;
  const rows: Array<[string, string]> = [
    ["-s, --stack NAME", stackLine],
    ...Object.entries(spec.options).map(([name, o]): [string, string] => [
      `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`,
      o.description,
    ]),
    ["-h, --help", HELP_OPTION.description],
  ];
  if (spec.passThrough) rows.push([`-- ${spec.passThrough.synopsis}`, spec.passThrough.description]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `Usage: ${synopsis(spec)}`,
    "",
    spec.summary,
    ...(spec.description.length > 0 ? ["", ...spec.description] : []),
    "",
    "Options:",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    "",
    "Examples:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
    "Exit codes:",
    ...spec.exitCodes.map(([code, meaning]) => `  ${String(code).padEnd(6)}${meaning}`),
    "",
  ].join("\n");
}

/** The closest known word within two edits, for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Node's parser messages, made to name the right form. */
function explainParseError(spec: ToolSpec, error: unknown, knownStacks: readonly string[]): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown !== undefined) {
    const bare = unknown.replace(/^-+/, "");
    const names = ["stack", "help", ...Object.keys(spec.options)];
    const guess = closest(bare, names);
    if (knownStacks.includes(bare)) {
      return new UsageError(`unknown option ${unknown}: name a stack with --stack ${bare} (or just ${bare})`);
    }
    if (guess !== undefined) return new UsageError(`unknown option ${unknown}: did you mean --${guess}?`);
    if (spec.passThrough) {
      return new UsageError(
        `unknown option ${unknown}: options for ${spec.passThrough.to} go after a second \`--\`, as in npm run ${spec.name} -- --stack dev -- ${unknown}`,
      );
    }
    return new UsageError(`unknown option ${unknown} (options: ${names.map((n) => `--${n}`).join(", ")})`);
  }
  const missing = /Option '(?:-\w, )?--([\w-]+) <value>' argument missing/.exec(message)?.[1];
  if (missing !== undefined) {
    const value = missing === "stack" ? (knownStacks[0] ?? "dev") : (spec.options[missing]?.value ?? "VALUE");
    return new UsageError(`--${missing} needs a value, as in --${missing} ${value}`);
  }
  return new UsageError(message);
}

/**
 * Parses a tool's arguments by the convention. Throws UsageError with the message to print.
 * `knownStacks` are the stacks with a Pulumi.<stack>.yaml; a bare first word is the stack when it
 * is one of them, or when the tool takes no other words.
 */
export function parseCommandLine(spec: ToolSpec, argv: readonly string[], knownStacks: readonly string[]): CommandLine {
  const options = { stack: STACK_OPTION, help: HELP_OPTION, ...spec.options };
  refuseSingleDashLongOptions(argv, options);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [
          name,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw explainParseError(spec, error, knownStacks);
  }
  const { tokens } = parsed;
  refuseGluedShortValues(tokens, argv, options);
  refuseRepeatedOptions(tokens, argv, options);
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  // parseArgs lists the words after `--` among the positionals too; the terminator splits them.
  const terminator = tokens.find((t) => t.kind === "option-terminator")?.index ?? Infinity;
  const words: string[] = [];
  const passThrough: string[] = [];
  for (const token of tokens) if (token.kind === "positional") (token.index < terminator ? words : passThrough).push(token.value);

  const help = values.help === true;
  const named = typeof values.stack === "string" ? values.stack : undefined;
  const takesOperands = spec.operands !== undefined;
  let stack = named;
  if (stack === undefined && words.length > 0 && (!takesOperands || knownStacks.includes(words[0]))) stack = words.shift();
  else if (stack !== undefined && !takesOperands && words.length > 0 && words[0] === stack) words.shift();
  if (help) return { help, stack: stack ?? "", stackDefaulted: false, values, operands: words, passThrough };

  if (passThrough.length > 0 && !spec.passThrough) {
    throw new UsageError(`nothing goes after \`--\` here (got ${passThrough.join(" ")})`);
  }
  const example = `npm run ${spec.name} -- --stack ${knownStacks[0] ?? "dev"}${spec.operands ? ` ${spec.operands.synopsis.split(" ")[0]}` : ""}`;
  if (!takesOperands && words.length > 0) {
    throw new UsageError(
      named !== undefined
        ? `one stack at a time: got --stack ${named} and ${words.map((w) => `"${w}"`).join(", ")}${spec.passThrough ? `; arguments for ${spec.passThrough.to} go after \`--\`` : ""}`
        : `one stack at a time: got ${[stack, ...words].map((w) => `"${w}"`).join(", ")}${spec.passThrough ? `; arguments for ${spec.passThrough.to} go after \`--\`` : ""}`,
    );
  }
  let stackDefaulted = false;
  if (stack === undefined) {
    if (spec.stack.required) {
      const hint = takesOperands && words.length > 0 && !knownStacks.includes(words[0]) ? ` ("${words[0]}" is not a stack)` : "";
      throw new UsageError(
        `which stack? Name it${hint}: ${example} (stacks in this repository: ${knownStacks.join(", ") || "none"})`,
      );
    }
    stack = spec.stack.default;
    stackDefaulted = true;
  }
  if (!STACK_NAME.test(stack)) {
    throw new UsageError(`"${stack}" is not a stack name (letters, digits, "-", "_" and "." only)`);
  }
  if (!knownStacks.includes(stack)) throw new UsageError(unknownStackMessage(stack, knownStacks));
  const missingOption = Object.entries(spec.options).find(([name, o]) => o.required && values[name] === undefined);
  if (missingOption !== undefined) {
    const [name, o] = missingOption;
    throw new UsageError(`--${name} is required, as in npm run ${spec.name} -- --stack ${stack} --${name} ${o.value ?? "VALUE"}`);
  }
  if (spec.operands) {
    const { min, max, synopsis: shape } = spec.operands;
    if (words.length < min) throw new UsageError(`missing ${shape.split(" ")[0]}: ${example}`);
    if (words.length > max) throw new UsageError(`too many words: ${words.join(" ")} (expected ${shape})`);
  }
  return { help, stack, stackDefaulted, values, operands: words, passThrough };
}

/**
 * `no stack "qa": …`, with the stacks that exist, the nearest name and how a new stack starts: the
 * one answer of every tool to a stack without a Pulumi.<stack>.yaml.
 */
export function unknownStackMessage(stack: string, knownStacks: readonly string[]): string {
  const guess = closest(stack, knownStacks);
  const template = knownStacks.includes("dev") ? "dev" : knownStacks[0];
  return (
    `no stack "${stack}": Pulumi.${stack}.yaml does not exist (stacks: ${knownStacks.join(", ") || "none"})` +
    (guess ? `; did you mean ${guess}?` : "") +
    (template ? `${guess ? " Or, for" : "; for"} a new stack, copy one: cp Pulumi.${template}.yaml Pulumi.${stack}.yaml` : "")
  );
}

/**
 * `-stack prod` is a long option with one dash; Node's parser would read it as `-s tack` and then
 * complain about "tack". Refused before parsing, naming the two-dash form. Words after `--` belong
 * to another program and are left alone.
 */
function refuseSingleDashLongOptions(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>): void {
  const end = argv.indexOf("--");
  const words = end === -1 ? argv : argv.slice(0, end);
  words.forEach((word, i) => {
    const [, name, inline] = /^-([A-Za-z][\w-]+)(=.*)?$/.exec(word) ?? [];
    if (name === undefined || !(name in options)) return;
    const value = inline ?? (options[name].type === "string" && i + 1 < words.length ? ` ${words[i + 1]}` : "");
    throw new UsageError(`${word} has one dash: long options take two, as in --${name}${value}`);
  });
}

/**
 * `-stak prod` parses as `-s tak` and then a stray "prod": a short option's value must follow a
 * space, so a word that glues one on (`-sprod` too) is refused with both right forms.
 */
function refuseGluedShortValues(
  tokens: ReadonlyArray<{ kind: string; name?: string; rawName?: string; inlineValue?: boolean; index: number }>,
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): void {
  for (const token of tokens) {
    if (token.kind !== "option" || token.inlineValue !== true || token.rawName?.startsWith("--") !== false) continue;
    const word = argv[token.index];
    const value = options[token.name!]?.value ?? "VALUE";
    throw new UsageError(
      `${word} is read as ${token.rawName} ${word.slice(2)}: write --${token.name} ${value} (two dashes) or ${token.rawName} ${value} (a space before the value)`,
    );
  }
}

/** An option given twice (`--stack dev --stack prod`) is refused rather than the last one silently winning. */
function refuseRepeatedOptions(
  tokens: ReadonlyArray<{ kind: string; name?: string; value?: string; index: number }>,
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): void {
  const seen = new Map<string, string[]>();
  for (const token of tokens) {
    if (token.kind !== "option" || token.name === undefined || options[token.name]?.multiple === true) continue;
    const given = seen.get(token.name) ?? [];
    given.push(token.value ?? argv[token.index]);
    seen.set(token.name, given);
    if (given.length === 2) {
      const what = options[token.name].type === "string" ? ` (${given.join(", ")})` : "";
      throw new UsageError(`--${token.name} given twice${what}: give it once`);
    }
  }
}

/** A closed pipe (`npm run plan | head`) ends the tool quietly instead of with an EPIPE stack trace. */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    throw error;
  });
}

/**
 * Runs a tool's main function as a process: usage errors print the message and the synopsis and
 * exit 2, other errors print one line (no stack trace) and exit 1.
 */
export function runAsProcess(spec: ToolSpec, main: () => Promise<number>): void {
  exitQuietlyOnClosedPipe(process.stdout);
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(usageMessage(spec, error));
        process.exit(EXIT_USAGE);
      }
      process.stderr.write(`${spec.name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(EXIT_FAILED);
    },
  );
}

/** The usage error as a tool with injected output prints it. */
export function usageMessage(spec: ToolSpec, error: UsageError): string {
  return `${spec.name}: ${error.message}\nUsage: ${synopsis(spec)}\n(npm run ${spec.name} -- --help for more)\n`;
}
