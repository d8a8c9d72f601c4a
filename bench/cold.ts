/**
 * The benchmark's cold section (#21): each of 1,000 small files asked for
 * once, by a freshly started isolate, from r2-assets, the plain-R2 Worker
 * and Workers Static Assets, side by side in one run (each restarted
 * before it is measured, so that nothing is warm but what is on disk),
 * then the same paths again, warm. For r2-assets it counts the Durable
 * Object calls the cold pass made.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit } from "../src/shared/pool.ts";
import { startPlatform, workerdPort, writeFiles } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { sequence } from "./load.ts";
import { decodePage, encodePage, pageBitsFor, pageOf, pathHash, type SnapshotFile } from "../src/shared/snapshot.ts";
import { put } from "./serve.ts";

const FILES = 1000;
const CONNECTIONS = 8;

interface Pass {
  seconds: number;
  p50: number;
  p99: number;
}

interface Side {
  name: string;
  cold: Pass;
  warm: Pass;
  doCalls: number | null;
}

export async function coldSection(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-cold-"));
  try {
    const random = sequence(3);
    const files: Record<string, Uint8Array> = { "health.txt": Buffer.from("ok") };
    for (let i = 0; i < FILES; i += 1) {
      files[`f/${i}.txt`] = randomBytes(1024 + Math.floor(random() * 3 * 1024));
    }
    const site = join(dir, "site");
    await writeFiles(site, files);
    const paths = Array.from({ length: FILES }, (_, i) => `/f/${i}.txt`);
    const sides: Side[] = [];
    sides.push(await measureR2Assets(dir, site, paths));
    sides.push(await measureRaw(dir, files, paths));
    sides.push(await measureStaticAssets(dir, site, paths));
    return [...report(sides), "", ...snapshotSizes()];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureR2Assets(dir: string, site: string, paths: readonly string[]): Promise<Side> {
  const state = join(dir, "r2a-state");
  log("cold: deploying the files to r2-assets");
  let platform = await startPlatform({ state, leaseMs: 1000 });
  const deployed = await platform.cli(["deploy", site, "--project", "cold"]);
  await platform.stop();
  if (deployed.code !== 0) {
    throw new Error(`deploy failed: ${deployed.stderr}`);
  }
  platform = await startPlatform({ state, leaseMs: 1000 });
  try {
    const port = await workerdPort(platform.processGroup, platform.port, (p) => ok(p, "localhost", "/api/health"));
    log("cold: r2-assets, a fresh isolate");
    const cold = await pass(port, "cold.localhost", paths);
    const calls = await manifestCalls(port, platform.token);
    const warm = await pass(port, "cold.localhost", paths);
    return { name: "r2-assets", cold, warm, doCalls: calls };
  } finally {
    await platform.stop();
  }
}

async function measureRaw(dir: string, files: Record<string, Uint8Array>, paths: readonly string[]): Promise<Side> {
  const state = join(dir, "raw-state");
  const options = { config: "bench/raw-r2/wrangler.toml", healthPath: "/health", state };
  let raw = await startPlatform(options);
  await mapLimit(Object.entries(files), 16, ([path, bytes]) => put(raw.port, `/site/${path}`, bytes));
  await raw.stop();
  raw = await startPlatform(options);
  try {
    const port = await workerdPort(raw.processGroup, raw.port, (p) => ok(p, "127.0.0.1", "/health"));
    log("cold: the plain-R2 Worker, a fresh isolate");
    const site = paths.map((path) => `/site${path}`);
    const cold = await pass(port, "127.0.0.1", site);
    const warm = await pass(port, "127.0.0.1", site);
    return { name: "plain R2 Worker", cold, warm, doCalls: null };
  } finally {
    await raw.stop();
  }
}

async function measureStaticAssets(dir: string, site: string, paths: readonly string[]): Promise<Side> {
  const config = join(dir, "static-assets.toml");
  await writeFile(
    config,
    [`name = "r2-assets-bench-static"`, `compatibility_date = "2026-11-01"`, "[assets]", `directory = "${site}"`].join(
      "\n",
    ),
  );
  const assets = await startPlatform({ config, healthPath: "/health.txt", state: join(dir, "static-state") });
  try {
    const port = await workerdPort(assets.processGroup, assets.port, (p) => ok(p, "127.0.0.1", "/health.txt"));
    log("cold: Workers Static Assets, a fresh isolate");
    const cold = await pass(port, "127.0.0.1", paths);
    const warm = await pass(port, "127.0.0.1", paths);
    return { name: "Workers Static Assets", cold, warm, doCalls: null };
  } finally {
    await assets.stop();
  }
}

/** Asks for each path once, CONNECTIONS at a time. */
async function pass(port: number, host: string, paths: readonly string[]): Promise<Pass> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  const started = performance.now();
  await mapLimit([...paths], CONNECTIONS, async (path) => {
    const sent = performance.now();
    const status = await get(agent, port, host, path);
    if (status !== 200) {
      throw new Error(`GET ${host}${path}: ${status}`);
    }
    latencies.push(performance.now() - sent);
  });
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { seconds, p50: at(0.5), p99: at(0.99) };
}

function get(agent: http.Agent, port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, agent, headers: { host } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

async function ok(port: number, host: string, path: string): Promise<boolean> {
  return (await get(new http.Agent(), port, host, path)) === 200;
}

async function manifestCalls(port: number, token: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
  return ((await response.json()) as { manifestCalls: number }).manifestCalls;
}

/** Snapshot bytes per file, and the time to decode a page and search it, at 10,000 and 1,000,000 files. */
function snapshotSizes(): string[] {
  const rows: string[] = [];
  for (const count of [10_000, 1_000_000]) {
    const bits = pageBitsFor(count);
    const pages = new Map<number, SnapshotFile[]>();
    for (let n = 0; n < count; n += 1) {
      const path = `/assets/${(n % 100).toString(36)}/chunk-${n.toString(36)}.js`;
      const page = pageOf(pathHash(path), bits);
      const file: SnapshotFile = {
        path,
        hash: n.toString(16).padStart(64, "0"),
        size: 1000 + n,
        contentType: "text/javascript; charset=utf-8",
        storedAt: Date.now(),
        pack: n % 2 === 0 ? null : `pack-${n % 97}`,
        offset: n % 2 === 0 ? null : n,
      };
      const list = pages.get(page) ?? [];
      list.push(file);
      pages.set(page, list);
    }
    let bytes = 0;
    let decodeMs = 0;
    const sample = [...pages.values()].slice(0, 16);
    for (const files of pages.values()) {
      bytes += encodePage(files).byteLength;
    }
    for (const files of sample) {
      const encoded = encodePage(files);
      const started = performance.now();
      const page = decodePage(encoded);
      for (const file of files.slice(0, 100)) {
        page.find(file.path);
      }
      decodeMs += performance.now() - started;
    }
    rows.push(
      `| ${count.toLocaleString("en-US")} | ${2 ** bits} | ${(bytes / count).toFixed(1)} B | ${(
        bytes /
        2 ** bits /
        1024
      ).toFixed(0)} KiB | ${(decodeMs / sample.length).toFixed(2)} ms |`,
    );
  }
  return [
    "Manifest snapshots (paths like `/assets/1a/chunk-2bx.js`; decoding a page and 100 searches in it, in Node):",
    "",
    "| files | pages | bytes per file | bytes per page | decode + 100 searches per page |",
    "|---|---|---|---|---|",
    ...rows,
  ];
}

function report(sides: readonly Side[]): string[] {
  const rate = (p: Pass): string => `${(FILES / p.seconds).toFixed(0)}/s`;
  const ms = (n: number): string => `${n.toFixed(1)} ms`;
  return [
    `### Cold paths (${FILES} small files, each asked for once by a freshly started isolate, ${CONNECTIONS} connections; then again, warm)`,
    "",
    "| | cold requests/s | cold p50 | cold p99 | warm requests/s | warm p50 | cold p50 / warm p50 | Durable Object calls, cold pass |",
    "|---|---|---|---|---|---|---|---|",
    ...sides.map(
      (side) =>
        `| ${side.name} | ${rate(side.cold)} | ${ms(side.cold.p50)} | ${ms(side.cold.p99)} | ${rate(side.warm)} | ${ms(
          side.warm.p50,
        )} | ${(side.cold.p50 / side.warm.p50).toFixed(2)} | ${side.doCalls ?? "–"} |`,
    ),
  ];
}
