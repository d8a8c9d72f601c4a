/**
 * The benchmark's load generator: a fixed number of keep-alive connections
 * sending requests for a fixed time, straight to the workerd behind
 * `wrangler dev` (see workerdPort in test/e2e/platform.ts), so that the
 * proxy's own cost does not flatten the differences being measured.
 */
import http from "node:http";

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
      const { status, body } = await get(agent, target.port, host, path, headers);
      if (status !== target.status) {
        throw new Error(`GET ${host}${path}: expected ${target.status}, got ${status}: ${body.slice(0, 500)}`);
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
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, agent, headers: { ...headers, host } },
      (response) => {
        // The body is kept only when the status is unexpected, to say why.
        const keep = response.statusCode !== undefined && response.statusCode >= 500;
        let body = "";
        response.on("data", (chunk: Buffer) => {
          if (keep && body.length < 2000) {
            body += chunk.toString();
          }
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end();
  });
}

/** A deterministic pseudo-random sequence, so that every run asks for the same things. */
export function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
