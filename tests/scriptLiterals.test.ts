/**
 * One definition per fact: the ports, paths and package lists the program passes the node scripts
 * are defined in TypeScript only. A script that spells one of them out would keep the old value
 * when the TypeScript changes; this test finds every such literal in scripts/.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FLOCKER_PACKAGES } from "../lib/flockerPackages";
import { FLOCKER_AGENT_PORT, FLOCKER_API_PORT, SPARK_PORTS, SWARM_MANAGEMENT_PORT } from "../lib/ports";
import { FLOCKER_ETC, FLOCKER_PLUGIN_SOCKET } from "../lib/remotePaths";
import { LOCAL_SCRIPTS_DIR } from "../lib/scripts";

function shellFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return shellFiles(file);
    return entry.name.endsWith(".sh") ? [file] : [];
  });
}

const ports = [FLOCKER_API_PORT, FLOCKER_AGENT_PORT, SWARM_MANAGEMENT_PORT, ...SPARK_PORTS.map((p) => p.port)];
const texts = [FLOCKER_ETC, FLOCKER_PLUGIN_SOCKET, path.posix.dirname(FLOCKER_PLUGIN_SOCKET), ...FLOCKER_PACKAGES];

/** `file:line: text` for every line of the scripts that holds one of the facts. */
function literalsIn(files: readonly string[]): string[] {
  const portPattern = new RegExp(`(?<![\\w.])(${ports.join("|")})(?![\\w])`);
  return files.flatMap((file) =>
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) =>
        portPattern.test(line) || texts.some((text) => line.includes(text))
          ? [`${path.relative(LOCAL_SCRIPTS_DIR, file)}:${i + 1}: ${line.trim()}`]
          : [],
      ),
  );
}

test("no script spells out a port, path or package list the program defines", () => {
  const files = shellFiles(LOCAL_SCRIPTS_DIR);
  expect(files.length).toBeGreaterThan(20);
  expect(literalsIn(files)).toEqual([]);
});

test("the check finds a literal port, path or package name", () => {
  const probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "literals-")), "probe.sh");
  fs.writeFileSync(
    probe,
    ['curl "https://$HOST:4523/v1"', "ls /etc/flocker/", "apt-get install clusterhq-flocker-node", "sleep 40770"].join("\n"),
  );
  expect(literalsIn([probe])).toEqual([
    expect.stringMatching(/probe\.sh:1:/),
    expect.stringMatching(/probe\.sh:2:/),
    expect.stringMatching(/probe\.sh:3:/),
  ]);
});
