/**
 * The hash cache: what each file of a deployed directory hashed to, keyed
 * by its path, size, modification and change times and inode, as git's
 * index keeps them, so that a redeploy hashes only what changed.
 *
 * It lives outside the deployed directory, one file per directory (by its
 * real path) under `$R2_ASSETS_CACHE_DIR`, else `$XDG_CACHE_HOME/r2-assets`,
 * else `~/.cache/r2-assets`. A cache file that does not parse, is of another
 * format or version, or names another directory is ignored whole; an entry
 * is trusted only if every part of its key matches, and only if the file
 * had last changed before the run that hashed it looked at it (a file
 * changed within the same clock tick could otherwise keep a stale hash).
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, realpath } from "node:fs/promises";
import { writeAtomically } from "./write-atomically.ts";
import { homedir } from "node:os";
import { join } from "node:path";
import { isContentHash } from "../shared/names.ts";
import { BLOCK_SIZE } from "../shared/limits.ts";
import { hashOfDigests, type FileHash } from "./hash.ts";
import type { FileStamp, LocalFile } from "./scan.ts";

const FORMAT = "r2-assets-hash-cache";
const VERSION = 1;

/**
 * A file whose times are this close to the moment its hash was taken is
 * hashed again next time: file times come from a clock that lags by a tick,
 * and filesystems that keep whole seconds (or two) round them down.
 */
const RACY_NS = 100_000_000n;
const COARSE_RACY_NS = 2_000_000_000n;
const SECOND_NS = 1_000_000_000n;

/** One file, as stored: size, times, inode, device, hash, and block digests when there are several. */
type Entry = [size: number, mtimeNs: string, ctimeNs: string, ino: string, dev: string, hash: string, digests?: string];

interface CacheFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  /** The directory's real path. */
  dir: string;
  /** When the run that wrote it started looking at the files (ns since the epoch). */
  scannedNs: string;
  files: Record<string, Entry>;
}

/** The directory that holds cache files. */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.R2_ASSETS_CACHE_DIR) {
    return env.R2_ASSETS_CACHE_DIR;
  }
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "r2-assets");
}

export class HashCache {
  readonly #file: string;
  readonly #dir: string;
  readonly #known: Map<string, Entry>;
  /** When the run that wrote the cache looked at the files. */
  readonly #hashedNs: bigint;
  readonly #scannedNs: bigint;
  readonly #next = new Map<string, Entry>();

  private constructor(file: string, dir: string, known: Map<string, Entry>, hashedNs: bigint, scannedNs: bigint) {
    this.#file = file;
    this.#dir = dir;
    this.#known = known;
    this.#hashedNs = hashedNs;
    this.#scannedNs = scannedNs;
  }

  /**
   * Opens the cache of `dir`. `scannedNs` is when this run started looking
   * at the files; call it before scanning the directory.
   */
  static async open(dir: string, scannedNs: bigint, home: string = cacheHome()): Promise<HashCache> {
    const real = await realpath(dir);
    const file = join(home, "hashes", `${createHash("sha256").update(real).digest("hex")}.json`);
    const loaded = parseCache(await readFile(file, "utf8").catch(() => null), real);
    return new HashCache(
      file,
      real,
      loaded ? new Map(Object.entries(loaded.files)) : new Map(),
      loaded ? BigInt(loaded.scannedNs) : 0n,
      scannedNs,
    );
  }

  /** The file's hash as last computed, if nothing about it has changed since. */
  get(file: LocalFile): FileHash | null {
    const entry = this.#known.get(file.path);
    if (!entry || !sameKey(entry, file.size, file.stamp)) {
      return null;
    }
    if (!this.#settled(BigInt(entry[1])) || !this.#settled(BigInt(entry[2]))) {
      return null;
    }
    const hashed = { hash: entry[5], blockDigests: entry[6] === undefined ? [] : splitDigests(entry[6]) };
    // A file of several blocks needs its block digests (for multipart uploads), and they must be its hash's.
    const blocks = Math.ceil(file.size / BLOCK_SIZE);
    if (blocks > 1 && (hashed.blockDigests.length !== blocks || hashOfDigests(hashed.blockDigests) !== hashed.hash)) {
      return null;
    }
    this.#next.set(file.path, entry);
    return hashed;
  }

  /** Whether a file time is safely before the run that hashed the file looked at it. */
  #settled(timeNs: bigint): boolean {
    return timeNs < this.#hashedNs - (timeNs % SECOND_NS === 0n ? COARSE_RACY_NS : RACY_NS);
  }

  /** Remembers a hash this run computed. */
  set(file: LocalFile, hashed: FileHash): void {
    const { mtimeNs, ctimeNs, ino, dev } = file.stamp;
    const entry: Entry = [file.size, mtimeNs, ctimeNs, ino, dev, hashed.hash];
    if (hashed.blockDigests.length > 1) {
      entry.push(Buffer.concat(hashed.blockDigests).toString("hex"));
    }
    this.#next.set(file.path, entry);
  }

  /**
   * Writes what this run knows (files no longer there are forgotten),
   * atomically: a reader sees the old cache or the new one, never half.
   */
  async save(): Promise<void> {
    const content: CacheFile = {
      format: FORMAT,
      version: VERSION,
      dir: this.#dir,
      scannedNs: `${this.#scannedNs}`,
      files: Object.fromEntries(this.#next),
    };
    await mkdir(join(this.#file, ".."), { recursive: true });
    await writeAtomically(this.#file, JSON.stringify(content));
  }
}

/** The moment to give HashCache.open, taken before the directory is scanned. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A cache file's content if it is well formed and of `dir`; null otherwise. */
export function parseCache(text: string | null, dir: string): CacheFile | null {
  if (text === null) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) {
    return null;
  }
  const cache = value as Partial<CacheFile>;
  if (
    cache.format !== FORMAT ||
    cache.version !== VERSION ||
    cache.dir !== dir ||
    typeof cache.scannedNs !== "string" ||
    !/^\d{1,30}$/.test(cache.scannedNs) ||
    typeof cache.files !== "object" ||
    cache.files === null ||
    Array.isArray(cache.files)
  ) {
    return null;
  }
  for (const entry of Object.values(cache.files)) {
    if (!isEntry(entry)) {
      return null;
    }
  }
  return cache as CacheFile;
}

function isEntry(entry: unknown): entry is Entry {
  if (!Array.isArray(entry) || (entry.length !== 6 && entry.length !== 7)) {
    return false;
  }
  const [size, mtimeNs, ctimeNs, ino, dev, hash, digests] = entry as unknown[];
  const decimal = (text: unknown): boolean => typeof text === "string" && /^\d{1,30}$/.test(text);
  return (
    typeof size === "number" &&
    Number.isSafeInteger(size) &&
    size >= 0 &&
    decimal(mtimeNs) &&
    decimal(ctimeNs) &&
    decimal(ino) &&
    decimal(dev) &&
    typeof hash === "string" &&
    isContentHash(hash) &&
    (digests === undefined || (typeof digests === "string" && digests.length % 64 === 0 && /^[0-9a-f]+$/.test(digests)))
  );
}

function sameKey(entry: Entry, size: number, stamp: FileStamp): boolean {
  return (
    entry[0] === size &&
    entry[1] === stamp.mtimeNs &&
    entry[2] === stamp.ctimeNs &&
    entry[3] === stamp.ino &&
    entry[4] === stamp.dev
  );
}

function splitDigests(hex: string): Buffer[] {
  const digests: Buffer[] = [];
  for (let offset = 0; offset < hex.length; offset += 64) {
    digests.push(Buffer.from(hex.slice(offset, offset + 64), "hex"));
  }
  return digests;
}
