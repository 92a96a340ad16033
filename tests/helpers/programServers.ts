/**
 * The program servers (tests/helpers/programServer.ts): one per jest worker, on Unix sockets in a
 * private directory that SWARM_FLOCKER_PROGRAM_SERVERS names (the workers inherit it). jest's
 * globalSetup starts them (tests/helpers/startProgramServers.ts), its globalTeardown stops them
 * (tests/helpers/stopProgramServers.ts); isolatedRun.ts is their client.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { ProgramRun } from "../../tools/plan/mockRuntime";

const ROOT = path.resolve(__dirname, "..", "..");
const SERVER = path.join(__dirname, "programServer.ts");
const ENV = "SWARM_FLOCKER_PROGRAM_SERVERS";
/** How long a client waits for its server to listen: it loads the Pulumi SDK first. */
const CONNECT_TIMEOUT_MS = 120_000;

export function startProgramServers(count: number): void {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "program-servers-"));
  const pids: number[] = [];
  for (let i = 1; i <= count; i++) {
    const child = spawn(process.execPath, ["--import", "tsx", SERVER, path.join(directory, `${i}.sock`)], {
      cwd: ROOT,
      // The server exits when its stdin closes: when jest ends, however it ends.
      stdio: ["pipe", "ignore", "inherit"],
    });
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    pids.push(child.pid!);
  }
  fs.writeFileSync(path.join(directory, "pids"), pids.join("\n"));
  process.env[ENV] = directory;
}

export function stopProgramServers(): void {
  const directory = process.env[ENV];
  if (directory === undefined) return;
  const pids = fs.readFileSync(path.join(directory, "pids"), "utf8").split("\n").map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid);
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(directory, { recursive: true, force: true });
  delete process.env[ENV];
}

/** This worker's server's socket, when the run has servers (jest.config.js starts them). */
export function programServerSocket(): string | undefined {
  const directory = process.env[ENV];
  if (directory === undefined || !fs.existsSync(directory)) return undefined;
  const count = fs.readFileSync(path.join(directory, "pids"), "utf8").split("\n").length;
  const worker = Number(process.env.JEST_WORKER_ID ?? "1");
  return path.join(directory, `${((worker - 1) % count) + 1}.sock`);
}

/** The program run for this stack and config, evaluated by the server on `socket`. */
export async function evaluateOnServer(socket: string, stack: string, config: Record<string, string>): Promise<ProgramRun> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    try {
      return await request(socket, JSON.stringify({ stack, config }));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ECONNREFUSED") || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function request(socket: string, line: string): Promise<ProgramRun> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const connection = net.createConnection(socket);
    connection.setEncoding("utf8");
    connection.on("connect", () => connection.write(`${line}\n`));
    connection.on("data", (chunk: string) => chunks.push(chunk));
    connection.on("error", reject);
    connection.on("end", () => {
      const answer = JSON.parse(chunks.join("")) as
        { run: Omit<ProgramRun, "secretOutputs"> & { secretOutputs: string[] } } | { error: string; stack?: string };
      if ("error" in answer) {
        const failure = new Error(answer.error);
        if (answer.stack !== undefined) failure.stack = answer.stack;
        reject(failure);
        return;
      }
      resolve({ ...answer.run, secretOutputs: new Set(answer.run.secretOutputs) });
    });
  });
}
