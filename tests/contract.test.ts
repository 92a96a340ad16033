/**
 * The outputs contract as another repository consumes it: contract/stack-outputs.schema.json is
 * generated from StackOutputValues (npm run contract), and examples/consumer carries its own copy
 * of the type. Any of the three changing alone fails here.
 */
import * as fs from "fs";
import * as path from "path";
import { SCHEMA_FILE, schemaText, stackOutputsSchema } from "../tools/dev/contractSchema";

const root = path.join(__dirname, "..");
const committed = () => JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")) as Record<string, any>;

test("the committed schema is the one generated from StackOutputValues (npm run contract rewrites it)", () => {
  expect(schemaText(stackOutputsSchema(path.join(root, "lib", "stackOutputs.ts")))).toBe(fs.readFileSync(SCHEMA_FILE, "utf8"));
}, 120_000);

test("the example's vendored copy of the type describes the same outputs", () => {
  expect(stackOutputsSchema(path.join(root, "examples", "consumer", "contract.ts"))).toEqual(committed());
}, 120_000);

test("the schema: a book stack's outputs or a current stack's, each complete and closed; only current names its platform and lacks Flocker's", () => {
  const schema = committed();
  expect(schema.anyOf).toHaveLength(2);
  const [book, current] = schema.anyOf as Record<string, any>[];
  for (const shape of [book, current]) {
    expect(shape.additionalProperties).toBe(false);
    expect(shape.properties.securityGroupIds.required).toEqual(["node", "manager", "control", "swarm"]);
    expect(shape.properties.nodes.additionalProperties.required).toEqual(["role", "publicIp", "privateIp"]);
    expect(shape.required).toEqual(expect.arrayContaining(["nodes", "vpcId", "subnetId", "securityGroupIds", "sparkMasterUrl"]));
  }
  // book: every output required except platform, which a book stack never exports.
  expect(book.required).toEqual(expect.arrayContaining(["flockerStatus", "flockerCaCert", "flockerClientKey"]));
  expect([...book.required, "platform"].sort()).toEqual(Object.keys(book.properties).sort());
  expect(book.properties.platform).toMatchObject({ const: "book" });
  // current: every output required, platform among them; no Flocker output is even allowed.
  expect([...current.required].sort()).toEqual(Object.keys(current.properties).sort());
  expect(current.properties.platform).toMatchObject({ const: "current" });
  expect(Object.keys(current.properties).filter((k) => k.startsWith("flocker"))).toEqual([]);
  // What the current platform has of its own instead of Flocker's: the Spark data's volume.
  expect(
    Object.keys(book.properties)
      .filter((k) => !k.startsWith("flocker"))
      .concat("sparkDataVolumeId")
      .sort(),
  ).toEqual(Object.keys(current.properties).sort());
});
