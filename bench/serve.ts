/**
 * The benchmark's serving section: requests per second and latency of
 * r2-assets against the plain-R2 Worker (bench/raw-r2), the same files in
 * both, in interleaved rounds (the order flips each round), straight to
 * each workerd. Scenarios: 1,000 small files; a single-page app's
 * fallback; a 10-file and a 100,000-file manifest; 64 KiB ranges of a
 * 100 MB file. For r2-assets it also counts the calls to the project's
 * Durable Object per 1,000 warm requests (GET /api/stats).
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PART_SIZE } from "../src/shared/limits.ts";
import { mapLimit } from "../src/shared/pool.ts";
import { workerdPort, writeFiles, writeRandomFile, type Platform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { load, sequence, type LoadResult, type Target } from "./load.ts";

const ROUNDS = 3;
const SECONDS = 4;
const WARM_SECONDS = 3;
/** Distinct paths asked for in the large-manifest and fallback scenarios: a site's hot set. */
const WORKING_SET = 1000;
const CONNECTIONS = 32;
const MEDIA_BYTES = 100 * 1000 * 1000;
const RANGE_BYTES = 64 * 1024;

interface Scenario {
  name: string;
  platform: Target;
  raw: Target;
}

interface Measured {
  name: string;
  platform: LoadResult[];
  raw: LoadResult[];
  /** Durable Object calls per second of the measured (warm) runs: per lease, with the bench's 1 s lease. */
  doCalls: number;
  /** Requests that waited for a lease's renewal in the measured runs. */
  waits: number;
}

/** A manifest of many files the deploy section left, served by r2-assets and written to plain R2. */
export interface BigManifest {
  project: string;
  /** Its paths, also the plain R2 keys under `deploy-<label>/`. */
  paths: readonly string[];
  label: string;
}

export async function serveSection(platform: Platform, raw: Platform, big: BigManifest | null): Promise<string[]> {
  const platformPort = await workerdPort(platform.processGroup, platform.port, (port) => ok(port, "/api/health"));
  const rawPort = await workerdPort(raw.processGroup, raw.port, (port) => ok(port, "/health"));
  const scenarios = await prepare(platform, raw, platformPort, rawPort, big);
  const measured: Measured[] = [];
  for (const scenario of scenarios) {
    log(`serve: ${scenario.name}`);
    // Warm both up, so that rounds compare warm serving.
    await load(scenario.platform, WARM_SECONDS, CONNECTIONS);
    await load(scenario.raw, WARM_SECONDS, CONNECTIONS);
    const result: Measured = { name: scenario.name, platform: [], raw: [], doCalls: 0, waits: 0 };
    let calls = 0;
    let loaded = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Counted over r2-assets' own runs only: a renewal armed at the end of
      // one asks after it, during the plain-R2 run, and is not counted. The
      // lease ran out while plain R2 ran: a moment of one connection's load
      // renews it first, so that the count is of steady load, not of the
      // 32 requests that would all find it run out at once.
      const runPlatform = async (): Promise<void> => {
        await load(scenario.platform, 0.2, 1);
        const before = await servingStats(platformPort, platform.token);
        const started = performance.now();
        const run = await load(scenario.platform, SECONDS, CONNECTIONS);
        const after = await servingStats(platformPort, platform.token);
        loaded += (performance.now() - started) / 1000;
        calls += after.manifestCalls - before.manifestCalls;
        result.waits += after.renewalWaits - before.renewalWaits;
        result.platform.push(run);
      };
      const runRaw = async (): Promise<void> => {
        result.raw.push(await load(scenario.raw, SECONDS, CONNECTIONS));
      };
      if (round % 2 === 0) {
        await runPlatform();
        await runRaw();
      } else {
        await runRaw();
        await runPlatform();
      }
    }
    result.doCalls = calls / loaded;
    measured.push(result);
  }
  return report(measured);
}

/** Deploys and writes what the scenarios ask for. */
async function prepare(
  platform: Platform,
  raw: Platform,
  platformPort: number,
  rawPort: number,
  big: BigManifest | null,
): Promise<Scenario[]> {
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-serve-"));
  try {
    log("serve: deploying the sites and writing the same files to plain R2");
    const random = sequence(7);
    const small: Record<string, Uint8Array> = { "index.html": Buffer.from("<!doctype html><div id=app></div>") };
    for (let i = 0; i < 1000; i += 1) {
      small[`f/${i}.txt`] = randomBytes(1024 + Math.floor(random() * 3 * 1024));
    }
    const ten: Record<string, Uint8Array> = {};
    for (let i = 0; i < 10; i += 1) {
      ten[`t/${i}.txt`] = randomBytes(2048);
    }
    await writeFiles(join(dir, "small"), small);
    await writeFiles(join(dir, "ten"), ten);
    await mkdir(join(dir, "media"));
    await writeRandomFile(join(dir, "media", "media.bin"), MEDIA_BYTES);
    for (const [sub, project, extra] of [
      ["small", "serve-small", ["--not-found-handling", "single-page-application"]],
      ["ten", "serve-ten", []],
      ["media", "serve-media", []],
    ] as const) {
      const result = await platform.cli(["deploy", join(dir, sub), "--project", project, ...extra]);
      if (result.code !== 0) {
        throw new Error(`deploy of ${project} failed: ${result.stderr}`);
      }
    }
    await mapLimit(Object.entries(small), 16, ([path, bytes]) => put(raw.port, `/site/${path}`, bytes));
    // In parts, as the CLI stores it: local R2 reads objects uploaded in parts more slowly than whole ones.
    await putInParts(raw.port, "/media.bin", await readFile(join(dir, "media", "media.bin")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const pick = sequence(11);
  const index = (n: number): number => Math.floor(pick() * n);
  const rawHost = "127.0.0.1";
  const rangeHeaders = (): Record<string, string> => {
    const start = index(MEDIA_BYTES - RANGE_BYTES);
    return { range: `bytes=${start}-${start + RANGE_BYTES - 1}` };
  };
  const rawSmall: Target = {
    port: rawPort,
    status: 200,
    next: () => ({ host: rawHost, path: `/site/f/${index(1000)}.txt` }),
  };
  const scenarios: Scenario[] = [
    {
      name: "1,000 small files (1–4 KiB)",
      platform: {
        port: platformPort,
        status: 200,
        next: () => ({ host: "serve-small.localhost", path: `/f/${index(1000)}.txt` }),
      },
      raw: rawSmall,
    },
    {
      name: `single-page app fallback (navigations to ${WORKING_SET} routes with no file)`,
      platform: {
        port: platformPort,
        status: 200,
        next: () => ({
          host: "serve-small.localhost",
          path: `/app/route-${index(WORKING_SET)}`,
          headers: { "sec-fetch-mode": "navigate" },
        }),
      },
      raw: {
        port: rawPort,
        status: 200,
        next: () => ({ host: rawHost, path: `/spa/app/route-${index(WORKING_SET)}` }),
      },
    },
    {
      name: "a 10-file manifest (plain R2: the 1,000 small files)",
      platform: {
        port: platformPort,
        status: 200,
        next: () => ({ host: "serve-ten.localhost", path: `/t/${index(10)}.txt` }),
      },
      raw: rawSmall,
    },
  ];
  if (big) {
    const hot = Array.from(
      { length: WORKING_SET },
      (_, i) => big.paths[Math.floor((i * big.paths.length) / WORKING_SET)] ?? "",
    );
    scenarios.push({
      name: `a ${big.paths.length.toLocaleString("en-US")}-file manifest, ${WORKING_SET} of its files asked for`,
      platform: {
        port: platformPort,
        status: 200,
        next: () => ({ host: `${big.project}.localhost`, path: `/${hot[index(WORKING_SET)] ?? ""}` }),
      },
      raw: {
        port: rawPort,
        status: 200,
        next: () => ({ host: rawHost, path: `/deploy-${big.label}/${hot[index(WORKING_SET)] ?? ""}` }),
      },
    });
  }
  scenarios.push({
    name: "64 KiB ranges of a 100 MB file",
    platform: {
      port: platformPort,
      status: 206,
      next: () => ({ host: "serve-media.localhost", path: "/media.bin", headers: rangeHeaders() }),
    },
    raw: { port: rawPort, status: 206, next: () => ({ host: rawHost, path: "/media.bin", headers: rangeHeaders() }) },
  });
  return scenarios;
}

function report(measured: readonly Measured[]): string[] {
  const out = [
    `### Serving (${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, straight to each workerd)`,
    "",
    `| Scenario | r2-assets req/s | plain R2 req/s | r2-assets / plain R2, per round | p50 / p99 ms, r2-assets | p50 / p99 ms, plain R2 | Durable Object calls a second (1 s lease) | requests that waited for a lease, in ${ROUNDS * SECONDS} s |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  for (const row of measured) {
    const ratios = row.platform.map((run, i) => (run.rps / (row.raw[i]?.rps ?? 1)).toFixed(2)).join(", ");
    const lat = (runs: LoadResult[]): string =>
      `${median(runs.map((run) => run.p50)).toFixed(1)} / ${median(runs.map((run) => run.p99)).toFixed(1)}`;
    out.push(
      `| ${row.name} | ${median(row.platform.map((run) => run.rps)).toFixed(0)} | ${median(row.raw.map((run) => run.rps)).toFixed(0)} | ` +
        `${ratios} | ${lat(row.platform)} | ${lat(row.raw)} | ${row.doCalls.toFixed(2)} | ${row.waits} |`,
    );
  }
  return out;
}

async function servingStats(port: number, token: string): Promise<{ manifestCalls: number; renewalWaits: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) {
    throw new Error(`GET /api/stats: ${response.status}`);
  }
  return (await response.json()) as { manifestCalls: number; renewalWaits: number };
}

async function ok(port: number, path: string): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

/** A multipart upload to the plain-R2 Worker, in the CLI's part size. */
async function putInParts(port: number, path: string, bytes: Uint8Array): Promise<void> {
  const { uploadId } = JSON.parse(await put(port, `${path}?uploads`, new Uint8Array(0), "POST")) as {
    uploadId: string;
  };
  const parts: unknown[] = [];
  for (let start = 0, n = 1; start < bytes.byteLength; start += DEFAULT_PART_SIZE, n += 1) {
    const query = `?uploadId=${encodeURIComponent(uploadId)}&partNumber=${n}`;
    parts.push(JSON.parse(await put(port, path + query, bytes.subarray(start, start + DEFAULT_PART_SIZE))));
  }
  await put(port, `${path}?uploadId=${encodeURIComponent(uploadId)}`, Buffer.from(JSON.stringify(parts)), "POST");
}

export function put(port: number, path: string, body: Uint8Array, method = "PUT"): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, method, headers: { "content-length": body.byteLength } },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () =>
          response.statusCode === 200 ? resolve(text) : reject(new Error(`${method} ${path}: ${response.statusCode}`)),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
