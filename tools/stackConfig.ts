/**
 * Reads a stack's `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to the program: a flat map
 * of `namespace:key` to a string (arrays and objects as JSON), plus the project's name.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

export const PROJECT_ROOT = path.join(__dirname, "..");

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

/** `{ "swarm-flocker:nodeCount": "10", "aws:region": "us-east-1", … }` */
export function readStackConfig(stack: string, root = PROJECT_ROOT): Record<string, string> {
  const file = stackConfigPath(stack, root);
  if (!fs.existsSync(file)) {
    throw new Error(`no stack "${stack}": ${path.basename(file)} does not exist (stacks: ${availableStacks(root).join(", ")})`);
  }
  const document = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(document.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in (value as object)) {
      throw new Error(`${key} in ${path.basename(file)} is encrypted; offline runs take plain values only`);
    }
    flat[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return flat;
}
