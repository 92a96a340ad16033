/**
 * The facts the node scripts share with the program, as the environment they read: the scripts
 * hold no port or path of their own (tests/scriptLiterals.test.ts keeps it so).
 */
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT } from "./ports";
import { FLOCKER_ETC, FLOCKER_PLUGIN_SOCKET } from "./remotePaths";

/** What every Flocker step on a node is given: its files, the control service's ports, the plugin socket. */
export const FLOCKER_NODE_ENV = {
  FLOCKER_ETC,
  FLOCKER_API_PORT,
  FLOCKER_AGENT_PORT,
  PLUGIN_SOCKET: FLOCKER_PLUGIN_SOCKET,
} as const;
