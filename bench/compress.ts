/**
 * The benchmark's precompression section (#24), side by side in one run:
 * - bytes on the wire for real text files (TypeScript's library
 *   declarations, vitest's and wrangler's JavaScript bundles), asked for
 *   with `Accept-Encoding: br` and with `gzip` only, against brotli
 *   quality 5 and gzip -6 of the same files (what runtimes compress on the
 *   fly);
 * - serving one small precompressed file with and without Accept-Encoding,
 *   interleaved rounds;
 * - deploying 10,000 small text files with and without compression
 *   (`--no-cache`, so that every run hashes and compresses everything), and
 *   an unchanged redeploy, which compresses nothing.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { BEST_FROM_BYTES } from "../src/cli/compress.ts";
import { httpRequest, ROOT, startPlatform, workerdPort, writeFiles, type Platform } from "../test/e2e/platform.ts";
import { log } from "./common.ts";
import { load, sequence } from "./load.ts";

const TEXT_BYTES = 6 * 1024 * 1024;
const SMALL_FILES = 10_000;
const ROUNDS = 4;
const SECONDS = 4;
const CONNECTIONS = 32;

export async function compressSection(): Promise<string[]> {
  const state = await mkdtemp(join(tmpdir(), "r2a-bench-z-"));
  const platform = await startPlatform({ state, leaseMs: 1000 });
  try {
    const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
      const response = await fetch(`http://127.0.0.1:${candidate}/api/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok;
    });
    return [
      "### Precompressed delivery",
      "",
      ...(await wireBytes(platform, port)),
      "",
      ...(await serving(platform, port)),
      "",
      ...(await deploying(platform)),
    ];
  } finally {
    await platform.stop();
    await rm(state, { recursive: true, force: true });
  }
}

/** Real text files, about TEXT_BYTES of them. */
async function realText(): Promise<Record<string, Buffer>> {
  const sources = [
    "node_modules/typescript/lib",
    "node_modules/vitest/dist/chunks",
    "node_modules/wrangler/wrangler-dist",
    "src/console",
  ];
  const files: Record<string, Buffer> = {};
  let total = 0;
  for (const source of sources) {
    for (const name of (await readdir(join(ROOT, source))).toSorted()) {
      if (!/\.(d\.ts|js|mjs|css)$/.test(name) || total >= TEXT_BYTES) {
        continue;
      }
      const path = join(ROOT, source, name);
      const size = (await stat(path)).size;
      if (size > 1024 && total + size <= TEXT_BYTES) {
        // Served as JavaScript or CSS, which are compressed.
        files[`${source.replaceAll("/", "_")}/${name.replace(/\.d\.ts$/, ".d.js")}`] = await readFile(path);
        total += size;
      }
    }
  }
  return files;
}

async function wireBytes(platform: Platform, port: number): Promise<string[]> {
  log("compress: bytes on the wire");
  const files = await realText();
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-text-"));
  await writeFiles(dir, files);
  const cache = await mkdtemp(join(tmpdir(), "r2a-bench-zc-"));
  const started = performance.now();
  const deployed = await platform.cli(["deploy", dir, "--project", "text", "--json"], { R2_ASSETS_CACHE_DIR: cache });
  const seconds = (performance.now() - started) / 1000;
  if (deployed.code !== 0) {
    throw new Error(`deploy failed: ${deployed.stderr}`);
  }
  const sums = { identity: 0, br: 0, gzip: 0, zstd: 0, q5: 0, gzip6: 0 };
  for (const [path, bytes] of Object.entries(files)) {
    sums.identity += bytes.length;
    sums.q5 += zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }).length;
    sums.gzip6 += zlib.gzipSync(bytes, { level: 6 }).length;
    for (const coding of ["br", "gzip", "zstd"] as const) {
      const res = await httpRequest(port, "text.localhost", `/${path}`, { headers: { "accept-encoding": coding } });
      // A file under BEST_FROM_BYTES has no zstd variant: a zstd-only client gets identity.
      const expected = coding === "zstd" && bytes.length < BEST_FROM_BYTES ? undefined : coding;
      if (res.status !== 200 || res.headers["content-encoding"] !== expected) {
        throw new Error(`/${path} with ${coding}: ${res.status} ${String(res.headers["content-encoding"])}`);
      }
      sums[coding] += res.body.length;
    }
  }
  await rm(dir, { recursive: true, force: true });
  await rm(cache, { recursive: true, force: true });
  const ratio = (a: number, b: number): string => (a / b).toFixed(3);
  return [
    `Bytes on the wire, ${Object.keys(files).length} real text files (${(sums.identity / 1e6).toFixed(1)} MB: TypeScript's library declarations, vitest's and wrangler's bundles); the deploy took ${seconds.toFixed(1)} s with compression:`,
    "",
    "| asked with | bytes sent | / identity | against what runtimes make on the fly |",
    "|---|---:|---:|---:|",
    `| \`br\` | ${sums.br} | ${ratio(sums.br, sums.identity)} | ${ratio(sums.br, sums.q5)} × brotli quality 5 |`,
    `| \`zstd\` | ${sums.zstd} | ${ratio(sums.zstd, sums.identity)} | ${ratio(sums.zstd, sums.q5)} × brotli quality 5 |`,
    `| \`gzip\` only | ${sums.gzip} | ${ratio(sums.gzip, sums.identity)} | ${ratio(sums.gzip, sums.gzip6)} × gzip -6 |`,
  ];
}

async function serving(platform: Platform, port: number): Promise<string[]> {
  log("compress: serving a precompressed small file");
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-small-"));
  const words = sequence(7);
  const text = Array.from({ length: 700 }, () => WORDS[Math.floor(words() * WORDS.length)]).join(" ");
  await writeFiles(dir, { "page.txt": text });
  // The same file twice: without variants (as before precompression) and with them.
  for (const [project, extra] of [
    ["small-plain", ["--no-compress"]],
    ["small-z", []],
  ] as const) {
    const deployed = await platform.cli(["deploy", dir, "--project", project, "--json", "--no-cache", ...extra]);
    if (deployed.code !== 0) {
      throw new Error(`deploy failed: ${deployed.stderr}`);
    }
  }
  const target = (project: string, headers: Record<string, string>) => ({
    port,
    status: 200,
    next: () => ({ host: `${project}.localhost`, path: "/page.txt", headers }),
  });
  // Every side is asked by the same client, `Accept-Encoding: br` (the
  // runtime's handling of the header alone costs about a tenth here), but
  // the first row, a client that sends none.
  const sides = {
    bare: target("small-plain", {}),
    identity: target("small-plain", { "accept-encoding": "br" }),
    br: target("small-z", { "accept-encoding": "br" }),
  };
  const names = Object.keys(sides) as (keyof typeof sides)[];
  for (const name of names) {
    await load(sides[name], 2, CONNECTIONS);
  }
  const rps = { bare: [] as number[], identity: [] as number[], br: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    // The order flips each round, so that no side always runs first.
    for (const name of round % 2 === 0 ? names : names.toReversed()) {
      rps[name].push((await load(sides[name], SECONDS, CONNECTIONS)).rps);
    }
  }
  await rm(dir, { recursive: true, force: true });
  const mean = (list: number[]): number => list.reduce((sum, value) => sum + value, 0) / list.length;
  const ratios = rps.br.map((value, round) => (value / (rps.identity[round] ?? value)).toFixed(2));
  return [
    `Serving one ${(text.length / 1024).toFixed(1)} KiB text file (${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${SECONDS} s, straight to workerd):`,
    "",
    "| | requests/s | / identity, per round |",
    "|---|---:|---:|",
    `| identity, to a client that sends no Accept-Encoding | ${mean(rps.bare).toFixed(0)} | |`,
    `| identity (deployed with --no-compress), \`Accept-Encoding: br\` | ${mean(rps.identity).toFixed(0)} | |`,
    `| the precompressed brotli variant, \`Accept-Encoding: br\` | ${mean(rps.br).toFixed(0)} | ${ratios.join(", ")} (overall ${(mean(rps.br) / mean(rps.identity)).toFixed(2)}) |`,
  ];
}

async function deploying(platform: Platform): Promise<string[]> {
  log(`compress: deploying ${SMALL_FILES} small text files, with and without compression`);
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-many-"));
  const next = sequence(11);
  const files: Record<string, string> = {};
  for (let i = 0; i < SMALL_FILES; i += 1) {
    const count = 150 + Math.floor(next() * 1200);
    files[`docs/${i % 100}/page-${i}.txt`] = Array.from(
      { length: count },
      () => WORDS[Math.floor(next() * WORDS.length)],
    ).join(" ");
  }
  await writeFiles(dir, files);
  const bytes = Object.values(files).reduce((sum, text) => sum + text.length, 0);
  const times: Record<"plain" | "compressed", number[]> = { plain: [], compressed: [] };
  let compressedLine = "";
  for (let round = 0; round < 2; round += 1) {
    for (const mode of ["plain", "compressed"] as const) {
      const project = `many-${mode}-${randomUUID().slice(0, 6)}`;
      const args = ["deploy", dir, "--project", project, "--no-cache", "--concurrency", "16"];
      const started = performance.now();
      const result = await platform.cli(mode === "plain" ? [...args, "--no-compress"] : args);
      times[mode].push((performance.now() - started) / 1000);
      if (result.code !== 0) {
        throw new Error(`deploy failed: ${result.stderr}`);
      }
      compressedLine ||= /^Compressed \d+ file.*$/m.exec(result.stderr)?.[0] ?? "";
    }
  }
  // With the cache: a first deploy, then an unchanged one.
  const cache = await mkdtemp(join(tmpdir(), "r2a-bench-zc-"));
  const project = `many-again-${randomUUID().slice(0, 6)}`;
  await platform.cli(["deploy", dir, "--project", project, "--concurrency", "16"], { R2_ASSETS_CACHE_DIR: cache });
  const againStarted = performance.now();
  const again = await platform.cli(["deploy", dir, "--project", project, "--concurrency", "16"], {
    R2_ASSETS_CACHE_DIR: cache,
  });
  const againSeconds = (performance.now() - againStarted) / 1000;
  const againLine = /^Compressed .*$/m.exec(again.stderr)?.[0] ?? "(no compression line)";
  await rm(dir, { recursive: true, force: true });
  await rm(cache, { recursive: true, force: true });
  const best = (list: number[]): number => Math.min(...list);
  return [
    `Deploying ${SMALL_FILES} small text files (${(bytes / 1e6).toFixed(1)} MB, 0.7–7 KiB; --no-cache, --concurrency 16; best of 2, interleaved):`,
    "",
    "| | seconds | with / without |",
    "|---|---:|---:|",
    `| without compression (--no-compress) | ${best(times.plain).toFixed(1)} | |`,
    `| with compression | ${best(times.compressed).toFixed(1)} | ${(best(times.compressed) / best(times.plain)).toFixed(2)} |`,
    "",
    `The CLI said: "${compressedLine}". An unchanged redeploy (hash cache on) took ${againSeconds.toFixed(1)} s and said: "${againLine}".`,
  ];
}

/** Words that make text compress as prose does. */
const WORDS =
  "the of and to in is that it for as with was on be by at this from are or an which not have but all can has were their more one will would there been other when who also into than its only some most these such time after many first two new over may".split(
    " ",
  );
