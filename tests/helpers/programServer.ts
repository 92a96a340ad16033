/**
 * Evaluates the program for the jest suites, outside jest (tests/helpers/isolatedRun.ts is its
 * client; tests/helpers/programServers.ts starts one per jest worker). Under plain Node an
 * evaluation takes about a third of what it takes inside jest's module registry, and the Pulumi SDK
 * is loaded once per server instead of once per run.
 *
 *   node --import tsx tests/helpers/programServer.ts SOCKET
 *
 * Each connection sends one request line, `{"stack": "dev", "config": {...}}`, and gets one line
 * back: `{"run": ProgramRun}` (secretOutputs as an array) or `{"error": "...", "stack": "..."}`.
 * Runs are one at a time (the Pulumi runtime's mocks are global), and each starts from freshly
 * loaded program modules, as jest.isolateModules gave it: only node_modules stay loaded.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const NODE_MODULES = path.join(ROOT, "node_modules") + path.sep;
const socket = process.argv[2];
if (socket === undefined) {
  process.stderr.write("usage: node --import tsx tests/helpers/programServer.ts SOCKET\n");
  process.exit(2);
}

interface Request {
  readonly stack: string;
  readonly config: Record<string, string>;
}

/** The project's own modules are loaded afresh for every run; the SDK's stay. */
function forgetProjectModules(): void {
  for (const id of Object.keys(require.cache)) {
    if (id.startsWith(ROOT) && !id.startsWith(NODE_MODULES)) delete require.cache[id];
  }
}

async function evaluate(request: Request): Promise<string> {
  forgetProjectModules();
  try {
    const { runProgram } = require("../../tools/plan/mockRuntime") as typeof import("../../tools/plan/mockRuntime");
    const run = await runProgram({ stack: request.stack, config: request.config });
    return JSON.stringify({ run: { ...run, secretOutputs: [...run.secretOutputs] } });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return JSON.stringify({ error: failure.message, stack: failure.stack });
  }
}

let queue: Promise<unknown> = Promise.resolve();
const server = net.createServer((connection) => {
  let received = "";
  connection.setEncoding("utf8");
  connection.on("data", (chunk: string) => {
    received += chunk;
    const end = received.indexOf("\n");
    if (end < 0) return;
    const request = JSON.parse(received.slice(0, end)) as Request;
    queue = queue.then(async () => connection.end(`${await evaluate(request)}\n`));
  });
  connection.on("error", () => undefined);
});
// jest holds the other end of stdin: when it is gone, so is the server.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
fs.rmSync(socket, { force: true });
server.listen(socket);
// The SDK and the providers' packages load while jest starts its workers.
require("@pulumi/pulumi");
require("@pulumi/aws");
