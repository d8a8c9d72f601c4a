/**
 * `npm run bench`: r2-assets side by side with plain R2, on this machine,
 * in one run. Sections (R2_ASSETS_BENCH_SECTIONS, comma-separated; all by
 * default):
 *
 *   deploy  many small files with the CLI vs one R2 write per blob (deploy.ts)
 *   serve   requests per second vs a Worker that reads R2 directly (serve.ts)
 *   large   one large file up and down vs R2 (large.ts)
 *   cold    each of 1,000 files asked for once by a fresh isolate: r2-assets,
 *           plain R2 and Workers Static Assets (cold.ts)
 *   analytics  serving with request analytics recorded vs off (analytics.ts)
 *   projects  creating many projects and paging the list (projects.ts;
 *           R2_ASSETS_BENCH_PROJECTS, default 2000)
 *
 * R2_ASSETS_BENCH_FILES sets the deploy section's file counts (default
 * "10000,100000"); the serving section's large-manifest scenario uses the
 * largest. The report is markdown on stdout; progress goes to stderr.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPlatform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { deployFigures, deployReport, type DeployFigures } from "./deploy.ts";
import { largeSection } from "./large.ts";
import { coldSection } from "./cold.ts";
import { projectsSection } from "./projects.ts";
import { serveSection } from "./serve.ts";
import { compressSection } from "./compress.ts";
import { analyticsSection } from "./analytics.ts";

const SECTIONS = new Set(
  (process.env.R2_ASSETS_BENCH_SECTIONS ?? "deploy,serve,cold,large,projects,compress,analytics").split(","),
);
const PROJECTS = Number(process.env.R2_ASSETS_BENCH_PROJECTS ?? "2000");
const FILE_COUNTS = (process.env.R2_ASSETS_BENCH_FILES ?? "10000,100000").split(",").map(Number);

async function main(): Promise<void> {
  for (const section of SECTIONS) {
    if (!["deploy", "serve", "cold", "large", "projects", "compress", "analytics"].includes(section)) {
      throw new Error(
        `R2_ASSETS_BENCH_SECTIONS: unknown section "${section}" (deploy, serve, cold, large, projects, compress, analytics)`,
      );
    }
  }
  if (!FILE_COUNTS.every((count) => Number.isSafeInteger(count) && count > 0)) {
    throw new Error(`R2_ASSETS_BENCH_FILES must list positive whole numbers, got ${process.env.R2_ASSETS_BENCH_FILES}`);
  }
  // Each section's report is printed as soon as it is done, so that a later failure loses nothing.
  const out = { push: (...lines: string[]): void => console.log(lines.join("\n")) };
  out.push(`## r2-assets benchmark, ${new Date().toISOString().slice(0, 10)}`, "");
  if (SECTIONS.has("deploy") || SECTIONS.has("serve")) {
    // The platform and the plain-R2 Worker run at once, each with its own state, so that rounds interleave.
    const states = [await mkdtemp(join(tmpdir(), "r2a-bench-a-")), await mkdtemp(join(tmpdir(), "r2a-bench-b-"))];
    log("starting r2-assets and the plain-R2 Worker");
    const platform = await startPlatform({ state: states[0], leaseMs: 1000 });
    const raw = await startPlatform({ config: "bench/raw-r2/wrangler.toml", healthPath: "/health", state: states[1] });
    try {
      const deployed: DeployFigures[] = [];
      if (SECTIONS.has("deploy")) {
        for (const count of FILE_COUNTS) {
          deployed.push(await deployFigures(platform, raw, count, String(count)));
        }
        out.push(...deployReport(deployed), "");
      }
      if (SECTIONS.has("serve")) {
        const big = deployed.at(-1);
        out.push(
          ...(await serveSection(
            platform,
            raw,
            big ? { project: big.project, paths: big.paths, label: String(big.files) } : null,
          )),
          "",
        );
      }
    } catch (error) {
      log(`failed; the end of r2-assets' log:\n${platform.logs().slice(-4000)}`);
      throw error;
    } finally {
      await platform.stop();
      await raw.stop();
      for (const state of states) {
        await rm(state, { recursive: true, force: true });
      }
    }
  }
  if (SECTIONS.has("cold")) {
    out.push(...(await coldSection()), "");
  }
  if (SECTIONS.has("large")) {
    out.push(...(await largeSection()), "");
  }
  if (SECTIONS.has("analytics")) {
    out.push(...(await analyticsSection()), "");
  }
  if (SECTIONS.has("compress")) {
    out.push(...(await compressSection()), "");
  }
  if (SECTIONS.has("projects")) {
    const state = await mkdtemp(join(tmpdir(), "r2a-bench-p-"));
    const token = `bench-${Date.now()}`;
    try {
      out.push(...(await projectsSection(() => startPlatform({ state, leaseMs: 1000, token }), PROJECTS)), "");
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  console.error(`bench: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
