/**
 * Uploading the blobs a deploy lacks: small ones in one request each, large
 * ones in parts (several in parallel, resumable: parts that arrived before
 * a crash are not sent again), all through one bounded pool.
 */
import { choosePartSize } from "../shared/limits.ts";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { partHash } from "./hash.ts";
import { mapLimit } from "../shared/pool.ts";
import type { Progress } from "./progress.ts";

export interface BlobToUpload {
  hash: string;
  /** The URL path it is deployed at, for messages. */
  path: string;
  /** Where it is on disk. */
  file: string;
  size: number;
  blockDigests: Buffer[];
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

/** One request's worth of work: a whole small blob, or one part of a large one. */
interface Unit {
  blob: BlobToUpload;
  partNumber: number | null;
  start: number;
  size: number;
  partSize: number;
}

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
    .filter((blob) => blob.size <= options.multipartThreshold)
    .map((blob) => ({ blob, partNumber: null, start: 0, size: blob.size, partSize: blob.size }));

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

  // 2. Send whole blobs and missing parts through one bounded pool,
  //    completing each multipart upload when its last part is in.
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
  await mapLimit(units, options.concurrency, async (unit) => {
    const { blob, partNumber } = unit;
    const path =
      partNumber === null ? `${base}/blobs/${blob.hash}` : `${base}/uploads/${blob.hash}/parts/${partNumber}`;
    const headers =
      partNumber === null ? undefined : { "x-part-hash": partHash(blob.blockDigests, unit.partSize, partNumber) };
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
  });

  await Promise.all(completions);
  return stats;
}

async function complete(client: ApiClient, base: string, blob: BlobToUpload, progress: Progress): Promise<void> {
  await client.request("POST", `${base}/uploads/${blob.hash}/complete`);
  progress.advance(1, 0);
  progress.note(`${blob.path}: uploaded and verified`);
}
