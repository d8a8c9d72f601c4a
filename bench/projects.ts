/**
 * The control plane at many tenants (#20): how fast projects are created
 * (16 at a time), and how long a page of the project list takes as their
 * number grows. Figures are absolute times on this machine, for the README.
 */
import { workerdPort, type Platform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";

const PARALLEL = 16;

export async function projectsSection(platform: Platform, count: number): Promise<string[]> {
  const headers = { authorization: `Bearer ${platform.token}`, "content-type": "application/json" };
  // Straight to workerd: wrangler dev's proxy costs more per request than the control plane does.
  const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
    return (await fetch(`http://127.0.0.1:${candidate}/api/health`)).ok;
  });
  const base = `http://127.0.0.1:${port}`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < count; i = next++) {
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
  const seconds = (performance.now() - started) / 1000;
  log(`created ${count} projects in ${seconds.toFixed(1)} s`);
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
  const at = (q: number): number => pageTimes[Math.min(pageTimes.length - 1, Math.floor(q * pageTimes.length))] ?? 0;
  return [
    `### Projects (${count} created, ${PARALLEL} at a time; the list paged 100 at a time)`,
    "",
    "| created per second | pages | page p50 | page p99 | projects listed |",
    "|---|---|---|---|---|",
    `| ${(count / seconds).toFixed(0)} | ${pageTimes.length} | ${at(0.5).toFixed(1)} ms | ${at(0.99).toFixed(1)} ms | ${listed} |`,
  ];
}
