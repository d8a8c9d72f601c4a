/**
 * The bodies of a project's files. Blobs are content-addressed and never
 * change, so small ones are kept close: the hottest tiny ones in the
 * isolate's memory; small blobs stored together in a pack are read a window
 * of the pack at a time (PACK_WINDOW_BYTES), so that the files a site was
 * deployed with cost a few R2 reads, not one each; other small ones up to
 * CACHED_BODY_MAX_BYTES go through the Cache API (shared by the isolates of
 * a location), keyed by project and hash under a URL no visitor can
 * address. Larger ones stream from R2, window by window.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import type { FileRef } from "../manifest/contract.ts";
import {
  CACHED_BODY_MAX_BYTES,
  MEMORY_BODY_CACHE_BYTES,
  MEMORY_BODY_MAX_BYTES,
  PACK_WINDOW_BYTES,
  PACK_WINDOW_CACHE_BYTES,
} from "../shared/limits.ts";
import { Flights } from "../shared/flights.ts";
import { Lru } from "../shared/lru.ts";
import { stats } from "./stats.ts";

const memory = new Lru<Uint8Array>({
  maxEntries: 100_000,
  maxBytes: MEMORY_BODY_CACHE_BYTES,
  sizeOf: (bytes, key) => bytes.byteLength + key.length,
});

/** Windows of packs, by project, pack and where the window starts. */
const windows = new Lru<Uint8Array>({
  maxEntries: 10_000,
  maxBytes: PACK_WINDOW_CACHE_BYTES,
  sizeOf: (bytes, key) => bytes.byteLength + key.length,
});
const windowReads = new Flights<Uint8Array | null>();

/** Not a host any request can reach: the Cache API key of a stored blob. */
const CACHE_ORIGIN = "https://blobs.r2-assets.invalid";

/** What one request's bodies cost: how many R2 reads they made (for its analytics' cache hits). */
export interface BodyNote {
  r2Reads: number;
}

export class Bodies {
  readonly #store: BlobStore;
  readonly #project: string;
  readonly #waitUntil: (promise: Promise<unknown>) => void;
  readonly #note: BodyNote;

  constructor(
    store: BlobStore,
    project: string,
    waitUntil: (promise: Promise<unknown>) => void,
    note: BodyNote = { r2Reads: 0 },
  ) {
    this.#store = store;
    this.#project = project;
    this.#waitUntil = waitUntil;
    this.#note = note;
  }

  /** Streams bytes `start` to `end` (inclusive) of `file`. */
  async read(file: FileRef, start: number, end: number): Promise<ReadableStream> {
    if (file.size <= CACHED_BODY_MAX_BYTES) {
      return new Response((await this.#small(file)).subarray(start, end + 1)).body ?? new ReadableStream();
    }
    this.#note.r2Reads += 1;
    const body = await this.#store.read(file, start, end);
    return body ?? missing(file);
  }

  /** Pipes bytes `start` to `end` (inclusive) of `file` into `writable`, leaving it open. */
  async pipe(file: FileRef, start: number, end: number, writable: WritableStream): Promise<void> {
    if (file.size <= CACHED_BODY_MAX_BYTES) {
      const writer = writable.getWriter();
      await writer.write((await this.#small(file)).subarray(start, end + 1));
      writer.releaseLock();
      return;
    }
    this.#note.r2Reads += 1;
    if (!(await this.#store.pipeRange(file, start, end, writable))) {
      missing(file);
    }
  }

  /**
   * A packed blob's bytes, from the window of its pack that holds them: one
   * R2 read serves every blob of the window, and concurrent requests for
   * one window share the read.
   */
  async #fromPack(file: FileRef, pack: string, offset: number): Promise<Uint8Array> {
    const start = Math.floor(offset / PACK_WINDOW_BYTES) * PACK_WINDOW_BYTES;
    const key = `${this.#project}\n${pack}\n${start}`;
    const covers = (window: Uint8Array | null | undefined): window is Uint8Array =>
      window !== null && window !== undefined && start + window.byteLength >= offset + file.size;
    let window: Uint8Array | null | undefined = windows.get(key);
    if (covers(window)) {
      stats.packWindowHits += 1;
    } else {
      // A blob that runs past the window's end is read with the window, whole.
      const length = Math.max(PACK_WINDOW_BYTES, offset + file.size - start);
      window = await windowReads.run(`${key}\n${length}`, async () => {
        stats.packWindowReads += 1;
        this.#note.r2Reads += 1;
        const read = await this.#store.packWindow(pack, start, length);
        if (read) {
          windows.set(key, read);
        }
        return read;
      });
    }
    if (!covers(window)) {
      return missing(file);
    }
    return window.subarray(offset - start, offset - start + file.size);
  }

  /** The whole body of a small file, from the nearest place that has it. */
  async #small(file: FileRef): Promise<Uint8Array> {
    const key = `${this.#project}\n${file.hash}`;
    const kept = memory.get(key);
    if (kept) {
      stats.bodyMemoryHits += 1;
      return kept;
    }
    if (file.pack !== null && file.offset !== null) {
      const bytes = await this.#fromPack(file, file.pack, file.offset);
      if (bytes.byteLength <= MEMORY_BODY_MAX_BYTES) {
        memory.set(key, bytes.slice());
      }
      return bytes;
    }
    const cacheKey = `${CACHE_ORIGIN}/${this.#project}/${file.hash}`;
    // The Cache API is a shortcut, never a dependency: if it fails, R2 answers.
    const cached = await caches.default.match(cacheKey).catch(() => undefined);
    let bytes: Uint8Array;
    if (cached) {
      stats.bodyCacheHits += 1;
      bytes = new Uint8Array(await cached.arrayBuffer());
    } else {
      stats.bodyReads += 1;
      this.#note.r2Reads += 1;
      bytes = (await this.#store.bytes(file, file.size)) ?? missing(file);
      const response = new Response(bytes.slice(), {
        headers: { "cache-control": "public, max-age=31536000, immutable" },
      });
      this.#waitUntil(caches.default.put(cacheKey, response).catch(() => undefined));
    }
    if (bytes.byteLength <= MEMORY_BODY_MAX_BYTES) {
      memory.set(key, bytes);
    }
    return bytes;
  }
}

function missing(file: FileRef): never {
  // The manifest lists the file, so its blob must be stored.
  throw new Error(`blob ${file.hash} of ${file.path} is missing from R2`);
}
