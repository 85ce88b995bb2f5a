// Real processes for end-to-end tests: the built momedo-server and momedo CLI, driven exactly
// as a person or a script would drive them.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BIN = join(root, "packages/server/bin/momedo-server.js");
export const CLI_BIN = join(root, "packages/cli/bin/momedo.js");

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `momedo-${prefix}-`));
}

export type Line = Record<string, unknown>;

/** The texts of the message lines a command printed with --json. */
export const texts = (lines: Line[]) => lines.filter((l) => "text" in l).map((l) => l.text);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  lines: Record<string, unknown>[];
}

export function run(bin: string, args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code: code ?? -1, stdout, stderr, lines });
    });
  });
}

export async function momedo(profile: string, ...args: string[]): Promise<CommandResult> {
  const result = await run(CLI_BIN, [...args, "--profile", profile, "--json"]);
  if (result.code !== 0) throw new Error(`momedo ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  return result;
}

export async function admin(data: string, ...args: string[]): Promise<Record<string, unknown>> {
  const result = await run(SERVER_BIN, ["--data", data, "--json", "admin", ...args]);
  if (result.code !== 0) throw new Error(`admin ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
  return result.lines.at(-1)!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  fingerprint: string | null;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startServer(data: string, port: number, extra: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_BIN, "start", "--data", data, "--host", "127.0.0.1", "--port", String(port), "--json", ...extra]);
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${out}`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as { url: string; fingerprint: string | null };
      resolve({
        child,
        url: info.url,
        fingerprint: info.fingerprint,
        output: () => out,
        stop: (signal = "SIGTERM") =>
          new Promise((done) => {
            if (child.exitCode !== null) return done(child.exitCode);
            child.removeAllListeners("exit");
            child.once("exit", (code) => done(code));
            child.kill(signal);
          }),
      });
    });
  });
}

/** Every file below `dir`, for searching a marker in what the server or a client keeps. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesBelow(path));
    else out.push(path);
  }
  return out;
}

export function filesContaining(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker, "utf8");
  return filesBelow(dir).filter((f) => readFileSync(f).includes(needle));
}

/** A long-running command whose JSON lines can be awaited while it runs. */
export function spawnCommand(bin: string, args: string[]) {
  const child = spawn(process.execPath, [bin, ...args]);
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  child.stdout.on("data", (d: Buffer) => {
    buffer += d.toString();
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
      for (const w of waiters.splice(0)) w();
    }
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CommandResult>((resolve) =>
    child.on("close", (code) => resolve({ code: code ?? -1, stdout: "", stderr, lines })),
  );
  return {
    lines,
    done,
    async line(predicate: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find(predicate);
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no such line; stderr: ${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** A fresh server on its own port with two enrolled people, A and B, each with one device. */
export async function serverWithTwoPeople(prefix: string, extra: string[] = []) {
  const data = tempDir(`${prefix}-data`);
  const home = tempDir(`${prefix}-home`);
  const port = await freePort();
  const server = await startServer(data, port, extra);
  const a = await admin(data, "add-user", "--name", "Amt");
  const b = await admin(data, "add-user", "--name", "Bürger");
  await momedo(`${home}/a`, "enroll", String(a.invite));
  await momedo(`${home}/b`, "enroll", String(b.invite));
  return { data, home, port, server, a: String(a.id), b: String(b.id) };
}
