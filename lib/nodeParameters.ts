/**
 * The facts the node scripts share with the program, as the environment they read: the scripts
 * hold no port or path of their own (tests/scriptLiterals.test.ts keeps it so).
 */
import { DOCKER_BUILTIN_ADDRESS_POOL, type SwarmAddressPool } from "./dockerAddresses";
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT } from "./ports";
import { FLOCKER_ETC, FLOCKER_PLUGIN_SOCKET } from "./remotePaths";

/** What every Flocker step on a node is given: its files, the control service's ports, the plugin socket. */
export const FLOCKER_NODE_ENV = {
  FLOCKER_ETC,
  FLOCKER_API_PORT,
  FLOCKER_AGENT_PORT,
  PLUGIN_SOCKET: FLOCKER_PLUGIN_SOCKET,
} as const;

/** What swarm-init.sh founds the swarm with, and the pool Docker uses when init is given none. */
export function swarmAddressPoolEnv(pool: SwarmAddressPool): Record<string, string | number> {
  return {
    SWARM_ADDRESS_POOL: pool.cidr,
    SWARM_ADDRESS_POOL_MASK_LENGTH: pool.maskLength,
    DOCKER_BUILTIN_ADDRESS_POOL: DOCKER_BUILTIN_ADDRESS_POOL.cidr,
  };
}
