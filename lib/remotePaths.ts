/** Where the stack puts files on a node: a directory in the SSH user's home. */

/** Directory in the SSH user's home that receives `scripts/` (as `<dir>/scripts`). */
const REMOTE_DIR_NAME = ".swarm-flocker";

function remoteHome(user: string): string {
  return user === "root" ? "/root" : `/home/${user}`;
}

export function remoteBaseDir(user: string): string {
  return `${remoteHome(user)}/${REMOTE_DIR_NAME}`;
}

export function remoteScriptsDir(user: string): string {
  return `${remoteBaseDir(user)}/scripts`;
}

/** Flocker's configuration directory on every node (certificates, keys, agent.yml). */
export const FLOCKER_ETC = "/etc/flocker";

/** Where Flocker 1.x's Docker plugin listens; Docker finds volume plugins by this socket. */
export const FLOCKER_PLUGIN_SOCKET = "/run/docker/plugins/flocker/flocker.sock";
