/**
 * A finalized version's manifest as the edge reads it: immutable pages of
 * fixed-size entries sorted by a hash of the path, binary-searched where
 * they are loaded, so that a path an isolate has never served costs no
 * Durable Object call (the Durable Object writes the pages once, when the
 * version is finalized; see src/manifest/snapshots.ts). A version's files
 * are split into 2^bits pages by the top bits of their path hash, so that
 * an isolate loads only the pages the paths it serves fall in.
 *
 * Page layout (little-endian):
 *   "R2AM" | u32 format | u32 entry count | u32 header length | header (JSON: content types, packs)
 *   | padding to 8 | entries (ENTRY_BYTES each, sorted by path hash) | paths (UTF-8)
 * Entry: f64 path hash | 32 bytes content hash | f64 size | f64 stored at (ms)
 *   | f64 pack offset (-1: an object of its own) | u32 pack (index into the header's packs)
 *   | u16 content type (index) | u16 path length | u32 path offset | u32 unused
 * Each entry carries its full path, compared before an answer is given, so
 * that two paths with the same hash can never be confused. Pure.
 */
import { toHex } from "./blocks.ts";

/** A file of a version: what a path resolves to (FileRef in the manifest's contract). */
export interface SnapshotFile {
  path: string;
  hash: string;
  size: number;
  contentType: string;
  /** When the blob was stored (epoch ms): the file's Last-Modified. */
  storedAt: number;
  /** The pack the blob is stored in, and where in it; null when it is an R2 object of its own. */
  pack: string | null;
  offset: number | null;
}

const MAGIC = 0x4d413252; // "R2AM"
const FORMAT = 1;
export const ENTRY_BYTES = 80;
const FIXED_HEADER = 16;

/** Entries a page holds at most, by design (a version's page count is chosen from it). */
export const PAGE_ENTRIES = 2048;

/** Hashes of paths are whole numbers below 2^52 (exact as JavaScript numbers and SQLite integers). */
const HASH_BITS = 52;

/**
 * A hash of a path, the same in every isolate and in the Durable Object:
 * two 32-bit FNV-1a lanes over its UTF-16 code units, mixed, kept to 52 bits.
 * A precompressed variant's path (`br:/app.js`, src/rules/encoding.ts) hashes
 * as its file's, so that it sits beside it in the same page.
 */
export function pathHash(manifestPath: string): number {
  const path = manifestPath.startsWith("/") ? manifestPath : manifestPath.slice(manifestPath.indexOf(":") + 1);
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < path.length; i += 1) {
    const code = path.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x85ebca6b) >>> 0;
    b = (b ^ (b >>> 13)) >>> 0;
  }
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d) >>> 0;
  b = Math.imul(b ^ (b >>> 15), 0x846ca68b) >>> 0;
  return (a >>> 12) * 2 ** 32 + ((b ^ a) >>> 0);
}

/** How many pages (as 2^bits) a version of `files` files is split into. */
export function pageBitsFor(files: number): number {
  let bits = 0;
  while (files > PAGE_ENTRIES * 2 ** bits) {
    bits += 1;
  }
  return bits;
}

/** The page a path hash falls in. */
export function pageOf(hash: number, bits: number): number {
  return bits === 0 ? 0 : Math.floor(hash / 2 ** (HASH_BITS - bits));
}

/** The range of path hashes page `page` holds: [from, to). */
export function pageRange(page: number, bits: number): { from: number; to: number } {
  const width = 2 ** (HASH_BITS - bits);
  return { from: page * width, to: (page + 1) * width };
}

/**
 * Encodes one page from its files, in any order. `hashOf` is pathHash but
 * in tests, which make paths collide on purpose.
 */
export function encodePage(files: readonly SnapshotFile[], hashOf: (path: string) => number = pathHash): Uint8Array {
  const sorted = files.map((file) => ({ file, hash: hashOf(file.path) })).sort((x, y) => x.hash - y.hash);
  const types: string[] = [];
  const packs: string[] = [];
  const indexOf = (list: string[], value: string): number => {
    const at = list.indexOf(value);
    return at === -1 ? list.push(value) - 1 : at;
  };
  const encoder = new TextEncoder();
  const paths = sorted.map(({ file }) => encoder.encode(file.path));
  const typeIndex = sorted.map(({ file }) => indexOf(types, file.contentType));
  const packIndex = sorted.map(({ file }) => (file.pack === null ? 0xffffffff : indexOf(packs, file.pack)));
  const header = encoder.encode(JSON.stringify({ types, packs }));
  const entriesAt = align8(FIXED_HEADER + header.length);
  const pathsAt = entriesAt + sorted.length * ENTRY_BYTES;
  const bytes = new Uint8Array(pathsAt + paths.reduce((sum, path) => sum + path.length, 0));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT, true);
  view.setUint32(8, sorted.length, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, FIXED_HEADER);
  let pathOffset = 0;
  for (const [i, { file, hash }] of sorted.entries()) {
    const at = entriesAt + i * ENTRY_BYTES;
    const path = paths[i] as Uint8Array;
    view.setFloat64(at, hash, true);
    writeHex(file.hash, bytes, at + 8);
    view.setFloat64(at + 40, file.size, true);
    view.setFloat64(at + 48, file.storedAt, true);
    view.setFloat64(at + 56, file.offset ?? -1, true);
    view.setUint32(at + 64, packIndex[i] ?? 0xffffffff, true);
    view.setUint16(at + 68, typeIndex[i] ?? 0, true);
    view.setUint16(at + 70, path.length, true);
    view.setUint32(at + 72, pathOffset, true);
    bytes.set(path, pathsAt + pathOffset);
    pathOffset += path.length;
  }
  return bytes;
}

/** A decoded page: search it for a path. */
export interface SnapshotPage {
  /** The file at `path`, or null if the page holds none. */
  find(path: string): SnapshotFile | null;
  readonly count: number;
  readonly byteLength: number;
}

/** Reads a page (built with the same `hashOf`); throws if the bytes are not one. */
export function decodePage(bytes: Uint8Array, hashOf: (path: string) => number = pathHash): SnapshotPage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < FIXED_HEADER || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== FORMAT) {
    throw new Error("not a manifest snapshot page");
  }
  const count = view.getUint32(8, true);
  const headerLength = view.getUint32(12, true);
  const { types, packs } = JSON.parse(
    new TextDecoder().decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + headerLength)),
  ) as { types: string[]; packs: string[] };
  const entriesAt = align8(FIXED_HEADER + headerLength);
  const pathsAt = entriesAt + count * ENTRY_BYTES;
  if (bytes.byteLength < pathsAt) {
    throw new Error("a manifest snapshot page is cut short");
  }
  const hashAt = (i: number): number => view.getFloat64(entriesAt + i * ENTRY_BYTES, true);
  const decoder = new TextDecoder();
  const read = (i: number): SnapshotFile => {
    const at = entriesAt + i * ENTRY_BYTES;
    const pack = view.getUint32(at + 64, true);
    const offset = view.getFloat64(at + 56, true);
    const length = view.getUint16(at + 70, true);
    const pathOffset = view.getUint32(at + 72, true);
    return {
      path: decoder.decode(bytes.subarray(pathsAt + pathOffset, pathsAt + pathOffset + length)),
      hash: toHex(bytes.subarray(at + 8, at + 40)),
      size: view.getFloat64(at + 40, true),
      storedAt: view.getFloat64(at + 48, true),
      pack: pack === 0xffffffff ? null : (packs[pack] ?? null),
      offset: offset < 0 ? null : offset,
      contentType: types[view.getUint16(at + 68, true)] ?? "application/octet-stream",
    };
  };
  return {
    count,
    byteLength: bytes.byteLength,
    find(path) {
      const target = hashOf(path);
      let low = 0;
      let high = count;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (hashAt(mid) < target) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      // Paths that share a hash sit next to each other; the full path decides.
      for (let i = low; i < count && hashAt(i) === target; i += 1) {
        const file = read(i);
        if (file.path === path) {
          return file;
        }
      }
      return null;
    },
  };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/**
 * Writes the 32 bytes a content hash (64 lowercase hex digits, as the API
 * checks them) spells into `into` at `at`, by character code: parsing each
 * pair as a number was a tenth of finalizing a version of 20,000 rows.
 */
function writeHex(hex: string, into: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i += 1) {
    into[at + i] = (hexDigit(hex.charCodeAt(i * 2)) << 4) | hexDigit(hex.charCodeAt(i * 2 + 1));
  }
}

/** The value of a lowercase hex digit's character code. */
const hexDigit = (code: number): number => (code <= 57 ? code - 48 : code - 87);
