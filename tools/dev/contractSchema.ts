/**
 * `npm run contract`: writes contract/stack-outputs.schema.json, the JSON Schema of the stack's
 * outputs contract, generated from the TypeScript type `StackOutputValues` (lib/stackOutputs.ts),
 * so that a program outside this repository can check what it reads through a StackReference.
 * tests/contract.test.ts fails when the committed schema, the type, or the copy of the type that
 * examples/consumer carries drift apart.
 */
import * as fs from "fs";
import * as path from "path";
import { createGenerator, type Config } from "ts-json-schema-generator";
import { PROJECT_ROOT } from "../common/stackConfig";

export const SCHEMA_FILE = path.join(PROJECT_ROOT, "contract", "stack-outputs.schema.json");
const SCHEMA_ID = "https://github.com/swarm-flocker/contract/stack-outputs.schema.json";

/** The schema of type `StackOutputValues` as declared in `file` (the repository's or a vendored copy). */
export function stackOutputsSchema(file: string): Record<string, unknown> {
  const config: Config = {
    path: file,
    type: "StackOutputValues",
    tsconfig: path.join(PROJECT_ROOT, "tsconfig.json"),
    // Only the declarations, not the whole program: fast, and independent of unrelated code.
    skipTypeCheck: true,
    expose: "none",
    topRef: false,
    jsDoc: "extended",
    additionalProperties: false,
    sortProps: true,
  };
  const schema = createGenerator(config).createSchema(config.type) as Record<string, unknown>;
  return {
    ...schema,
    $id: SCHEMA_ID,
    title: "swarm-flocker stack outputs",
    description:
      "The outputs of a swarm-flocker stack as a StackReference resolves them (StackOutputValues in lib/stackOutputs.ts). " +
      "Fields are only ever added; sshPrivateKey, flockerClientKey and the two join tokens are secrets.",
  };
}

/** The file's text: the schema, two-space JSON with a final newline. */
export function schemaText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(SCHEMA_FILE, schemaText(stackOutputsSchema(path.join(PROJECT_ROOT, "lib", "stackOutputs.ts"))));
  process.stdout.write(`${path.relative(PROJECT_ROOT, SCHEMA_FILE)} written from StackOutputValues\n`);
}
