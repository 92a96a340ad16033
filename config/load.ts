/**
 * Reads the stack's configuration from Pulumi once and validates it. On any problem it throws a
 * `RunError` (printed without a stack trace) before the program registers a single resource.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_SCHEMA, type ClusterConfig, type ConfigKey } from "./schema";
import { formatProblems, validateConfig, type FileProbe } from "./validate";

/** The validator's view of the local file system: a directory listing, or undefined on any error. */
const localFiles: FileProbe = {
  listDir(path: string): readonly string[] | undefined {
    try {
      return fs.readdirSync(path);
    } catch {
      return undefined;
    }
  },
};

export function loadConfig(): ClusterConfig {
  const config = new pulumi.Config();
  const values: Partial<Record<ConfigKey, string>> = {};
  for (const key of Object.keys(CONFIG_SCHEMA) as ConfigKey[]) {
    // Arrays (adminCidrs) come back as their JSON text; the validator parses them.
    const value = config.get(key);
    if (value !== undefined) values[key] = value;
  }
  const stack = pulumi.getStack();
  const result = validateConfig(
    {
      project: pulumi.getProject(),
      stack,
      region: new pulumi.Config("aws").get("region"),
      values,
      givenKeys: Object.keys(pulumi.runtime.allConfig()),
    },
    localFiles,
  );
  if (result.config === undefined) {
    throw new pulumi.RunError(`Invalid configuration for stack ${stack}:\n${formatProblems(result.problems)}`);
  }
  return result.config;
}
