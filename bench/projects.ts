/**
 * The control plane at many tenants (#20): how fast projects are created
 * (16 at a time), how long a page of the project list takes as their
 * number grows, and host dispatch (a project's host, and hosts naming no
 * project) with 10 projects and again with all of them, side by side in
 * one run, with the size of the host filter each isolate holds. Creation
 * and page figures are absolute times on this machine, for the README.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workerdPort, writeFiles, type Platform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { load, sequence, type LoadResult } from "./load.ts";

const PARALLEL = 16;
const DISPATCH_SECONDS = 4;
const CONNECTIONS = 32;

interface Dispatch {
  projects: number;
  when: string;
  known: LoadResult;
  unknown: LoadResult;
  filterBytes: number;
}

/**
 * `start` starts the platform on the same state each time: host dispatch
 * with every project is measured right after they are created, and again
 * after a restart (a runtime holding no project's Durable Object, as a
 * serving isolate on the network holds none: locally they share workerd's
 * process and heap with the Worker).
 */
export async function projectsSection(start: () => Promise<Platform>, count: number): Promise<string[]> {
  const platform = await start();
  try {
    return await measure(platform, start, count);
  } finally {
    await platform.stop();
  }
}

async function measure(platform: Platform, start: () => Promise<Platform>, count: number): Promise<string[]> {
  const headers = { authorization: `Bearer ${platform.token}`, "content-type": "application/json" };
  // Straight to workerd: wrangler dev's proxy costs more per request than the control plane does.
  const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
    return (await fetch(`http://127.0.0.1:${candidate}/api/health`)).ok;
  });
  const base = `http://127.0.0.1:${port}`;
  const create = async (from: number, to: number): Promise<void> => {
    let next = from;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let i = next++; i < to; i = next++) {
          const response = await fetch(`${base}/api/projects/tenant-${String(i).padStart(6, "0")}`, {
            method: "PUT",
            headers,
            body: "{}",
          });
          if (!response.ok) {
            throw new Error(`creating a project: ${response.status} ${await response.text()}`);
          }
          await response.arrayBuffer();
        }
      }),
    );
  };
  const few = Math.min(10, count);
  await create(0, few);
  const site = await mkdtemp(join(tmpdir(), "r2a-bench-tenant-"));
  await writeFiles(site, { "index.html": "<h1>tenant</h1>" });
  const deployed = await platform.cli(["deploy", site, "--project", "tenant-000000"]);
  await rm(site, { recursive: true, force: true });
  if (deployed.code !== 0) {
    throw new Error(`deploy failed: ${deployed.stderr}`);
  }
  const dispatch: Dispatch[] = [await measureDispatch(port, platform.token, few, "")];
  const started = performance.now();
  await create(few, count);
  const seconds = (performance.now() - started) / 1000;
  log(`created ${count - few} more projects in ${seconds.toFixed(1)} s`);
  dispatch.push(await measureDispatch(port, platform.token, count, "right after creating them"));
  const pageTimes: number[] = [];
  let cursor: string | null = null;
  let listed = 0;
  do {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const t = performance.now();
    const response = await fetch(`${base}/api/projects?${query.toString()}`, { headers });
    const page = (await response.json()) as { projects: unknown[]; cursor: string | null };
    pageTimes.push(performance.now() - t);
    listed += page.projects.length;
    cursor = page.cursor;
  } while (cursor !== null);
  pageTimes.sort((a, b) => a - b);
  await platform.stop();
  const restarted = await start();
  try {
    const again = await workerdPort(restarted.processGroup, restarted.port, async (candidate) => {
      return (await fetch(`http://127.0.0.1:${candidate}/api/health`)).ok;
    });
    dispatch.push(await measureDispatch(again, restarted.token, count, "after a restart"));
  } finally {
    await restarted.stop();
  }
  const at = (q: number): number => pageTimes[Math.min(pageTimes.length - 1, Math.floor(q * pageTimes.length))] ?? 0;
  return [
    `### Projects (${count} created, ${PARALLEL} at a time; the list paged 100 at a time)`,
    "",
    "| created per second | pages | page p50 | page p99 | projects listed |",
    "|---|---|---|---|---|",
    `| ${((count - few) / seconds).toFixed(0)} | ${pageTimes.length} | ${at(0.5).toFixed(1)} ms | ${at(0.99).toFixed(1)} ms | ${listed} |`,
    "",
    `Host dispatch, ${CONNECTIONS} connections, ${DISPATCH_SECONDS} s each, straight to workerd:`,
    "",
    "| projects | a project's host: req/s, p50 / p99 ms | hosts naming no project (404): req/s, p50 / p99 ms | host filter held |",
    "|---:|---:|---:|---:|",
    ...dispatch.map(
      (row) =>
        `| ${row.projects}${row.when ? `, ${row.when}` : ""} | ${row.known.rps.toFixed(0)}, ${row.known.p50.toFixed(1)} / ${row.known.p99.toFixed(1)} | ` +
        `${row.unknown.rps.toFixed(0)}, ${row.unknown.p50.toFixed(1)} / ${row.unknown.p99.toFixed(1)} | ${row.filterBytes < 1024 ? `${row.filterBytes} B` : `${(row.filterBytes / 1024).toFixed(1)} KiB`} |`,
    ),
  ];
}

/** Serving a project's page, then hosts that name no project, once the isolate holds the current filter. */
async function measureDispatch(port: number, token: string, projects: number, when: string): Promise<Dispatch> {
  // Past a lease, every isolate has renewed its filter from the registry.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const random = sequence(projects);
  const known = { port, status: 200, next: () => ({ host: "tenant-000000.localhost", path: "/" }) };
  const unknown = {
    port,
    status: 404,
    next: () => ({ host: `nobody-${Math.floor(random() * 1e9).toString(36)}.localhost`, path: "/" }),
  };
  await load(known, 1, CONNECTIONS);
  const result = {
    projects,
    known: await load(known, DISPATCH_SECONDS, CONNECTIONS),
    unknown: await load(unknown, DISPATCH_SECONDS, CONNECTIONS),
  };
  const response = await fetch(`http://127.0.0.1:${port}/api/stats`, { headers: { authorization: `Bearer ${token}` } });
  const stats = (await response.json()) as { hostFilterBytes: number };
  log(`dispatch at ${projects} projects: ${result.known.rps.toFixed(0)} and ${result.unknown.rps.toFixed(0)} req/s`);
  return { ...result, when, filterBytes: stats.hostFilterBytes };
}
