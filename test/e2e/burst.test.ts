/**
 * Bursts of requests that wait on one question: when a new version is
 * live, many requests for the same cold path (and, when the lease lapses,
 * for its renewal) wait on one call to the Durable Object, and their
 * bodies, held in the isolate's memory, are answered at once. Each must
 * come back whole, from its own request. The requests go straight to
 * workerd over keep-alive connections: wrangler's proxy in front of it
 * would space them out.
 */
import http from "node:http";
import { afterAll, beforeAll, it } from "vitest";
import { startPlatform, workerdPort, writeSite, type Platform } from "./platform.ts";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform({ leaseMs: 100 });
});

afterAll(async () => {
  await platform?.stop();
});

const FILES = 100;
const CONNECTIONS = 32;
const ROUNDS = 5;
const ROUND_MS = 1500;

function get(agent: http.Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, agent, headers: { host: "burst.localhost" } },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end();
  });
}

it("answers every request of a burst on a new version with its own whole body", async ({ expect }) => {
  const files = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`f/${i}.txt`, `file ${i} `.repeat(50)]));
  const dir = await writeSite(files);
  const deploy = async (round: number): Promise<void> => {
    const result = await platform.cli(["deploy", dir, "--project", "burst", "--message", `round ${round}`]);
    expect(result.code, result.stderr).toBe(0);
  };
  await deploy(0);
  const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
    const response = await fetch(`http://127.0.0.1:${candidate}/api/health`);
    return response.ok;
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const failures: string[] = [];
  let requests = 0;
  try {
    // The bodies come to be held in the isolate's memory.
    for (const path of Object.keys(files)) {
      expect((await get(agent, port, `/${path}`)).status).toBe(200);
    }
    for (let round = 1; round <= ROUNDS; round += 1) {
      await deploy(round);
      const deadline = Date.now() + ROUND_MS;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, client) => {
          for (let n = client; Date.now() < deadline; n += 7) {
            const path = `f/${n % FILES}.txt`;
            const { status, body } = await get(agent, port, `/${path}`);
            requests += 1;
            if (status !== 200 || body !== files[path]) {
              failures.push(`round ${round} /${path}: ${status} ${body.slice(0, 160)}`);
            }
          }
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  expect(requests).toBeGreaterThan(ROUNDS * CONNECTIONS);
  expect(failures.slice(0, 3)).toEqual([]);
});
