/**
 * The benchmark's analytics section: the same platform twice, with request
 * analytics recorded (the default) and with RECORD_ANALYTICS=off, the same
 * 1,000 small files deployed to each, in interleaved rounds (the order
 * flips each round), straight to each workerd. Also counts, from
 * GET /api/stats, the Durable Object calls per 1,000 requests on each side
 * (recording must add none to the request path) and the analytics flushes
 * the recording isolate made per 5 s of load.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPlatform, workerdPort, writeFiles, type Platform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { load, sequence, type LoadResult, type Target } from "./load.ts";

const ROUNDS = 4;
const SECONDS = 4;
const CONNECTIONS = 32;
const FILES = 1000;

interface Stats {
  manifestCalls: number;
  analyticsFlushes: number;
}

export async function analyticsSection(): Promise<string[]> {
  const states = [await mkdtemp(join(tmpdir(), "r2a-bench-on-")), await mkdtemp(join(tmpdir(), "r2a-bench-off-"))];
  const site = await mkdtemp(join(tmpdir(), "r2a-bench-site-"));
  log("analytics: starting the platform with analytics on, and off");
  const on = await startPlatform({ state: states[0], leaseMs: 1000 });
  const off = await startPlatform({ state: states[1], leaseMs: 1000, vars: { RECORD_ANALYTICS: "off" } });
  try {
    const random = sequence(5);
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < FILES; i += 1) {
      files[`f/${i}.txt`] = randomBytes(1024 + Math.floor(random() * 3 * 1024));
    }
    await writeFiles(site, files);
    for (const platform of [on, off]) {
      const deployed = await platform.cli(["deploy", site, "--project", "counted", "--no-compress"]);
      if (deployed.code !== 0) {
        throw new Error(`deploy failed: ${deployed.stderr}`);
      }
    }
    const ports = await Promise.all(
      [on, off].map((platform) =>
        workerdPort(platform.processGroup, platform.port, async (port) => {
          const response = await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(2000) });
          return response.ok;
        }),
      ),
    );
    const pick = sequence(9);
    const target = (port: number): Target => ({
      port,
      status: 200,
      next: () => ({ host: "counted.localhost", path: `/f/${Math.floor(pick() * FILES)}.txt` }),
    });
    const [onTarget, offTarget] = [target(ports[0] ?? 0), target(ports[1] ?? 0)];
    await load(onTarget, 3, CONNECTIONS);
    await load(offTarget, 3, CONNECTIONS);
    const runs: { on: LoadResult[]; off: LoadResult[] } = { on: [], off: [] };
    const startOn = await stats(ports[0] ?? 0, on);
    const startOff = await stats(ports[1] ?? 0, off);
    for (let round = 0; round < ROUNDS; round += 1) {
      log(`analytics: round ${round + 1} of ${ROUNDS}`);
      const order: ("on" | "off")[] = round % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const side of order) {
        runs[side].push(await load(side === "on" ? onTarget : offTarget, SECONDS, CONNECTIONS));
      }
    }
    const endOn = await stats(ports[0] ?? 0, on);
    const endOff = await stats(ports[1] ?? 0, off);
    const requests = (list: LoadResult[]): number => list.reduce((sum, run) => sum + run.requests, 0);
    const perThousand = (calls: number, list: LoadResult[]): string => ((calls / requests(list)) * 1000).toFixed(2);
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const ratios = runs.on.map((run, i) => (run.rps / (runs.off[i]?.rps ?? 1)).toFixed(2));
    const loadSeconds = ROUNDS * SECONDS;
    return [
      `### Analytics on vs off (1,000 small files, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s)`,
      "",
      "| | req/s (median) | p50 / p99 ms | Durable Object calls per 1,000 requests | analytics flushes per 5 s of load |",
      "|---|---:|---:|---:|---:|",
      `| recording | ${median(runs.on.map((run) => run.rps)).toFixed(0)} | ${median(runs.on.map((r) => r.p50)).toFixed(1)} / ${median(runs.on.map((r) => r.p99)).toFixed(1)} | ${perThousand(endOn.manifestCalls - startOn.manifestCalls, runs.on)} | ${(((endOn.analyticsFlushes - startOn.analyticsFlushes) / loadSeconds) * 5).toFixed(2)} |`,
      `| off | ${median(runs.off.map((run) => run.rps)).toFixed(0)} | ${median(runs.off.map((r) => r.p50)).toFixed(1)} / ${median(runs.off.map((r) => r.p99)).toFixed(1)} | ${perThousand(endOff.manifestCalls - startOff.manifestCalls, runs.off)} | ${(((endOff.analyticsFlushes - startOff.analyticsFlushes) / loadSeconds) * 5).toFixed(2)} |`,
      "",
      `Recording / off, per round: ${ratios.join(", ")}.`,
    ];
  } finally {
    await on.stop();
    await off.stop();
    for (const dir of [...states, site]) {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function stats(port: number, platform: Platform): Promise<Stats> {
  const response = await fetch(`http://127.0.0.1:${port}/api/stats`, {
    headers: { authorization: `Bearer ${platform.token}` },
  });
  if (!response.ok) {
    throw new Error(`GET /api/stats: ${response.status}`);
  }
  return (await response.json()) as Stats;
}
