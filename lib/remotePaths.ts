/** Where the stack puts files on a node: a directory in the SSH user's home. */

/** Directory in the SSH user's home that receives `scripts/` (as `<dir>/scripts`). */
export const REMOTE_DIR_NAME = ".swarm-flocker";

export function remoteHome(user: string): string {
  return user === "root" ? "/root" : `/home/${user}`;
}

export function remoteBaseDir(user: string): string {
  return `${remoteHome(user)}/${REMOTE_DIR_NAME}`;
}

export function remoteScriptsDir(user: string): string {
  return `${remoteBaseDir(user)}/scripts`;
}
