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

test("the schema names every output, requires them all, and admits no other", () => {
  const schema = committed();
  expect(schema.required).toEqual(expect.arrayContaining(["nodes", "vpcId", "subnetId", "securityGroupIds", "flockerStatus"]));
  expect([...schema.required].sort()).toEqual(Object.keys(schema.properties).sort());
  expect(schema.additionalProperties).toBe(false);
  expect(schema.properties.securityGroupIds.required).toEqual(["node", "manager", "control", "swarm"]);
  expect(schema.properties.nodes.additionalProperties.required).toEqual(["role", "publicIp", "privateIp"]);
});
