/**
 * `npm run sim`: the platform as Cloudflare runs it, in one machine.
 * Serving isolates (each its own Worker in one `wrangler dev`, bound to the
 * same Durable Objects and R2 bucket) are grouped into locations that share
 * a Cache API; every Durable Object call from them takes an injected round
 * trip. Requests follow a Zipf law over a large manifest while the live
 * version is activated again and again. Reported per configuration:
 * Durable Object calls per second (pointer leases, lookups of paths,
 * registry), requests that waited for a lease, p50/p99, requests that
 * started on a replaced version after its activation returned (must be 0),
 * and how long the activations took to return.
 *
 * R2_ASSETS_SIM_FILES (default 100000), R2_ASSETS_SIM_SECONDS per
 * configuration (default 10), R2_ASSETS_SIM_ISOLATES per location (default 8). Markdown on stdout, progress on stderr.
 */
import http from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { writeNetworkConfigs } from "../../test/e2e/network/configs.ts";
import { startPlatform, workerdPort, type Platform } from "../../test/e2e/platform.ts";
import { log } from "../common.ts";
import { writeManyFiles } from "./files.ts";
import { zipf } from "./zipf.ts";

const FILES = Number(process.env.R2_ASSETS_SIM_FILES ?? "100000");
const SECONDS = Number(process.env.R2_ASSETS_SIM_SECONDS ?? "10");
const LOCATIONS = 3;
/** Isolates a location runs in the rows that run more than one (R2_ASSETS_SIM_ISOLATES, default 8). */
const MAX_ISOLATES = Number(process.env.R2_ASSETS_SIM_ISOLATES ?? "8");
const LEASE_MS = 1000;
const CONNECTIONS = 8;
const PROJECT = "sim";
/** [isolates per location, round trip ms] */
const CONFIGURATIONS: [number, number][] = [
  [1, 0],
  [MAX_ISOLATES, 0],
  [1, 50],
  [MAX_ISOLATES, 50],
  [1, 150],
  [MAX_ISOLATES, 150],
];

interface Stats {
  manifestCalls: number;
  leaseRefreshes: number;
  renewalWaits: number;
  locationHits: number;
  registryCalls: number;
  registryWaits: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "r2a-sim-"));
  const token = `sim-${randomUUID()}`;
  const configs = await writeNetworkConfigs(dir, {
    token,
    leaseMs: LEASE_MS,
    locations: LOCATIONS,
    isolatesPerLocation: MAX_ISOLATES,
  });
  log(`starting the platform and ${LOCATIONS * MAX_ISOLATES} serving isolates in ${LOCATIONS} locations`);
  const platform = await startPlatform({
    config: configs[0],
    extraConfigs: configs.slice(1),
    state: join(dir, "state"),
    leaseMs: LEASE_MS,
    token,
  });
  try {
    const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
      return (await fetch(`http://127.0.0.1:${candidate}/api/health`)).ok;
    });
    const versions = await deployVersions(platform, dir);
    console.log(
      [
        `## Network simulation, ${new Date().toISOString().slice(0, 10)}`,
        "",
        `${LOCATIONS} locations; ${FILES.toLocaleString("en")} files, Zipf (s = 1); ${CONNECTIONS} connections for ${SECONDS} s per row; ` +
          `lease ${LEASE_MS} ms; the live version activated every ${(SECONDS / 3).toFixed(1)} s.`,
        "",
        "| isolates per location | DO round trip | requests | pointer calls/s | path lookups/s | registry calls/s | waited for a lease | p50 | p99 | on a replaced version | activations took |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
      ].join("\n"),
    );
    // Steady state: every isolate has loaded the pages its share of the load falls in, unreported.
    log("warming every isolate up");
    await runConfiguration(platform, port, versions, MAX_ISOLATES, 0);
    for (const [isolates, rtt] of CONFIGURATIONS) {
      console.log(await runConfiguration(platform, port, versions, isolates, rtt));
    }
  } finally {
    await platform.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Three versions of the same files but one (a deploy of exactly the live
 * files is the live version again, and activating it would replace
 * nothing): the first live, the others staged, to be activated in turn.
 */
async function deployVersions(platform: Platform, dir: string): Promise<string[]> {
  const site = join(dir, "site");
  await writeManyFiles(site, FILES);
  const versions: string[] = [];
  for (let n = 0; n < 3; n += 1) {
    log(`deploying version ${n + 1} of ${FILES} files`);
    await writeFile(join(site, "version.txt"), `version ${n + 1}\n`);
    const args = ["deploy", site, "--project", PROJECT, "--message", `v${n}`, "--json"];
    const result = await platform.cli(n === 0 ? args : [...args, "--no-activate"]);
    if (result.code !== 0) {
      throw new Error(`deploy failed: ${result.stderr}`);
    }
    versions.push((JSON.parse(result.stdout) as { version: string }).version);
  }
  if (new Set(versions).size !== versions.length) {
    throw new Error(`the three deploys made ${new Set(versions).size} distinct versions: ${versions.join(", ")}`);
  }
  return versions;
}

async function statsOf(port: number, isolate: number, token: string): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${port}/api/stats`, {
    headers: { authorization: `Bearer ${token}`, "x-sim-isolate": String(isolate) },
  });
  return (await response.json()) as Stats;
}

async function runConfiguration(
  platform: Platform,
  port: number,
  versions: string[],
  isolates: number,
  rtt: number,
): Promise<string> {
  const edges = Array.from({ length: LOCATIONS }, (_, location) =>
    Array.from({ length: isolates }, (_unused, i) => location * MAX_ISOLATES + i),
  ).flat();
  log(`${isolates} isolate(s) per location, round trip ${rtt} ms`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const pick = zipf(FILES, 1);
  const get = (isolate: number, path: string): Promise<{ status: number; version: string }> =>
    new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: "127.0.0.1",
          port,
          path,
          agent,
          headers: { host: `${PROJECT}.localhost`, "x-sim-isolate": String(isolate), "x-sim-rtt": String(rtt) },
        },
        (response) => {
          response.resume();
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, version: String(response.headers["x-r2-assets-version"]) }),
          );
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end();
    });
  // Warm each isolate's lease and configuration, as a location in service would be.
  for (const isolate of edges) {
    await get(isolate, "/f/0.txt");
  }
  const before = await Promise.all(edges.map((isolate) => statsOf(port, isolate, platform.token)));
  const activations: { issued: number; returned: number; version: string }[] = [];
  const samples: { start: number; end: number; version: string; latency: number }[] = [];
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const activator = (async () => {
    const current = await platform.api("GET", `/api/projects/${PROJECT}`);
    let index = versions.indexOf((current.json as { activeVersion: string }).activeVersion);
    activations.push({ issued: 0, returned: 0, version: versions[index] ?? "" });
    for (let n = 1; n <= 2; n += 1) {
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      index = (index + 1) % versions.length;
      const version = versions[index] ?? "";
      const issued = performance.now();
      const answer = await platform.api("POST", `/api/projects/${PROJECT}/activate`, { version });
      if (answer.status !== 200) {
        throw new Error(`activate: ${answer.status} ${JSON.stringify(answer.json)}`);
      }
      activations.push({ issued, returned: performance.now(), version });
    }
  })();
  let failures = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < deadline) {
        const isolate = edges[Math.floor(Math.random() * edges.length)] ?? 0;
        const start = performance.now();
        const { status, version } = await get(isolate, `/f/${pick()}.txt`);
        const end = performance.now();
        if (status !== 200) {
          failures += 1;
        }
        samples.push({ start, end, version, latency: end - start });
      }
    }),
  );
  await activator;
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all(edges.map((isolate) => statsOf(port, isolate, platform.token)));
  agent.destroy();
  const delta = (field: keyof Stats): number =>
    after.reduce((sum, stats, i) => sum + stats[field] - (before[i]?.[field] ?? 0), 0);
  const stale = samples.filter((sample) => !allowed(sample, activations)).length;
  const latencies = samples.map((sample) => sample.latency).sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  if (failures > 0) {
    log(`${failures} requests failed; the end of the log:\n${platform.logs().slice(-3000)}`);
  }
  // How long each activation took to return: the lease and the grace its Durable Object granted.
  const took = activations
    .slice(1)
    .map((activation) => `${Math.round(activation.returned - activation.issued)}`)
    .join(", ");
  return `| ${isolates} | ${rtt} ms | ${samples.length} | ${(delta("leaseRefreshes") / seconds).toFixed(1)} | ${(
    (delta("manifestCalls") - delta("leaseRefreshes")) /
    seconds
  ).toFixed(
    1,
  )} | ${(delta("registryCalls") / seconds).toFixed(1)} | ${delta("renewalWaits")} | ${at(0.5).toFixed(1)} ms | ${at(
    0.99,
  ).toFixed(1)} ms | ${stale} | ${took} ms |`;
}

/**
 * Whether a request served `version` as the promise allows: the version of
 * the last activation that had returned when it started, or of one issued
 * after that before it ended.
 */
function allowed(
  sample: { start: number; end: number; version: string },
  activations: readonly { issued: number; returned: number; version: string }[],
): boolean {
  let last = 0;
  activations.forEach((activation, index) => {
    if (activation.returned <= sample.start) {
      last = index;
    }
  });
  return activations.some(
    (activation, index) =>
      activation.version === sample.version && (index === last || (index > last && activation.issued <= sample.end)),
  );
}

main().catch((error: unknown) => {
  console.error(`sim: error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
