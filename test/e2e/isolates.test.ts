/**
 * The lease promise across isolates (#20): several serving isolates (each
 * its own Worker in one `wrangler dev`, two of them sharing a location's
 * Cache API, one in a location of its own), bound to the same Durable
 * Objects. While they serve steadily, the live version is flipped 50
 * times; no request that started after an activation returned may be
 * answered by the version it replaced, in any isolate.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { writeNetworkConfigs } from "./network/configs.ts";
import { httpRequest, startPlatform, workerdPort, writeSite, type Platform } from "./platform.ts";

const FLIPS = 50;
/** Isolates 0 and 1 share location 0; isolate 2 is location 1. */
const ISOLATES = [0, 1, 2];

let platform: Platform;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "r2a-isolates-"));
  const token = `e2e-${randomUUID()}`;
  const configs = await writeNetworkConfigs(dir, { token, leaseMs: 200, locations: 2, isolatesPerLocation: 2 });
  // Edges 0 and 1 are location 0; edge 2 is location 1 (edge 3 is left idle).
  platform = await startPlatform({ config: configs[0], extraConfigs: configs.slice(1), token, leaseMs: 200 });
  port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
    return (await fetch(`http://127.0.0.1:${candidate}/api/health`, { signal: AbortSignal.timeout(2000) })).ok;
  });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function served(isolate: number): Promise<string> {
  const res = await httpRequest(port, "flips.localhost", "/", { headers: { "x-sim-isolate": String(isolate) } });
  if (res.status !== 200) {
    throw new Error(`isolate ${isolate}: ${res.status} ${res.body.toString()}`);
  }
  return String(res.headers["x-r2-assets-version"]);
}

it("never starts a request on a replaced version in any isolate once an activation returns", async ({ expect }) => {
  const versions: string[] = [];
  for (const text of ["one", "two"]) {
    const site = await writeSite({ "index.html": `<h1>${text}</h1>` });
    const result = await platform.cli(["deploy", site, "--project", "flips", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    versions.push((JSON.parse(result.stdout) as { version: string }).version);
  }
  // Every isolate holds a lease on the live version, as in service.
  for (const isolate of ISOLATES) {
    expect(await served(isolate)).toBe(versions[1]);
  }
  const activations: { returned: number; version: string }[] = [{ returned: 0, version: versions[1] ?? "" }];
  const samples: { start: number; isolate: number; version: string }[] = [];
  const flipping = { on: true };
  const load = Promise.all(
    ISOLATES.map(async (isolate) => {
      while (flipping.on) {
        const start = performance.now();
        samples.push({ start, isolate, version: await served(isolate) });
      }
    }),
  );
  for (let flip = 0; flip < FLIPS; flip += 1) {
    const version = versions[flip % 2] ?? "";
    const answer = await platform.api("POST", "/api/projects/flips/activate", { version });
    expect(answer.status).toBe(200);
    activations.push({ returned: performance.now(), version });
    // Right after it returns, every isolate serves the new version.
    expect(await Promise.all(ISOLATES.map(served))).toEqual(ISOLATES.map(() => version));
  }
  flipping.on = false;
  await load;
  // A request that started after an activation returned is answered by that version or a later one.
  const stale = samples.filter(({ start, version }) => {
    const last = activations.findLastIndex((activation) => activation.returned <= start);
    return !activations.slice(last).some((activation) => activation.version === version);
  });
  expect(samples.length).toBeGreaterThan(FLIPS * ISOLATES.length);
  expect(stale).toEqual([]);
});
