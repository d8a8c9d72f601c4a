/**
 * Precompressing a deploy's text files (see src/rules/encoding.ts): brotli
 * at quality 11 (with a 16 MiB window for files over 4 MiB), gzip at level
 * 9, and zstd at level 19 where the Node running the CLI has it (22.15 and
 * later); files under 16 KiB get brotli 6 alone, with a 64 KiB window
 * (see BEST_FROM_BYTES and brotliWindow).
 * A variant is kept only if it is smaller than the file. Variants
 * are kept under the cache directory, remembered by their file's content
 * hash, so that an unchanged file is never compressed again: each large
 * variant as a file of its own (`variants/<hash>`), small ones appended to
 * one pack file per run (`variants/pack-…`), since three files written,
 * renamed and read again per small file cost more than compressing it.
 * Large files are compressed on libuv's thread pool, small ones on a
 * thread of the compressor's own (see `Coding`), while the CLI hashes and
 * uploads.
 */
import { mkdir, open, readFile, stat, type FileHandle } from "node:fs/promises";
import { readRange } from "./file-range.ts";
import { writeAtomically } from "./write-atomically.ts";
import { basename, extname, join } from "node:path";
import { Worker } from "node:worker_threads";
import * as zlib from "node:zlib";
import type { Encoding } from "../rules/encoding.ts";
import { compilePattern, type Pattern } from "../rules/patterns.ts";
import { BLOCK_SIZE } from "../shared/limits.ts";
import { Limiter } from "../shared/pool.ts";
import type { CompressAnswers, CompressJob, CompressRequest } from "./compress-thread.ts";
import { fileHashOfBytes, type FileHash } from "./hash.ts";

/** Files smaller than this are not compressed: it does not pay. */
export const MIN_COMPRESS_BYTES = 1024;
/** Files larger than this are not compressed here (they are rarely text, and would be held in memory). */
export const MAX_COMPRESS_BYTES = 64 * 1024 * 1024;
/**
 * Large files compressed at once: each of a large one's codings takes a
 * thread of libuv's pool (four by default).
 */
const COMPRESS_CONCURRENCY = 8;
/**
 * Small files compressed at once: they queue for the compressor's thread,
 * which takes those queued in one turn of the event loop as one message
 * (a message a file cost the main thread more than the file's hashing).
 */
const SMALL_CONCURRENCY = 64;
/** Variant bytes this run holds for the uploader rather than read back from its pack; past that, read. */
const HELD_MAX_BYTES = 64 * 1024 * 1024;
/**
 * Files from this size get the best settings. Below it, brotli 11 costs
 * ~2.2 ms a KiB (thirty times brotli 6) to save ~11% of an output under
 * ~4 KB, which rarely spares a packet, and brotli 7-9 make the bytes of 6;
 * no gzip or zstd (see `codings`). Measured on TypeScript's declarations; README
 * "Precompressed delivery".
 */
export const BEST_FROM_BYTES = 16 * 1024;
const isLarge = (bytes: Buffer): boolean => bytes.length >= BEST_FROM_BYTES;
/** What the remembered variants were made with: a change makes them again. */
const SETTINGS = "br11-gzip9-zstd19-16k:br6w16";

/**
 * Brotli's window, in bits: 16 MiB for files over 4 MiB, 4 MiB from
 * BEST_FROM_BYTES, and below it 64 KiB, which holds the whole file: a
 * window that small makes brotli 6 use its hasher for small windows,
 * ~8% less CPU for the same bytes (2,000 files of 0.7–7 KiB: 195 against
 * 211 µs a file, 0.2% fewer bytes).
 */
function brotliWindow(size: number): number {
  if (size < BEST_FROM_BYTES) {
    return 16;
  }
  return size > 4 * 1024 * 1024 ? 24 : 22;
}
/** Variants up to this size go to the run's pack file. */
const PACKED_MAX_BYTES = 64 * 1024;

/** Content types worth compressing. */
const COMPRESSIBLE =
  /^(?:text\/|application\/(?:javascript|json|manifest\+json|ld\+json|xml|xhtml\+xml|rss\+xml|atom\+xml|wasm|x-javascript|graphql\+json|geo\+json)|image\/(?:svg\+xml|x-icon|vnd\.microsoft\.icon|bmp)|font\/(?:ttf|otf)|application\/vnd\.ms-fontobject)/;

export function isCompressible(contentType: string, size: number): boolean {
  return size >= MIN_COMPRESS_BYTES && size <= MAX_COMPRESS_BYTES && COMPRESSIBLE.test(contentType);
}

/** A variant, stored on disk for the uploader. */
export interface Variant extends FileHash {
  encoding: Encoding;
  size: number;
  /** Where it is on disk: its own file, or a pack. */
  file: string;
  /** Where it starts in `file`, if that is a pack. */
  offset?: number;
  /** Its bytes, when this run made it small enough to hold (see HELD_MAX_BYTES). */
  bytes?: Buffer;
}

export interface CompressStats {
  /** Files compressed by this run, their bytes, and the variants' bytes by coding. */
  files: number;
  bytesIn: number;
  bytesOut: Partial<Record<Encoding, number>>;
  /** Files whose variants were remembered. */
  reused: number;
  /** Wall time spent compressing, in ms (in parallel with hashing and uploads). */
  ms: number;
}

/** A remembered variant: its own file (`variants/<hash>`), or `size` bytes at `offset` in a pack. */
interface Stored {
  hash: string;
  size: number;
  pack?: string;
  offset?: number;
}

type Remembered = Partial<Record<Encoding, Stored>>;

export interface CompressorOptions {
  /** Where variants and what they were made from are kept. */
  dir: string;
  /** Route patterns (`/videos/*.json`) of files not to compress. */
  exclude: readonly string[];
}

/**
 * Each coding's options for a file, and its asynchronous form. A small
 * file is compressed on the compressor's thread (compress-thread.ts), one
 * message for all its codings: through libuv's pool each coding of a
 * small file cost about three times the work (measured: brotli 6 of
 * 3.3 KB, 0.24 ms of CPU in line, 0.65 ms through the pool), and in line
 * it held the main thread. A large one goes to the pool, so that brotli
 * 11's seconds run side by side.
 */
interface Coding {
  /** Files smaller than this are not given this coding. */
  minBytes: number;
  options: (bytes: Buffer) => object;
  async: (bytes: Buffer, options: object, done: (error: Error | null, result: Buffer) => void) => void;
}

const codings: Record<Encoding, Coding | null> = {
  br: {
    minBytes: 0,
    options: (bytes) => ({
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: isLarge(bytes) ? 11 : 6,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [zlib.constants.BROTLI_PARAM_LGWIN]: brotliWindow(bytes.length),
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      },
    }),
    async: zlib.brotliCompress,
  },
  gzip: {
    // Below BEST_FROM_BYTES a gzip variant would be sent only to a client
    // that takes gzip but not brotli (no browser: HTTP libraries, some
    // bots), for ~1% fewer bytes than the runtime's own gzip of the file
    // (gzip 9 against 6); it cost a third of a small file's compression
    // time and a blob to store and upload.
    minBytes: BEST_FROM_BYTES,
    options: () => ({ level: 9, memLevel: 9 }),
    async: zlib.gzip,
  },
  zstd: zstdCoding(),
};

function zstdCoding(): Coding | null {
  const z = zlib as unknown as { zstdCompress?: Coding["async"]; constants: Record<string, number> };
  const level = z.constants.ZSTD_c_compressionLevel;
  if (z.zstdCompress === undefined || level === undefined) {
    return null;
  }
  return {
    // Below BEST_FROM_BYTES a zstd variant would be sent only to a client
    // that takes zstd but not brotli (no browser does), and each variant is
    // a blob to store and upload.
    minBytes: BEST_FROM_BYTES,
    // The size pledged lets zstd size its tables to the file: level 19 takes
    // hundreds of MB a compression without it, for the same bytes out.
    options: (bytes) => ({ pledgedSrcSize: bytes.length, params: { [level]: 19 } }),
    async: z.zstdCompress,
  };
}

function compressOnPool(coding: Coding, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    coding.async(bytes, coding.options(bytes), (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** The thread small files are compressed on (compress-thread.ts), started on first use. */
class CompressThread {
  #worker: Worker | null = null;
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (results: Buffer[]) => void; reject: (error: Error) => void }>();
  /** Files asked for in this turn of the event loop, sent together once it ends. */
  #queued: CompressRequest[] = [];

  /** `bytes` compressed by each job, in order. */
  run(bytes: Buffer, jobs: CompressJob[]): Promise<Buffer[]> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#queued.push({ id, bytes, jobs });
      if (this.#queued.length === 1) {
        setImmediate(() => this.#send());
      }
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    await worker?.terminate();
  }

  #send(): void {
    const requests = this.#queued;
    this.#queued = [];
    let worker: Worker;
    try {
      worker = this.#start();
    } catch (error) {
      this.#fail(error as Error);
      return;
    }
    // Held open only while it has work, so that it never keeps the CLI from exiting.
    worker.ref();
    // oxlint-disable-next-line unicorn/require-post-message-target-origin
    worker.postMessage(requests);
  }

  #fail(error: Error): void {
    this.#worker = null;
    for (const waiting of this.#waiting.values()) {
      waiting.reject(error);
    }
    this.#waiting.clear();
  }

  #start(): Worker {
    if (this.#worker) {
      return this.#worker;
    }
    // The thread's module sits beside this one, compiled or not.
    const worker = new Worker(
      new URL(`./compress-thread${extname(new URL(import.meta.url).pathname)}`, import.meta.url),
    );
    worker.on("message", ({ buffer, answers }: CompressAnswers) => {
      for (const answer of answers) {
        const waiting = this.#waiting.get(answer.id);
        this.#waiting.delete(answer.id);
        if ("error" in answer) {
          waiting?.reject(new Error(`could not compress: ${answer.error}`));
        } else {
          waiting?.resolve(answer.results.map(([offset, length]) => Buffer.from(buffer, offset, length)));
        }
      }
      if (this.#waiting.size === 0) {
        worker.unref();
      }
    });
    worker.on("error", (error) => this.#fail(new Error(`the compressor's thread failed: ${error.message}`)));
    worker.on("exit", (code) => this.#fail(new Error(`the compressor's thread stopped (exit code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

/** The codings this Node can make. */
export function availableEncodings(): Encoding[] {
  return (Object.keys(codings) as Encoding[]).filter((encoding) => codings[encoding] !== null);
}

/**
 * A run's pack file: small variants appended at `size`. Appends made in
 * one turn of the event loop go to disk as one write (`pending`, from
 * `pendingAt`, written by `flushed`): a write per variant cost more than
 * compressing it. Variants handed over in memory do not wait for their
 * write, so the pack keeps every write (`written`, which never rejects)
 * for close() to wait for, and the first that failed (`failure`): the
 * index then forgets the pack.
 */
interface Pack {
  name: string;
  handle: Promise<FileHandle>;
  size: number;
  pending: Buffer[];
  pendingAt: number;
  flushed: Promise<void> | null;
  written: Promise<void>;
  failure: Error | null;
}

export class Compressor {
  readonly #dir: string;
  readonly #exclude: Pattern[];
  readonly #limiter = new Limiter(COMPRESS_CONCURRENCY);
  readonly #smallLimiter = new Limiter(SMALL_CONCURRENCY);
  /** Bytes of variants handed to the uploader in memory so far (see HELD_MAX_BYTES). */
  #held = 0;
  /** Bytes of files handed over in memory whose compression has not finished (see `backlogAtMost`). */
  #backlog = 0;
  readonly #backlogWaiters: (() => void)[] = [];
  readonly #thread = new CompressThread();
  readonly #remembered: Map<string, Remembered>;
  /** Compressions under way, by the key their result is remembered under. */
  readonly #making = new Map<string, Promise<Variant[]>>();
  readonly stats: CompressStats = { files: 0, bytesIn: 0, bytesOut: {}, reused: 0, ms: 0 };
  #busy = 0;
  #busySince = 0;
  /**
   * This run's pack: small variants appended at `size` (see Pack).
   */
  #pack: Pack | null = null;
  /** Sizes of the packs on disk, as far as this run has looked. */
  readonly #packSizes = new Map<string, Promise<number>>();

  private constructor(options: CompressorOptions, remembered: Map<string, Remembered>) {
    this.#dir = options.dir;
    this.#exclude = options.exclude.map((pattern) => compilePattern(pattern, { placeholders: false }));
    this.#remembered = remembered;
  }

  static async open(options: CompressorOptions): Promise<Compressor> {
    await mkdir(join(options.dir, "variants"), { recursive: true });
    const index = await readFile(join(options.dir, "variants", "index.json"), "utf8").catch(() => "{}");
    let parsed: unknown;
    try {
      parsed = JSON.parse(index);
    } catch {
      parsed = {};
    }
    const entries =
      typeof parsed === "object" && parsed !== null ? Object.entries(parsed as Record<string, Remembered>) : [];
    return new Compressor(options, new Map(entries));
  }

  /** Whether a file is compressed at all (by type, size and the exclusions). */
  wants(path: string, contentType: string, size: number): boolean {
    return isCompressible(contentType, size) && !this.#exclude.some((pattern) => pattern.match(path));
  }

  /**
   * The variants of a file (at `file`, whose content hash is `hash`), made
   * or remembered; made from `bytes` if the caller holds them, else read.
   */
  async variantsOf(file: string, hash: string, bytes?: Buffer): Promise<Variant[]> {
    const key = `${hash}:${SETTINGS}`;
    // Files of the same content (often many in a site) are compressed once.
    const making = this.#making.get(key);
    if (making) {
      this.stats.reused += 1;
      return making;
    }
    const known = this.#remembered.get(key);
    if (known && (await this.#onDisk(known))) {
      this.stats.reused += 1;
      return Promise.all(
        Object.entries(known).map(async ([encoding, stored]) => {
          const where = this.#where(stored);
          // A variant of one block needs no block digests (it is one part, its
          // hash the content hash): only a larger one is read again for them.
          const fileHash =
            stored.size <= BLOCK_SIZE
              ? { hash: stored.hash, blockDigests: [] }
              : fileHashOfBytes(await readRange(where.file, where.offset ?? 0, stored.size));
          return { encoding: encoding as Encoding, size: stored.size, ...where, ...fileHash };
        }),
      );
    }
    const made = this.#make(bytes ?? file, key);
    this.#making.set(key, made);
    this.#backlog += bytes?.length ?? 0;
    try {
      return await made;
    } finally {
      this.#making.delete(key);
      this.#backlog -= bytes?.length ?? 0;
      this.#backlogWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /**
   * Resolves once the bytes of files handed over in memory and not yet
   * compressed are at most `bytes`: the hashing waits on it, so that a
   * site of many small files is not held in memory whole when the
   * compressor falls behind.
   */
  async backlogAtMost(bytes: number): Promise<void> {
    while (this.#backlog > bytes) {
      await new Promise<void>((resolve) => this.#backlogWaiters.push(resolve));
    }
  }

  #make(source: string | Buffer, key: string): Promise<Variant[]> {
    const limiter = typeof source !== "string" && !isLarge(source) ? this.#smallLimiter : this.#limiter;
    return limiter.run(async () => {
      this.#start();
      try {
        const bytes = typeof source === "string" ? await readFile(source) : source;
        const variants: Variant[] = [];
        const made = await this.#compress(bytes);
        for (const { encoding, bytes: compressed } of made) {
          if (compressed.length >= bytes.length) {
            continue;
          }
          const fileHash = fileHashOfBytes(compressed);
          const where = await this.#store(fileHash.hash, compressed);
          variants.push({ encoding, size: compressed.length, ...fileHash, ...where });
          this.stats.bytesOut[encoding] = (this.stats.bytesOut[encoding] ?? 0) + compressed.length;
        }
        this.stats.files += 1;
        this.stats.bytesIn += bytes.length;
        this.#remembered.set(
          key,
          Object.fromEntries(variants.map((variant) => [variant.encoding, this.#remember(variant)])),
        );
        return variants;
      } finally {
        this.#stop();
      }
    });
  }

  /** Each coding a file gets, made: on libuv's pool if it is large, else on the compressor's thread. */
  async #compress(bytes: Buffer): Promise<{ encoding: Encoding; bytes: Buffer }[]> {
    const encodings = availableEncodings().filter((encoding) => bytes.length >= (codings[encoding]?.minBytes ?? 0));
    const coding = (encoding: Encoding): Coding => codings[encoding] as Coding;
    if (isLarge(bytes)) {
      return Promise.all(
        encodings.map(async (encoding) => ({ encoding, bytes: await compressOnPool(coding(encoding), bytes) })),
      );
    }
    const jobs = encodings.map((encoding) => ({ encoding, options: coding(encoding).options(bytes) }));
    const results = await this.#thread.run(bytes, jobs);
    return encodings.map((encoding, i) => ({ encoding, bytes: results[i] ?? Buffer.alloc(0) }));
  }

  /** Closes this run's pack and writes what was remembered, for the next run. */
  async save(): Promise<void> {
    await this.close();
    const file = join(this.#dir, "variants", "index.json");
    await writeAtomically(file, JSON.stringify(Object.fromEntries(this.#remembered)));
  }

  /** Closes the file this run appends small variants to. */
  async close(): Promise<void> {
    const pack = this.#pack;
    this.#pack = null;
    if (pack) {
      await pack.written;
      await (await pack.handle.catch(() => null))?.close();
      if (pack.failure) {
        this.#forgetPack(pack.name);
      }
    }
    await this.#thread.close();
  }

  /** Forgets the variants remembered in a pack not wholly written: the next run makes them again. */
  #forgetPack(name: string): void {
    for (const [key, known] of this.#remembered) {
      if (Object.values(known).some((stored) => stored.pack === name)) {
        this.#remembered.delete(key);
      }
    }
  }

  /** Writes a variant: a small one at the end of this run's pack, a large one to a file of its own. */
  async #store(hash: string, bytes: Buffer): Promise<{ file: string; offset?: number; bytes?: Buffer }> {
    if (bytes.length > PACKED_MAX_BYTES) {
      const file = this.#path(hash);
      await writeAtomically(file, bytes);
      return { file };
    }
    if (this.#pack === null) {
      const name = `pack-${process.pid}-${Date.now()}`;
      this.#pack = {
        name,
        handle: open(this.#path(name), "wx"),
        size: 0,
        pending: [],
        pendingAt: 0,
        flushed: null,
        written: Promise.resolve(),
        failure: null,
      };
    }
    // The offset is taken at once, so that writes never overlap.
    const pack = this.#pack;
    const offset = pack.size;
    pack.size += bytes.length;
    pack.pending.push(bytes);
    if (pack.flushed === null) {
      pack.flushed = this.#flushSoon(pack);
      const flushed = pack.flushed;
      pack.written = pack.written.then(() => flushed);
    }
    const where = { file: this.#path(pack.name), offset };
    if (this.#held + bytes.length <= HELD_MAX_BYTES) {
      // The uploader sends these bytes; the pack keeps them for the next run (closed before the index is saved).
      this.#held += bytes.length;
      return { ...where, bytes };
    }
    // Read by the uploader once this returns: on disk by then.
    await pack.flushed;
    if (pack.failure) {
      throw pack.failure;
    }
    return where;
  }

  /** Writes what was appended to `pack` in this turn of the event loop, once it ends; a failure is kept in the pack. */
  async #flushSoon(pack: Pack): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const { pending, pendingAt } = pack;
    pack.pending = [];
    pack.pendingAt = pack.size;
    pack.flushed = null;
    const joined = Buffer.concat(pending);
    try {
      await (await pack.handle).write(joined, 0, joined.length, pendingAt);
    } catch (error) {
      pack.failure ??= error as Error;
    }
  }

  #remember(variant: Variant): Stored {
    const { hash, size, file, offset } = variant;
    return offset === undefined ? { hash, size } : { hash, size, pack: basename(file), offset };
  }

  #where(stored: Stored): { file: string; offset?: number } {
    return stored.pack === undefined
      ? { file: this.#path(stored.hash) }
      : { file: this.#path(stored.pack), offset: stored.offset ?? 0 };
  }

  #path(name: string): string {
    return join(this.#dir, "variants", name);
  }

  async #onDisk(known: Remembered): Promise<boolean> {
    for (const stored of Object.values(known)) {
      if (stored.pack === undefined) {
        if ((await stat(this.#path(stored.hash)).catch(() => null))?.size !== stored.size) {
          return false;
        }
        continue;
      }
      let size = this.#packSizes.get(stored.pack);
      if (size === undefined) {
        size = stat(this.#path(stored.pack)).then(
          (found) => found.size,
          () => -1,
        );
        this.#packSizes.set(stored.pack, size);
      }
      if ((await size) < (stored.offset ?? 0) + stored.size) {
        return false;
      }
    }
    return true;
  }

  #start(): void {
    if (this.#busy === 0) {
      this.#busySince = performance.now();
    }
    this.#busy += 1;
  }

  #stop(): void {
    this.#busy -= 1;
    if (this.#busy === 0) {
      this.stats.ms += performance.now() - this.#busySince;
    }
  }
}
