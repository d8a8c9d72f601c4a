/**
 * Uploading the blobs a deploy lacks: small ones many to a request
 * (POST …/blobs/batch), medium ones one to a request, large ones in parts
 * (several in parallel, resumable: parts that arrived before a crash are
 * not sent again), all through one bounded pool. A deploy that dies part
 * way resumes by asking again what is missing.
 */
import { readFile } from "node:fs/promises";
import { BATCH_MAX_BLOB_BYTES, BATCH_MAX_BLOBS, BATCH_MAX_BYTES, choosePartSize } from "../shared/limits.ts";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { partHash, type FileHash } from "./hash.ts";
import { mapLimit } from "../shared/pool.ts";
import type { Progress } from "./progress.ts";

/** Batches in flight at once, at most. */
const BATCHES_IN_FLIGHT = 4;

export interface BlobToUpload extends FileHash {
  /** The URL path it is deployed at, for messages. */
  path: string;
  /** Where it is on disk. */
  file: string;
  size: number;
}

/** What the platform says about a batch. */
interface BatchAnswer {
  stored: string[];
  present: string[];
  failed: { hash: string; problem: string }[];
}

export interface UploadOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Files larger than this go in parts. */
  multipartThreshold: number;
}

export interface UploadStats {
  bytesUploaded: number;
  partsUploaded: number;
  /** Parts that had arrived before (a resumed upload). */
  partsSkipped: number;
}

interface Session {
  present: boolean;
  partSize: number;
  partCount: number;
  uploadedParts: number[];
}

/** One request's worth of work: many small blobs, one whole blob, or one part of a large one. */
type Unit =
  | { kind: "batch"; blobs: BlobToUpload[]; size: number }
  | { kind: "part"; blob: BlobToUpload; partNumber: number | null; start: number; size: number; partSize: number };

export async function uploadBlobs(
  client: ApiClient,
  base: string,
  blobs: readonly BlobToUpload[],
  options: UploadOptions,
  progress: Progress,
): Promise<UploadStats> {
  const stats: UploadStats = { bytesUploaded: 0, partsUploaded: 0, partsSkipped: 0 };
  const large = blobs.filter((blob) => blob.size > options.multipartThreshold);
  const units: Unit[] = blobs
    .filter((blob) => blob.size > BATCH_MAX_BLOB_BYTES && blob.size <= options.multipartThreshold)
    .map((blob) => ({ kind: "part", blob, partNumber: null, start: 0, size: blob.size, partSize: blob.size }));

  // 1. Start (or resume) the multipart uploads, learning which parts arrived.
  const multipart = await mapLimit(large, options.concurrency, async (blob) => {
    const preferred = choosePartSize(blob.size);
    if (preferred === null) {
      throw new CliError(`${blob.path} is ${formatBytes(blob.size)}, too large to upload in parts`);
    }
    const session = await client.request<Session>("POST", `${base}/uploads`, {
      hash: blob.hash,
      size: blob.size,
      partSize: preferred,
    });
    if (session.present) {
      return null;
    }
    const done = new Set(session.uploadedParts);
    stats.partsSkipped += done.size;
    for (let n = 1; n <= session.partCount; n += 1) {
      if (!done.has(n)) {
        const start = (n - 1) * session.partSize;
        units.push({
          kind: "part",
          blob,
          partNumber: n,
          start,
          size: Math.min(session.partSize, blob.size - start),
          partSize: session.partSize,
        });
      }
    }
    const resumed = done.size > 0 ? `; resuming, ${done.size} part(s) already uploaded` : "";
    progress.note(`${blob.path}: ${formatBytes(blob.size)} in ${session.partCount} parts${resumed}`);
    return { blob, remaining: session.partCount - done.size };
  });

  // 2. Send batches, whole blobs and missing parts through one bounded
  //    pool, completing each multipart upload when its last part is in.
  units.push(...batchesOf(blobs.filter((blob) => blob.size <= BATCH_MAX_BLOB_BYTES)));
  const total = units.reduce((sum, unit) => sum + unit.size, 0);
  progress.start("Uploading", blobs.length, total);
  const started = multipart.filter((entry) => entry !== null);
  // Blobs that turned out to be stored already count as done.
  progress.advance(large.length - started.length, 0);
  const remaining = new Map(started.map((entry) => [entry.blob.hash, entry.remaining]));
  // Uploads whose parts all arrived before a crash only need completing.
  const completions = started
    .filter((entry) => entry.remaining === 0)
    .map((entry) => complete(client, base, entry.blob, progress));
  const send = async (unit: Unit): Promise<void> => {
    if (unit.kind === "batch") {
      await sendBatch(client, base, unit.blobs);
      stats.bytesUploaded += unit.size;
      progress.advance(unit.blobs.length, unit.size);
      return;
    }
    const { blob, partNumber } = unit;
    const path =
      partNumber === null ? `${base}/blobs/${blob.hash}` : `${base}/uploads/${blob.hash}/parts/${partNumber}`;
    const headers = partNumber === null ? undefined : { "x-part-hash": partHash(blob, unit.partSize, partNumber) };
    await client.putFile(path, { path: blob.file, start: unit.start, size: unit.size, headers }, (bytes) =>
      progress.advance(0, bytes),
    );
    stats.bytesUploaded += unit.size;
    if (partNumber === null) {
      progress.advance(1, 0);
      return;
    }
    stats.partsUploaded += 1;
    const left = (remaining.get(blob.hash) ?? 1) - 1;
    remaining.set(blob.hash, left);
    if (left === 0) {
      completions.push(complete(client, base, blob, progress));
    }
  };
  // Batches are large and the platform's work on them is the bottleneck: a few at a time go fastest.
  await Promise.all([
    mapLimit(
      units.filter((unit) => unit.kind === "batch"),
      Math.min(options.concurrency, BATCHES_IN_FLIGHT),
      send,
    ),
    mapLimit(
      units.filter((unit) => unit.kind === "part"),
      options.concurrency,
      send,
    ),
  ]);

  await Promise.all(completions);
  return stats;
}

async function complete(client: ApiClient, base: string, blob: BlobToUpload, progress: Progress): Promise<void> {
  await client.request("POST", `${base}/uploads/${blob.hash}/complete`);
  progress.advance(1, 0);
  progress.note(`${blob.path}: uploaded and verified`);
}

/** Groups small blobs into batches the platform accepts. */
function batchesOf(blobs: readonly BlobToUpload[]): Unit[] {
  const batches: Unit[] = [];
  let current: BlobToUpload[] = [];
  let size = 0;
  for (const blob of blobs) {
    if (current.length === BATCH_MAX_BLOBS || size + blob.size > BATCH_MAX_BYTES) {
      batches.push({ kind: "batch", blobs: current, size });
      current = [];
      size = 0;
    }
    current.push(blob);
    size += blob.size;
  }
  if (current.length > 0) {
    batches.push({ kind: "batch", blobs: current, size });
  }
  return batches;
}

/**
 * Sends one batch: a line of JSON naming each blob's hash and size, then
 * their bytes in that order. A blob the platform refuses is a file that
 * changed after it was hashed.
 */
async function sendBatch(client: ApiClient, base: string, blobs: readonly BlobToUpload[]): Promise<void> {
  const contents = await Promise.all(blobs.map((blob) => readFile(blob.file)));
  contents.forEach((bytes, index) => {
    const blob = blobs[index] as BlobToUpload;
    if (bytes.byteLength !== blob.size) {
      throw changed(blob);
    }
  });
  const header = Buffer.from(`${JSON.stringify({ blobs: blobs.map(({ hash, size }) => ({ hash, size })) })}\n`);
  const body = new Uint8Array(Buffer.concat([header, ...contents]));
  const answer = await client.request<BatchAnswer>("POST", `${base}/blobs/batch`, body);
  const failed = answer.failed[0];
  if (failed) {
    throw changed(blobs.find((blob) => blob.hash === failed.hash) ?? (blobs[0] as BlobToUpload));
  }
}

function changed(blob: BlobToUpload): CliError {
  return new CliError(`${blob.file} changed while it was being deployed; run the deploy again`);
}
