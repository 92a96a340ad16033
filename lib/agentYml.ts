/**
 * Flocker's `agent.yml` (docs/flocker.md), rendered with a YAML library rather than by hand so
 * that any key or secret value is quoted correctly.
 */
import * as YAML from "yaml";
import { FLOCKER_AGENT_PORT } from "./ports";

export interface AgentYmlInput {
  /** Address the agents dial; must be routable from every node (the control node's private IP). */
  readonly controlHost: string;
  readonly region: string;
  readonly zone: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function renderAgentYml(input: AgentYmlInput): string {
  const document = {
    version: 1,
    "control-service": { hostname: input.controlHost, port: FLOCKER_AGENT_PORT },
    dataset: {
      backend: "aws",
      region: input.region,
      zone: input.zone,
      access_key_id: input.accessKeyId,
      secret_access_key: input.secretAccessKey,
    },
  };
  return YAML.stringify(document, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" });
}
