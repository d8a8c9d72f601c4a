/**
 * Precompressing a deploy's text files (see src/rules/encoding.ts): brotli
 * at quality 11 (with a 16 MiB window for files over 4 MiB), gzip at level
 * 9, and zstd at level 19 where the Node running the CLI has it (22.15 and
 * later); files under 16 KiB get brotli 6 and zstd 6 (see BEST_FROM_BYTES).
 * A variant is kept only if it is smaller than the file. Variants
 * are content-addressed files under the cache directory
 * (`variants/<hash>`), remembered by their file's content hash, so that an
 * unchanged file is never compressed again; compression runs on libuv's
 * thread pool while the CLI hashes and uploads.
 */
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { Encoding } from "../rules/encoding.ts";
import { compilePattern, type Pattern } from "../rules/patterns.ts";
import { BLOCK_SIZE } from "../shared/limits.ts";
import { Limiter } from "../shared/pool.ts";
import { fileHashOfBytes, type FileHash } from "./hash.ts";

/** Files smaller than this are not compressed: it does not pay. */
export const MIN_COMPRESS_BYTES = 1024;
/** Files larger than this are not compressed here (they are rarely text, and would be held in memory). */
export const MAX_COMPRESS_BYTES = 64 * 1024 * 1024;
/** Compressions at once (each on a thread of libuv's pool, four by default). */
const COMPRESS_CONCURRENCY = 4;
/**
 * Files from this size get the best settings. Below it, brotli 11 costs
 * ~2.2 ms a KiB (thirty times brotli 6) to save ~11% of an output under
 * ~4 KB, which rarely spares a packet; brotli 7-9 make the bytes of 6, and
 * zstd 19 saves under 1% over zstd 6 at fifteen times the time. Measured on
 * TypeScript's declarations; README "Precompressed delivery".
 */
export const BEST_FROM_BYTES = 16 * 1024;
const isLarge = (bytes: Buffer): boolean => bytes.length >= BEST_FROM_BYTES;
/** What the remembered variants were made with: a change makes them again. */
const SETTINGS = "br11-gzip9-zstd19-16k:br6-zstd6";

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
  /** Where it is on disk. */
  file: string;
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

type Remembered = Partial<Record<Encoding, { hash: string; size: number }>>;

export interface CompressorOptions {
  /** Where variants and what they were made from are kept. */
  dir: string;
  /** Route patterns (`/videos/*.json`) of files not to compress. */
  exclude: readonly string[];
}

const compressors: Record<Encoding, ((bytes: Buffer) => Promise<Buffer>) | null> = {
  br: (bytes) =>
    promisify(zlib.brotliCompress)(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: isLarge(bytes) ? 11 : 6,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [zlib.constants.BROTLI_PARAM_LGWIN]: bytes.length > 4 * 1024 * 1024 ? 24 : 22,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      },
    }),
  gzip: (bytes) => promisify(zlib.gzip)(bytes, { level: 9, memLevel: 9 }),
  zstd: zstdCompressor(),
};

function zstdCompressor(): ((bytes: Buffer) => Promise<Buffer>) | null {
  const z = zlib as unknown as {
    zstdCompress?: (bytes: Buffer, options: object, done: (error: Error | null, result: Buffer) => void) => void;
    constants: Record<string, number>;
  };
  // The size pledged lets zstd size its tables to the file: level 19 takes
  // hundreds of MB a compression without it, for the same bytes out.
  const compress = z.zstdCompress;
  const level = z.constants.ZSTD_c_compressionLevel;
  if (compress === undefined || level === undefined) {
    return null;
  }
  return (bytes) =>
    new Promise((resolve, reject) =>
      compress(bytes, { pledgedSrcSize: bytes.length, params: { [level]: isLarge(bytes) ? 19 : 6 } }, (error, result) =>
        error ? reject(error) : resolve(result),
      ),
    );
}

/** The codings this Node can make. */
export function availableEncodings(): Encoding[] {
  return (Object.keys(compressors) as Encoding[]).filter((encoding) => compressors[encoding] !== null);
}

export class Compressor {
  readonly #dir: string;
  readonly #exclude: Pattern[];
  readonly #limiter = new Limiter(COMPRESS_CONCURRENCY);
  readonly #remembered: Map<string, Remembered>;
  readonly stats: CompressStats = { files: 0, bytesIn: 0, bytesOut: {}, reused: 0, ms: 0 };
  #busy = 0;
  #busySince = 0;

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

  /** The variants of a file (read from `file`, whose content hash is `hash`), made or remembered. */
  async variantsOf(file: string, hash: string): Promise<Variant[]> {
    const key = `${hash}:${SETTINGS}`;
    const known = this.#remembered.get(key);
    if (known && (await this.#onDisk(known))) {
      this.stats.reused += 1;
      return Promise.all(
        Object.entries(known).map(async ([encoding, { hash: variantHash, size }]) => {
          const stored = this.#path(variantHash);
          // A variant of one block needs no block digests (it is one part, its
          // hash the content hash): only a larger one is read again for them.
          const fileHash =
            size <= BLOCK_SIZE ? { hash: variantHash, blockDigests: [] } : fileHashOfBytes(await readFile(stored));
          return { encoding: encoding as Encoding, size, file: stored, ...fileHash };
        }),
      );
    }
    return this.#limiter.run(async () => {
      this.#start();
      try {
        const bytes = await readFile(file);
        const variants: Variant[] = [];
        const made = await Promise.all(
          availableEncodings().map(async (encoding) => ({
            encoding,
            bytes: await (compressors[encoding] as (b: Buffer) => Promise<Buffer>)(bytes),
          })),
        );
        for (const { encoding, bytes: compressed } of made) {
          if (compressed.length >= bytes.length) {
            continue;
          }
          const fileHash = fileHashOfBytes(compressed);
          const path = this.#path(fileHash.hash);
          await writeFile(`${path}.tmp`, compressed);
          await rename(`${path}.tmp`, path);
          variants.push({ encoding, size: compressed.length, file: path, ...fileHash });
          this.stats.bytesOut[encoding] = (this.stats.bytesOut[encoding] ?? 0) + compressed.length;
        }
        this.stats.files += 1;
        this.stats.bytesIn += bytes.length;
        this.#remembered.set(
          key,
          Object.fromEntries(variants.map((variant) => [variant.encoding, { hash: variant.hash, size: variant.size }])),
        );
        return variants;
      } finally {
        this.#stop();
      }
    });
  }

  /** Writes what was remembered, for the next run. */
  async save(): Promise<void> {
    const file = join(this.#dir, "variants", "index.json");
    await writeFile(`${file}.tmp`, JSON.stringify(Object.fromEntries(this.#remembered)));
    await rename(`${file}.tmp`, file);
  }

  #path(hash: string): string {
    return join(this.#dir, "variants", hash);
  }

  async #onDisk(known: Remembered): Promise<boolean> {
    for (const { hash, size } of Object.values(known)) {
      if ((await stat(this.#path(hash)).catch(() => null))?.size !== size) {
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
