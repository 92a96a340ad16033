/**
 * Reads a stack's `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to the program: a flat map
 * of `namespace:key` to a string (arrays and objects as JSON), plus the project's name.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { unknownStackMessage } from "./cli";

export const PROJECT_ROOT = path.join(__dirname, "..", "..");

export function projectName(root = PROJECT_ROOT): string {
  const project = YAML.parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name: string };
  return project.name;
}

/** `nodeCount` → `swarm-flocker:nodeCount`; keys that have a namespace (`aws:region`) stay as they are. */
export function qualifiedConfigKey(key: string, root = PROJECT_ROOT): string {
  return key.includes(":") ? key : `${projectName(root)}:${key}`;
}

export function stackConfigPath(stack: string, root = PROJECT_ROOT): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}

export function availableStacks(root = PROJECT_ROOT): string[] {
  return fs
    .readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/**
 * The keys of a stack file's `config:` map written without a namespace (`nodeCount: 5`): Pulumi
 * reads none of them as this project's, so each would be ignored and its default used. One
 * message naming the file and the right spelling of every such key; undefined when there is none.
 */
export function unprefixedKeysProblem(fileName: string, keys: readonly string[], project: string): string | undefined {
  const bare = keys.filter((key) => !key.includes(":"));
  if (bare.length === 0) return undefined;
  const spelled = bare.map((key) => `${key} → ${project}:${key}`).join(", ");
  return `${fileName} has config key${bare.length > 1 ? "s" : ""} without a namespace, which Pulumi does not read as this project's: ${spelled} (a key of this stack is written ${project}:<key>, as pulumi config set writes it)`;
}

/** `{ "swarm-flocker:nodeCount": "10", "aws:region": "us-east-1", … }` */
export function readStackConfig(stack: string, root = PROJECT_ROOT): Record<string, string> {
  const file = stackConfigPath(stack, root);
  if (!fs.existsSync(file)) throw new Error(unknownStackMessage(stack, availableStacks(root)));
  const document = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const unprefixed = unprefixedKeysProblem(path.basename(file), Object.keys(document.config ?? {}), projectName(root));
  if (unprefixed !== undefined) throw new Error(unprefixed);
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(document.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in (value as object)) {
      throw new Error(`${key} in ${path.basename(file)} is encrypted; offline runs take plain values only`);
    }
    flat[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return flat;
}
