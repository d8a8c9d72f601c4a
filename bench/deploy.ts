/**
 * The benchmark's deploy section: many small files (1–20 KiB) deployed
 * with the real CLI (fresh, unchanged, 1% changed), side by side with
 * writing the same blobs to R2 one request each through the plain-R2
 * Worker at the same concurrency, and with Node hashing the files.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mapLimit } from "../src/shared/pool.ts";
import type { Platform } from "../test/e2e/platform.ts";
import { format, log, timed, withPeakRss } from "./common.ts";
import { sequence } from "./load.ts";

/** --concurrency for the CLI, and requests in flight for the plain R2 writes. */
const CONCURRENCY = 16;

export interface DeployFigures {
  files: number;
  bytes: number;
  /** Seconds. */
  rawWrites: number;
  fresh: number;
  nodeHash: number;
  unchanged: number;
  changed: number;
  /** workerd's peak resident memory during the first and second halves of the fresh deploy. */
  rssFirstHalf: number;
  rssSecondHalf: number;
  /** The project the fresh deploy made, for the serving section. */
  project: string;
  paths: string[];
}

/** Deploys `count` small files each way; `label` keeps projects and keys apart. */
export async function deployFigures(
  platform: Platform,
  raw: Platform,
  count: number,
  label: string,
): Promise<DeployFigures> {
  const dir = await mkdtemp(join(tmpdir(), `r2a-bench-files-${label}-`));
  const cache = await mkdtemp(join(tmpdir(), `r2a-bench-cache-${label}-`));
  try {
    log(`deploy: writing ${count} files`);
    const { paths, bytes } = await writeSmallFiles(dir, count, count);
    // Files written just now are not trusted by the hash cache (see hash-cache.ts); let them settle.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const project = `deploy-${label}`;
    const cli = async (extra: string[]): Promise<void> => {
      const result = await platform.cli(
        ["deploy", dir, "--project", project, "--concurrency", String(CONCURRENCY), ...extra],
        { R2_ASSETS_CACHE_DIR: cache },
      );
      if (result.code !== 0) {
        throw new Error(`deploy failed: ${result.stderr}`);
      }
    };

    log(`deploy: ${count} files, one request each to plain R2`);
    const rawWrites = await timed(() => writeEach(raw.port, dir, paths, label));
    log(`deploy: ${count} files with the CLI, fresh`);
    const {
      value: fresh,
      firstHalf: rssFirstHalf,
      secondHalf: rssSecondHalf,
    } = await withPeakRss(platform.processGroup, () => timed(() => cli([])));
    log(`deploy: Node hashing ${count} files`);
    const nodeHash = await timed(() => hashEach(dir, paths));
    log(`deploy: ${count} files with the CLI, unchanged`);
    const unchanged = await timed(() => cli([]));
    const random = sequence(count + 1);
    const changedPaths = paths.filter(() => random() < 0.01);
    for (const path of changedPaths) {
      await writeFile(join(dir, path), randomBytes(1024 + Math.floor(random() * 19 * 1024)));
    }
    log(`deploy: ${count} files with the CLI, ${changedPaths.length} changed`);
    const changed = await timed(() => cli([]));
    return {
      files: count,
      bytes,
      rawWrites,
      fresh,
      nodeHash,
      unchanged,
      changed,
      rssFirstHalf,
      rssSecondHalf,
      project,
      paths,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
  }
}

export function deployReport(rows: readonly DeployFigures[]): string[] {
  const out = [
    `### Deploying many small files (1–20 KiB; CLI --concurrency ${CONCURRENCY}, plain R2 writes ${CONCURRENCY} at a time)`,
    "",
    "| Files | Plain R2, one request per blob | CLI fresh | Fresh vs plain R2 | Node SHA-256 of the files | CLI unchanged | Unchanged / Node hashing | CLI 1% changed | workerd peak RSS, first / second half of the fresh deploy |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    out.push(
      `| ${row.files.toLocaleString("en-US")} (${format(row.bytes)}) | ${row.rawWrites.toFixed(1)} s | ${row.fresh.toFixed(1)} s | ` +
        `${(row.rawWrites / row.fresh).toFixed(1)}× faster | ${row.nodeHash.toFixed(1)} s | ${row.unchanged.toFixed(1)} s | ` +
        `${(row.unchanged / row.nodeHash).toFixed(1)}× | ${row.changed.toFixed(1)} s | ${format(row.rssFirstHalf)} / ${format(row.rssSecondHalf)} |`,
    );
  }
  return out;
}

/** Writes `count` files of 1–20 KiB in directories of 1,000; returns their paths and total size. */
async function writeSmallFiles(dir: string, count: number, seed: number): Promise<{ paths: string[]; bytes: number }> {
  const random = sequence(seed);
  const paths: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i += 1) {
    const folder = `d${Math.floor(i / 1000)}`;
    if (i % 1000 === 0) {
      await mkdir(join(dir, folder), { recursive: true });
    }
    const size = 1024 + Math.floor(random() * 19 * 1024);
    const path = `${folder}/file-${i}.txt`;
    await writeFile(join(dir, path), randomBytes(size));
    paths.push(path);
    bytes += size;
  }
  return { paths, bytes };
}

/** PUTs each file to plain R2 through the baseline Worker, one request each. */
async function writeEach(port: number, dir: string, paths: readonly string[], label: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await mapLimit(paths, CONCURRENCY, async (path) => {
      const body = await readFile(join(dir, path));
      await new Promise<void>((resolve, reject) => {
        const request = http.request(
          {
            host: "127.0.0.1",
            port,
            path: `/deploy-${label}/${path}`,
            method: "PUT",
            agent,
            headers: { "content-length": body.length },
          },
          (response) => {
            response.resume();
            response.on("end", () =>
              response.statusCode === 200 ? resolve() : reject(new Error(`PUT ${path}: ${response.statusCode}`)),
            );
          },
        );
        request.on("error", reject);
        request.end(body);
      });
    });
  } finally {
    agent.destroy();
  }
}

async function hashEach(dir: string, paths: readonly string[]): Promise<void> {
  await mapLimit(paths, 4, async (path) => {
    createHash("sha256")
      .update(await readFile(join(dir, path)))
      .digest();
  });
}
