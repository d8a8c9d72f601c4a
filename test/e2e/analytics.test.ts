/**
 * Request analytics counted exactly through a real `wrangler dev`: many
 * requests at once across a redeploy, then a restart of the runtime (every
 * isolate gone) and more requests. What an isolate flushed is counted once;
 * nothing is counted twice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, it } from "vitest";
import { mapLimit } from "../../src/shared/pool.ts";
import { startPlatform, writeSite, type Platform } from "./platform.ts";

const FLUSH_MS = "500";
let state: string;
let platform: Platform | undefined;

afterAll(async () => {
  await platform?.stop();
  await rm(state, { recursive: true, force: true });
});

interface Report {
  totals: { requests: number; "2xx": number; "4xx": number };
  byVersion: { version: string; requests: number }[];
}

async function report(live: Platform): Promise<Report> {
  return (await live.api("GET", "/api/projects/counted/analytics?minutes=60")).json as Report;
}

/** The report once it counts `requests`, and again a flush later: it must not grow. */
async function settled(live: Platform, requests: number): Promise<Report> {
  const deadline = Date.now() + 20_000;
  while ((await report(live)).totals.requests < requests && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 2 * Number(FLUSH_MS)));
  return report(live);
}

async function hammer(live: Platform, count: number, path: (i: number) => string): Promise<void> {
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    (i) => live.request("counted", path(i)),
  );
}

it("counts every request once, across a redeploy and a restart", async ({ expect }) => {
  state = await mkdtemp(join(tmpdir(), "r2a-e2e-analytics-"));
  const start = (): Promise<Platform> =>
    startPlatform({ state, token: "analytics-e2e", vars: { ANALYTICS_FLUSH_MS: FLUSH_MS } });
  platform = await start();
  const site = await writeSite({ "index.html": "<h1>one</h1>", "a.txt": "a" });
  const deployed = await platform.cli(["deploy", site, "--project", "counted", "--json"]);
  expect(deployed.code, deployed.stderr).toBe(0);
  const first = (JSON.parse(deployed.stdout) as { version: string }).version;

  // 300 requests, a redeploy in the middle of them.
  const load = hammer(platform, 300, (i) => (i % 10 === 0 ? `/missing-${i % 3}` : "/a.txt"));
  const second = await writeSite({ "index.html": "<h1>two</h1>", "a.txt": "b" });
  const redeployed = await platform.cli(["deploy", second, "--project", "counted", "--json"]);
  expect(redeployed.code, redeployed.stderr).toBe(0);
  await load;
  await hammer(platform, 50, () => "/a.txt");
  const before = await settled(platform, 350);
  expect(before.totals).toMatchObject({ requests: 350, "4xx": 30 });
  expect(before.byVersion.map((entry) => entry.version)).toContain(first);
  expect(before.byVersion.reduce((sum, entry) => sum + entry.requests, 0)).toBe(350);

  // Every isolate goes; the new ones count from where the store stands.
  await platform.stop();
  platform = await start();
  await hammer(platform, 100, () => "/");
  const after = await settled(platform, 450);
  expect(after.totals.requests).toBe(450);
}, 240_000);
