/**
 * End-to-end harness: a real `wrangler dev` on a free loopback port with a
 * fresh state directory, the real CLI run as a user runs it (`npx
 * r2-assets ...` from the repository root), and plain HTTP to the sites.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { wranglerDevEnv } from "../../src/local/wrangler-env.ts";

export const ROOT = join(import.meta.dirname, "../..");

/** The machine's Chromium (apt's), which the browser tests drive. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless Chromium as the browser tests use it: no sandbox (root in a container), nothing in the background. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Platform {
  url: string;
  port: number;
  token: string;
  /** The process group of `wrangler dev` and the workerd it runs. */
  processGroup: number;
  /** Runs `npx r2-assets <args>` against this platform. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** Starts the CLI without waiting for it; `child` can be killed (with its process group). */
  spawnCli(args: string[]): { child: ChildProcess; done: Promise<CliResult> };
  /** The same as `request`, on any hostname (a custom domain). */
  requestHost(
    hostname: string,
    path: string,
    init?: { method?: string; headers?: Record<string, string> },
  ): Promise<HttpResult>;
  /** GET (or another method) on `<project>.localhost`, or a version's preview host. */
  request(
    host: string,
    path: string,
    init?: { method?: string; headers?: Record<string, string> },
  ): Promise<HttpResult>;
  /** Calls the control-plane API with the admin token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  logs(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface PlatformOptions {
  /** A wrangler configuration other than the platform's own. */
  config?: string;
  /** The path that answers 200 once the Worker is up. */
  healthPath?: string;
  /** Where local R2 and Durable Objects keep their data; kept after stop(). Default: a new directory, removed by stop(). */
  state?: string;
  /** The serving isolates' lease on pointers, in ms (default 200). */
  leaseMs?: number;
  /** More Workers to run in the same `wrangler dev`, each its own isolate (the network simulation's). */
  extraConfigs?: string[];
  /** The admin token (default: a new one). */
  token?: string;
  /** More variables for the platform (RECORD_ANALYTICS, ANALYTICS_FLUSH_MS, …). */
  vars?: Record<string, string>;
}

/** Starts `wrangler dev` and waits until the API answers. */
export async function startPlatform({
  config,
  healthPath = "/api/health",
  ...options
}: PlatformOptions = {}): Promise<Platform> {
  const port = await freePort();
  const state = options.state ?? (await mkdtemp(join(tmpdir(), "r2a-e2e-state-")));
  const token = options.token ?? `e2e-${randomUUID()}`;
  const child = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      ...(config ? ["--config", config] : []),
      ...(options.extraConfigs ?? []).flatMap((extra) => ["--config", extra]),
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      state,
      "--var",
      `ADMIN_TOKEN:${token}`,
      "--var",
      "ENVIRONMENT:test",
      // Activations wait out the lease; a short one keeps the tests quick.
      "--var",
      `POINTER_LEASE_MS:${options.leaseMs ?? 200}`,
      ...Object.entries(options.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerDevEnv(),
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}${healthPath}`, child, () => output);

  const platform: Platform = {
    url,
    port,
    token,
    processGroup: child.pid ?? 0,
    cli: (args, env = {}) => runCli(args, { R2_ASSETS_URL: url, R2_ASSETS_TOKEN: token, ...env }),
    spawnCli: (args) => spawnCli(args, { R2_ASSETS_URL: url, R2_ASSETS_TOKEN: token }),
    request: (host, path, init = {}) => httpRequest(port, `${host}.localhost:${port}`, path, init),
    requestHost: (hostname, path, init = {}) => httpRequest(port, `${hostname}:${port}`, path, init),
    async api(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    },
    logs: () => output,
    async stop() {
      await stopProcess(child);
      if (options.state === undefined) {
        await rm(state, { recursive: true, force: true });
      }
    },
  };
  return platform;
}

async function waitForHealth(healthUrl: string, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`wrangler dev exited with ${child.exitCode}:\n${logs()}`);
    }
    try {
      const response = await fetch(healthUrl);
      if (response.ok) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stopProcess(child);
  throw new Error(`wrangler dev did not come up within 90s:\n${logs()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return;
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs the CLI exactly as a user would: `npx r2-assets` from the repository
 * root, or, in another directory (`cwd`), its bin script with the
 * repository's node_modules/.bin (and its Node 22) first on the PATH, as
 * npx sets it.
 */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliResult> {
  return spawnCli(args, env, cwd).done;
}

function spawnCli(
  args: string[],
  env: Record<string, string | undefined>,
  cwd?: string,
): { child: ChildProcess; done: Promise<CliResult> } {
  const bin = join(ROOT, "node_modules/.bin");
  const [command, commandArgs] =
    cwd === undefined ? ["npx", ["r2-assets", ...args]] : ["node", [join(ROOT, "src/cli/main.ts"), ...args]];
  const child = spawn(command, commandArgs, {
    cwd: cwd ?? ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      R2_ASSETS_URL: undefined,
      R2_ASSETS_TOKEN: undefined,
      // Hash caches of the tests' directories stay out of the user's home.
      R2_ASSETS_CACHE_DIR: join(tmpdir(), `r2a-hash-cache-${process.pid}`),
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
  return { child, done };
}

/** Kills a process started detached, with everything it started. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid !== undefined && child.exitCode === null) {
    process.kill(-child.pid, signal);
  }
}

/** A request to 127.0.0.1:`port` with `host` as its Host header, exactly as given. */
export function httpRequest(
  port: number,
  host: string,
  path: string,
  { method = "GET", headers = {} }: { method?: string; headers?: Record<string, string> },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, method, headers: { ...headers, host } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end();
  });
}

/** Writes `files` (path → content) under a new temporary directory. */
export async function writeSite(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "r2a-site-"));
  await writeFiles(root, files);
  return root;
}

export async function writeFiles(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Writes `size` random bytes to `file`, streaming. */
export async function writeRandomFile(file: string, size: number): Promise<void> {
  const { createWriteStream } = await import("node:fs");
  const { randomFillSync } = await import("node:crypto");
  const out = createWriteStream(file);
  const chunk = Buffer.alloc(4 * 1024 * 1024);
  for (let written = 0; written < size; written += chunk.length) {
    randomFillSync(chunk);
    const piece = chunk.subarray(0, Math.min(chunk.length, size - written));
    if (!out.write(piece)) {
      await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** The SHA-256 of a file or of an HTTP body, streaming. */
export async function sha256Of(source: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  for await (const chunk of source) {
    hash.update(chunk);
  }
  return hash.digest("hex");
}

/** Streams a GET of `path` on a project's host into `consume`. */
export function streamGet(port: number, host: string, path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, headers: { host: `${host}.localhost:${port}` } },
      resolve,
    );
    request.on("error", reject);
    request.end();
  });
}

/**
 * The port of the workerd that `wrangler dev` (process group
 * `processGroup`) runs the Worker in: the loopback port, other than
 * wrangler's own, on which `probe` answers.
 */
export async function workerdPort(
  processGroup: number,
  proxyPort: number,
  probe: (port: number) => Promise<boolean>,
): Promise<number> {
  const { stdout: ps } = await promisify(execFile)("ps", ["-eo", "pid=,pgid=,comm="]);
  const pids = new Set(
    ps
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter(([, pgid, command]) => Number(pgid) === processGroup && command?.startsWith("workerd"))
      .map(([pid]) => Number(pid)),
  );
  const { stdout: ss } = await promisify(execFile)("ss", ["-ltnpH"]);
  for (const line of ss.split("\n")) {
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
    const pid = Number(/pid=(\d+)/.exec(line)?.[1]);
    if (pids.has(pid) && port !== proxyPort && (await probe(port).catch(() => false))) {
      return port;
    }
  }
  throw new Error(`found no workerd port in process group ${processGroup}`);
}
