/**
 * The benchmark's large-file section: how close r2-assets comes to plain R2
 * with one large file.
 *
 * 1. r2-assets: the CLI deploys the file (hashing, then a verified
 *    multipart upload), and it is downloaded through the project's host,
 *    once alone and then by four clients at once while workerd's resident
 *    memory is sampled.
 * 2. Plain R2, through a Worker that only puts and gets objects
 *    (bench/raw-r2), on the same local bucket: the object r2-assets stored
 *    read back whole, the same file written in one streamed PUT and read
 *    back, and written as a multipart upload with the CLI's part size and
 *    concurrency.
 *
 * Both run under `wrangler dev` with local R2, one after the other, on one
 * state directory. R2_ASSETS_BENCH_BYTES sets the file size (default 1 GiB).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashFile } from "../src/cli/hash.ts";
import { mapLimit } from "../src/shared/pool.ts";
import { DEFAULT_PART_SIZE } from "../src/shared/limits.ts";
import { startPlatform, writeRandomFile, type Platform } from "../test/e2e/platform.ts";
import { format, log, timed, workerdRss } from "./common.ts";

const SIZE = Number(process.env.R2_ASSETS_BENCH_BYTES ?? 1024 ** 3);
const CLIENTS = 4;
/** The CLI's default --concurrency. */
const UPLOAD_CONCURRENCY = 6;
const MB = 1_000_000;

interface Row {
  what: string;
  seconds: number;
  bytes: number;
}

/** Runs the section; returns its report (markdown lines). */
export async function largeSection(): Promise<string[]> {
  const out: string[] = [];
  if (!Number.isSafeInteger(SIZE) || SIZE <= 0) {
    throw new Error(`R2_ASSETS_BENCH_BYTES must be a positive integer, got ${process.env.R2_ASSETS_BENCH_BYTES}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "r2a-bench-"));
  const state = await mkdtemp(join(tmpdir(), "r2a-bench-state-"));
  const file = join(dir, "media.bin");
  try {
    log(`large: writing ${format(SIZE)} of random bytes`);
    await writeRandomFile(file, SIZE);

    const sha = await timed(() => sha256File(file));
    const { hash } = await hashFile(file);

    log("r2-assets: deploy with the CLI, then download");
    const platform = await startPlatform({ state });
    let deployed: { hashing: number; uploading: number };
    let single: number;
    let parallel: { seconds: number; idleRss: number; peakRss: number };
    try {
      deployed = await deploy(platform, dir);
      single = await timed(() => download(platform.port, `bench.localhost:${platform.port}`, "/media.bin"));
      parallel = await parallelDownloads(platform);
    } finally {
      await platform.stop();
    }

    log("Plain R2 through a minimal Worker, same bucket");
    const raw = await startPlatform({ config: "bench/raw-r2/wrangler.toml", healthPath: "/health", state });
    let raws: { readStored: number; put: number; get: number; multipart: number };
    try {
      const readStored = await timed(() => download(raw.port, "127.0.0.1", `/projects/bench/blobs/${hash}`));
      const put = await timed(() => putWhole(raw.port, "/raw/whole.bin", file));
      const get = await timed(() => download(raw.port, "127.0.0.1", "/raw/whole.bin"));
      const multipart = await timed(() => putMultipart(raw.port, "/raw/parts.bin", file));
      raws = { readStored, put, get, multipart };
    } finally {
      await raw.stop();
    }

    const rows: Row[] = [
      { what: "Node: SHA-256 of the file (disk and hash speed)", seconds: sha, bytes: SIZE },
      { what: "r2-assets CLI: hashing", seconds: deployed.hashing, bytes: SIZE },
      { what: "r2-assets: upload (multipart, verified)", seconds: deployed.uploading, bytes: SIZE },
      { what: "R2: multipart put, same part size and concurrency", seconds: raws.multipart, bytes: SIZE },
      { what: "R2: put, one streamed request", seconds: raws.put, bytes: SIZE },
      { what: "r2-assets: download through AssetBinding", seconds: single, bytes: SIZE },
      { what: "R2: get of the same (multipart) object", seconds: raws.readStored, bytes: SIZE },
      { what: "R2: get of a single-part object", seconds: raws.get, bytes: SIZE },
      { what: `r2-assets: ${CLIENTS} downloads at once (total)`, seconds: parallel.seconds, bytes: SIZE * CLIENTS },
    ];
    out.push(`### One large file (${format(SIZE)})`, "");
    out.push("| Measurement | Time | Throughput |");
    out.push("|---|---:|---:|");
    for (const row of rows) {
      out.push(`| ${row.what} | ${row.seconds.toFixed(1)} s | ${rate(row)} |`);
    }
    out.push("");
    out.push(
      `Upload, r2-assets / R2 multipart: ${ratio(raws.multipart, deployed.uploading)}; / R2 single put: ${ratio(raws.put, deployed.uploading)}`,
    );
    out.push(
      `Download, r2-assets / R2 get of the same object: ${ratio(raws.readStored, single)}; / single-part get: ${ratio(raws.get, single)}`,
    );
    out.push(`Hashing, CLI / Node SHA-256: ${ratio(sha, deployed.hashing)}`);
    out.push(
      `workerd resident memory: ${format(parallel.idleRss)} before, peak ${format(parallel.peakRss)} ` +
        `while ${CLIENTS} clients downloaded ${format(SIZE)} each`,
    );
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(state, { recursive: true, force: true });
  }
}

/** Deploys `dir` with the CLI; the phases are timed from its progress lines. */
async function deploy(platform: Platform, dir: string): Promise<{ hashing: number; uploading: number }> {
  const start = performance.now();
  let hashed = 0;
  const { child, done } = platform.spawnCli(["deploy", dir, "--project", "bench"]);
  child.stderr?.on("data", (chunk: Buffer) => {
    if (hashed === 0 && /^Hashed /m.test(chunk.toString())) {
      hashed = performance.now();
    }
  });
  const result = await done;
  if (result.code !== 0 || hashed === 0) {
    throw new Error(`deploy failed (${result.code}): ${result.stderr}`);
  }
  return { hashing: (hashed - start) / 1000, uploading: (performance.now() - hashed) / 1000 };
}

/** Four downloads at once, sampling the resident memory of wrangler's workerd. */
async function parallelDownloads(platform: Platform): Promise<{ seconds: number; idleRss: number; peakRss: number }> {
  const idleRss = await workerdRss(platform.processGroup);
  let peakRss = idleRss;
  const run = { sampling: true };
  const sampler = (async () => {
    while (run.sampling) {
      peakRss = Math.max(peakRss, await workerdRss(platform.processGroup));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const seconds = await timed(() =>
    Promise.all(
      Array.from({ length: CLIENTS }, () => download(platform.port, `bench.localhost:${platform.port}`, "/media.bin")),
    ),
  );
  run.sampling = false;
  await sampler;
  return { seconds, idleRss, peakRss };
}

function putWhole(port: number, path: string, file: string): Promise<unknown> {
  return send(port, "PUT", path, SIZE, createReadStream(file));
}

/** A multipart upload straight to R2, with the CLI's part size and concurrency. */
async function putMultipart(port: number, path: string, file: string): Promise<void> {
  const { uploadId } = (await send(port, "POST", `${path}?uploads`, 0, null)) as { uploadId: string };
  const count = Math.ceil(SIZE / DEFAULT_PART_SIZE);
  const parts = await mapLimit(
    Array.from({ length: count }, (_, index) => index),
    UPLOAD_CONCURRENCY,
    (index) => {
      const start = index * DEFAULT_PART_SIZE;
      const end = Math.min(SIZE, start + DEFAULT_PART_SIZE) - 1;
      const query = `?uploadId=${encodeURIComponent(uploadId)}&partNumber=${index + 1}`;
      return send(port, "PUT", path + query, end - start + 1, createReadStream(file, { start, end }));
    },
  );
  const body = Buffer.from(JSON.stringify(parts));
  await send(port, "POST", `${path}?uploadId=${encodeURIComponent(uploadId)}`, body.length, body);
}

/** One request to the baseline Worker; resolves to its JSON answer. */
function send(
  port: number,
  method: string,
  path: string,
  length: number,
  body: NodeJS.ReadableStream | Buffer | null,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path, method, headers: { "content-length": length } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) {
            resolve(JSON.parse(text));
          } else {
            reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
          }
        });
      },
    );
    request.on("error", reject);
    if (body === null || Buffer.isBuffer(body)) {
      request.end(body ?? undefined);
    } else {
      body.pipe(request);
    }
  });
}

/** GETs `path` and reads the whole body, checking its length. */
function download(port: number, host: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
      let received = 0;
      response.on("data", (chunk: Buffer) => (received += chunk.length));
      response.on("end", () =>
        response.statusCode === 200 && received === SIZE
          ? resolve()
          : reject(new Error(`GET ${host}${path}: ${response.statusCode}, ${received} of ${SIZE} bytes`)),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

async function sha256File(file: string): Promise<void> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  hash.digest();
}

/** How fast `seconds` is compared with `baseline` (above 1: faster). */
function ratio(baseline: number, seconds: number): string {
  return (baseline / seconds).toFixed(2);
}

function rate(row: Row): string {
  return `${(row.bytes / MB / row.seconds).toFixed(0)} MB/s`;
}
