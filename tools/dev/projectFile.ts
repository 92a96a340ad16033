/**
 * `npm run sync:project-file`: rewrites the `config:` schema of Pulumi.yaml from config/schema.ts
 * (tests/projectFiles.test.ts fails when the two disagree), keeping everything else in the file.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_SCHEMA } from "../../config/schema";
import { PROJECT_ROOT } from "../common/stackConfig";

export function projectConfigSchema(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(CONFIG_SCHEMA).map(([key, spec]) => {
      const entry: Record<string, unknown> = { type: spec.type, description: spec.description };
      if (spec.type === "array") entry.items = { type: "string" };
      if ("default" in spec) entry.default = spec.default;
      return [key, entry];
    }),
  );
}

if (require.main === module) {
  const file = path.join(PROJECT_ROOT, "Pulumi.yaml");
  const document = YAML.parseDocument(fs.readFileSync(file, "utf8"));
  document.set("config", projectConfigSchema());
  fs.writeFileSync(file, document.toString({ lineWidth: 0 }));
  process.stdout.write(`Pulumi.yaml: config schema of ${Object.keys(CONFIG_SCHEMA).length} keys written\n`);
}
