/**
 * Reads the stack's configuration from Pulumi once and validates it. On any problem it throws a
 * `RunError` (printed without a stack trace) before the program registers a single resource.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_SCHEMA, type ClusterConfig, type ConfigKey } from "./schema";
import { formatProblems, validateConfig, type FileProbe } from "./validate";
import { plaintextCredentialsProblems, redactSecrets, secretConfigKeys } from "./secretConfig";

/** The validator's view of the local file system: a listing or a file's bytes, or undefined on any error. */
const localFiles: FileProbe = {
  listDir(path: string): readonly string[] | undefined {
    try {
      return fs.readdirSync(path);
    } catch {
      return undefined;
    }
  },
  readFile(path: string): Uint8Array | undefined {
    try {
      return fs.readFileSync(path);
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
  // A secret's value (e.g. an apt line with a password) must not reach an error message.
  const secretKeys = secretConfigKeys(pulumi.getProject(), Object.keys(values));
  const secretValues = [...secretKeys].map((key) => values[key as ConfigKey] ?? "");
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
  const credentials = plaintextCredentialsProblems(values, secretKeys);
  if (result.config === undefined || credentials.length > 0) {
    const problems = [formatProblems(result.problems), ...credentials.map((c) => `  - ${c}`)].filter((p) => p !== "");
    throw new pulumi.RunError(redactSecrets(`Invalid configuration for stack ${stack}:\n${problems.join("\n")}`, secretValues));
  }
  return result.config;
}
