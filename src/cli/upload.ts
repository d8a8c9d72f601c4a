/**
 * Uploading the blobs a deploy lacks, as the platform names them (a
 * manifest page at a time, while later pages are still being hashed):
 * small ones many to a request (POST …/blobs/batch), medium ones one to a
 * request, large ones in parts (several in parallel, resumable: parts that
 * arrived before a crash are not sent again). A deploy that dies part way
 * resumes by asking again what is missing.
 */
import { open, readFile, type FileHandle } from "node:fs/promises";
import { readFrom } from "./file-range.ts";
import { BATCH_MAX_BLOB_BYTES, BATCH_MAX_BLOBS, BATCH_MAX_BYTES, choosePartSize } from "../shared/limits.ts";
import { Limiter } from "../shared/pool.ts";
import type { ApiClient } from "./client.ts";
import { CliError } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { partHash, type FileHash } from "./hash.ts";
import type { Progress } from "./progress.ts";

/** Batches in flight at once, at most: the platform's work on them is the bottleneck, and more went slower. */
const BATCHES_IN_FLIGHT = 4;

export interface BlobToUpload extends FileHash {
  /** The URL path it is deployed at, for messages. */
  path: string;
  /** Where it is on disk. */
  file: string;
  /** Where it starts in `file` (a pack of variants); the whole file if absent. */
  offset?: number;
  size: number;
  /** Its bytes, if held in memory (a small variant this run made): not read from `file` then. */
  bytes?: Uint8Array;
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
  /** Blobs queued, and their bytes. */
  blobs: number;
  bytesQueued: number;
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

/**
 * Takes blobs as they are found missing (`add`), packs the small ones into
 * batches, and sends everything through bounded pools; `finish` sends the
 * last batch and waits for the rest. The first failure stops the uploads:
 * `add` and `finish` throw it.
 */
export class Uploader {
  readonly #client: ApiClient;
  readonly #base: string;
  readonly #multipartThreshold: number;
  readonly #progress: Progress;
  readonly #batches: Limiter;
  readonly #requests: Limiter;
  readonly #queued = new Set<string>();
  readonly #stats: UploadStats = { blobs: 0, bytesQueued: 0, bytesUploaded: 0, partsUploaded: 0, partsSkipped: 0 };
  #batch: BlobToUpload[] = [];
  #batchBytes = 0;
  /** Progress made before the upload step was shown: blobs and bytes. */
  #done = { items: 0, bytes: 0 };
  #showing = false;
  #pending = 0;
  #idle: (() => void) | null = null;
  #failure: { error: unknown } | null = null;

  constructor(client: ApiClient, base: string, options: UploadOptions, progress: Progress) {
    this.#client = client;
    this.#base = base;
    this.#multipartThreshold = options.multipartThreshold;
    this.#progress = progress;
    this.#batches = new Limiter(Math.min(options.concurrency, BATCHES_IN_FLIGHT));
    this.#requests = new Limiter(options.concurrency);
  }

  /** Queues blobs the platform lacks; a blob already queued is not sent again. */
  add(blobs: readonly BlobToUpload[]): void {
    this.#throwIfFailed();
    for (const blob of blobs) {
      if (this.#queued.has(blob.hash)) {
        continue;
      }
      this.#queued.add(blob.hash);
      this.#stats.blobs += 1;
      this.#stats.bytesQueued += blob.size;
      if (blob.size <= BATCH_MAX_BLOB_BYTES) {
        if (this.#batch.length === BATCH_MAX_BLOBS || this.#batchBytes + blob.size > BATCH_MAX_BYTES) {
          this.#flush();
        }
        this.#batch.push(blob);
        this.#batchBytes += blob.size;
      } else if (blob.size <= this.#multipartThreshold) {
        this.#spawn(this.#requests, () => this.#sendWhole(blob));
      } else {
        this.#spawn(this.#requests, () => this.#startParts(blob));
      }
    }
  }

  /** Whether an upload has failed (`finish` will throw why). */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Shows the upload step's progress from here on, counting what is done already. */
  showProgress(): void {
    this.#progress.start("Uploading", this.#stats.blobs, this.#stats.bytesQueued);
    this.#progress.advance(this.#done.items, this.#done.bytes);
    this.#showing = true;
  }

  /** Sends the last batch and waits for every upload. */
  async finish(): Promise<UploadStats> {
    this.#throwIfFailed();
    this.#flush();
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => (this.#idle = resolve));
    }
    this.#throwIfFailed();
    return { ...this.#stats };
  }

  #throwIfFailed(): void {
    if (this.#failure) {
      throw this.#failure.error;
    }
  }

  #flush(): void {
    if (this.#batch.length > 0) {
      const blobs = this.#batch;
      const size = this.#batchBytes;
      this.#batch = [];
      this.#batchBytes = 0;
      this.#spawn(this.#batches, () => this.#sendBatch(blobs, size));
    }
  }

  /** Runs `task` in `pool` unless an upload has failed, recording the first failure. */
  #spawn(pool: Limiter, task: () => Promise<void>): void {
    this.#pending += 1;
    void pool
      .run(() => (this.#failure ? Promise.resolve() : task()))
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#pending -= 1;
        if (this.#pending === 0) {
          this.#idle?.();
        }
      });
  }

  #advance(items: number, bytes: number): void {
    if (this.#showing) {
      this.#progress.advance(items, bytes);
    } else {
      this.#done.items += items;
      this.#done.bytes += bytes;
    }
  }

  /**
   * Sends one batch: a line of JSON naming each blob's hash and size, then
   * their bytes in that order. A blob the platform refuses is a file that
   * changed after it was hashed.
   */
  async #sendBatch(blobs: readonly BlobToUpload[], bytes: number): Promise<void> {
    const contents = await readBlobs(blobs);
    contents.forEach((content, index) => {
      const blob = blobs[index] as BlobToUpload;
      if (content.byteLength !== blob.size) {
        throw changed(blob);
      }
    });
    const header = Buffer.from(`${JSON.stringify({ blobs: blobs.map(({ hash, size }) => ({ hash, size })) })}\n`);
    const body = Buffer.concat([header, ...contents]);
    const answer = await this.#client.request<BatchAnswer>("POST", `${this.#base}/blobs/batch`, body);
    const failed = answer.failed[0];
    if (failed) {
      throw changed(blobs.find((blob) => blob.hash === failed.hash) ?? (blobs[0] as BlobToUpload));
    }
    this.#stats.bytesUploaded += bytes;
    this.#advance(blobs.length, bytes);
  }

  async #sendWhole(blob: BlobToUpload): Promise<void> {
    await this.#client.putFile(
      `${this.#base}/blobs/${blob.hash}`,
      { path: blob.file, start: blob.offset ?? 0, size: blob.size },
      (bytes) => this.#advance(0, bytes),
    );
    this.#stats.bytesUploaded += blob.size;
    this.#advance(1, 0);
  }

  /** Starts (or resumes) a multipart upload, learning which parts arrived, and queues the rest. */
  async #startParts(blob: BlobToUpload): Promise<void> {
    const preferred = choosePartSize(blob.size);
    if (preferred === null) {
      throw new CliError(`${blob.path} is ${formatBytes(blob.size)}, too large to upload in parts`);
    }
    const session = await this.#client.request<Session>("POST", `${this.#base}/uploads`, {
      hash: blob.hash,
      size: blob.size,
      partSize: preferred,
    });
    if (session.present) {
      this.#advance(1, blob.size);
      return;
    }
    const done = new Set(session.uploadedParts);
    this.#stats.partsSkipped += done.size;
    // Parts that arrived before count as sent.
    const partBytes = (partNumber: number): number =>
      Math.min(session.partSize, blob.size - (partNumber - 1) * session.partSize);
    this.#advance(
      0,
      [...done].reduce((sum, partNumber) => sum + partBytes(partNumber), 0),
    );
    const resumed = done.size > 0 ? `; resuming, ${done.size} part(s) already uploaded` : "";
    this.#progress.note(`${blob.path}: ${formatBytes(blob.size)} in ${session.partCount} parts${resumed}`);
    let remaining = session.partCount - done.size;
    if (remaining === 0) {
      this.#spawn(this.#requests, () => this.#complete(blob));
      return;
    }
    for (let partNumber = 1; partNumber <= session.partCount; partNumber += 1) {
      if (done.has(partNumber)) {
        continue;
      }
      const start = (partNumber - 1) * session.partSize;
      const size = partBytes(partNumber);
      this.#spawn(this.#requests, async () => {
        await this.#client.putFile(
          `${this.#base}/uploads/${blob.hash}/parts/${partNumber}`,
          {
            path: blob.file,
            start: (blob.offset ?? 0) + start,
            size,
            headers: { "x-part-hash": partHash(blob, session.partSize, partNumber) },
          },
          (bytes) => this.#advance(0, bytes),
        );
        this.#stats.bytesUploaded += size;
        this.#stats.partsUploaded += 1;
        remaining -= 1;
        if (remaining === 0) {
          await this.#complete(blob);
        }
      });
    }
  }

  async #complete(blob: BlobToUpload): Promise<void> {
    await this.#client.request("POST", `${this.#base}/uploads/${blob.hash}/complete`);
    this.#advance(1, 0);
    this.#progress.note(`${blob.path}: uploaded and verified`);
  }
}

/** The bytes of a batch's blobs: held, whole files, or ranges of packs (each pack opened once). */
async function readBlobs(blobs: readonly BlobToUpload[]): Promise<Uint8Array[]> {
  const packs = new Map<string, Promise<FileHandle>>();
  try {
    return await Promise.all(
      blobs.map(async (blob) => {
        if (blob.bytes !== undefined) {
          return blob.bytes;
        }
        if (blob.offset === undefined) {
          return readFile(blob.file);
        }
        let handle = packs.get(blob.file);
        if (handle === undefined) {
          handle = open(blob.file, "r");
          packs.set(blob.file, handle);
        }
        return readFrom(await handle, blob.offset, blob.size);
      }),
    );
  } finally {
    await Promise.all(
      [...packs.values()].map((handle) =>
        handle.then(
          (opened) => opened.close(),
          () => undefined,
        ),
      ),
    );
  }
}

function changed(blob: BlobToUpload): CliError {
  return new CliError(`${blob.file} changed while it was being deployed; run the deploy again`);
}
