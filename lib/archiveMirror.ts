/**
 * How ubuntuArchiveMirror reaches install-docker.sh. A mirror may need credentials
 * (`https://user:password@host/ubuntu`, set with `pulumi config set --secret`), so it travels on
 * the step's stdin (a Pulumi secret), never in the environment of the command line: the URL
 * without them, then the apt_auth.conf(5) entry that holds them, which the script keeps in a
 * root-only file instead of the world-readable sources.list.
 */
import { splitAptCredentials } from "./flockerPackages";

/** The install-docker step's stdin, or undefined for the image's own archive (no mirror). */
export function archiveMirrorStdin(mirror: string): string | undefined {
  if (mirror === "") return undefined;
  const { line, auth } = splitAptCredentials(mirror);
  return auth === undefined ? `${line}\n` : `${line}\n${auth}\n`;
}
