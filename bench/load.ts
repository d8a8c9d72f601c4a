/**
 * The benchmark's load generator and its way around wrangler's proxy: a
 * fixed number of keep-alive connections sending requests for a fixed
 * time, straight to the workerd behind `wrangler dev`, so that the proxy's
 * own cost does not flatten the differences being measured.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import { promisify } from "node:util";

export interface Target {
  port: number;
  /** The next request to send: its Host, path and headers. */
  next(): { host: string; path: string; headers?: Record<string, string> };
  /** The status every answer must have. */
  status: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
}

/** Sends requests over `connections` keep-alive connections for `seconds`; any unexpected status fails the run. */
export async function load(target: Target, seconds: number, connections: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const { host, path, headers = {} } = target.next();
      const sent = performance.now();
      const status = await get(agent, target.port, host, path, headers);
      if (status !== target.status) {
        throw new Error(`GET ${host}${path}: expected ${target.status}, got ${status}`);
      }
      latencies.push(performance.now() - sent);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    agent.destroy();
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

function get(
  agent: http.Agent,
  port: number,
  host: string,
  path: string,
  headers: Record<string, string>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, agent, headers: { ...headers, host } },
      (response) => {
        response.on("data", () => undefined);
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
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

/** A deterministic pseudo-random sequence, so that every run asks for the same things. */
export function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
