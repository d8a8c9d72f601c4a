/**
 * HTTP semantics of asset responses (RFC 9110), as pure functions:
 * validators and preconditions, byte ranges, caching.
 */

/** A file's validators: its strong ETag value (unquoted) and modification time. */
export interface Validators {
  etag: string;
  lastModified: number;
}

export type PreconditionResult = "proceed" | "not-modified" | "failed";

/**
 * Evaluates conditional headers in the order RFC 9110 §13.2.2 gives:
 * If-Match, else If-Unmodified-Since; then If-None-Match, else
 * If-Modified-Since (which is ignored when If-None-Match is present).
 */
export function evaluatePreconditions(headers: Headers, { etag, lastModified }: Validators): PreconditionResult {
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (!matchesEtag(ifMatch, etag, "strong")) {
      return "failed";
    }
  } else {
    const since = parseHttpDate(headers.get("if-unmodified-since"));
    if (since !== null && wholeSeconds(lastModified) > since) {
      return "failed";
    }
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    return matchesEtag(ifNoneMatch, etag, "weak") ? "not-modified" : "proceed";
  }
  const since = parseHttpDate(headers.get("if-modified-since"));
  if (since !== null && wholeSeconds(lastModified) <= since) {
    return "not-modified";
  }
  return "proceed";
}

/**
 * Whether a list of entity tags (or `*`) matches `etag`. Weak comparison
 * ignores `W/`; strong comparison never matches a weak tag.
 */
export function matchesEtag(list: string, etag: string, comparison: "strong" | "weak"): boolean {
  if (list.trim() === "*") {
    return true;
  }
  for (const match of list.matchAll(/(W\/)?"([^"]*)"/g)) {
    const weak = match[1] !== undefined;
    if (match[2] === etag && (comparison === "weak" || !weak)) {
      return true;
    }
  }
  return false;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export type RangeRequest = { kind: "whole" } | { kind: "ranges"; ranges: ByteRange[] } | { kind: "unsatisfiable" };

/** More ranges than this in one request are answered with the whole file. */
export const MAX_RANGES = 16;

/**
 * Parses a Range header for a file of `size` bytes. A header that is not
 * valid `bytes=` syntax is ignored (the whole file is sent), as RFC 9110
 * allows; ranges that start past the end are dropped, and if none is left
 * the request is unsatisfiable. Overlapping and adjacent ranges are
 * coalesced (in ascending order), and ranges that together ask for more
 * bytes than the file has get the whole file: both defend against
 * amplification (RFC 9110 §14.2).
 */
export function parseRange(header: string | null, size: number): RangeRequest {
  if (header === null) {
    return { kind: "whole" };
  }
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match?.[1]) {
    return { kind: "whole" };
  }
  const specs = match[1]
    .split(",")
    .map((spec) => spec.trim())
    .filter((spec) => spec !== "");
  if (specs.length === 0 || specs.length > MAX_RANGES) {
    return { kind: "whole" };
  }
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const parts = /^(\d*)-(\d*)$/.exec(spec);
    if (!parts || (parts[1] === "" && parts[2] === "")) {
      return { kind: "whole" };
    }
    const [, first = "", last = ""] = parts;
    if (first === "") {
      // A suffix: the last N bytes.
      const length = Number(last);
      if (length > 0 && size > 0) {
        ranges.push({ start: Math.max(0, size - length), end: size - 1 });
      }
      continue;
    }
    const start = Number(first);
    const end = last === "" ? Number.POSITIVE_INFINITY : Number(last);
    if (end < start) {
      return { kind: "whole" };
    }
    if (start < size) {
      ranges.push({ start, end: Math.min(end, size - 1) });
    }
  }
  if (ranges.length === 0) {
    return { kind: "unsatisfiable" };
  }
  if (ranges.reduce((sum, { start, end }) => sum + end - start + 1, 0) > size) {
    return { kind: "whole" };
  }
  return { kind: "ranges", ranges: coalesce(ranges) };
}

/** `ranges` with overlapping and adjacent ones merged, in ascending order; as they are if none touch. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: ByteRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range.start <= last.end + 1) {
      last.end = Math.max(last.end, range.end);
    } else {
      merged.push({ ...range });
    }
  }
  return merged.length === ranges.length ? ranges : merged;
}

/**
 * Whether If-Range lets a Range request through: it must name the current
 * representation by strong ETag, or by exactly its Last-Modified date.
 */
export function ifRangeAllows(header: string | null, { etag, lastModified }: Validators): boolean {
  if (header === null) {
    return true;
  }
  const value = header.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    return matchesEtag(value, etag, "strong");
  }
  const date = parseHttpDate(value);
  return date !== null && date === wholeSeconds(lastModified);
}

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "public, max-age=0, must-revalidate";

/**
 * The default Cache-Control of a file, before `_headers`: immutable only
 * when its name carries a content fingerprint (fingerprint.ts).
 */
export function cacheControlFor(fingerprinted: boolean): string {
  return fingerprinted ? IMMUTABLE : REVALIDATE;
}

/** Formats epoch milliseconds as an HTTP-date. */
export function httpDate(time: number): string {
  return new Date(time).toUTCString();
}

/** Parses an HTTP-date into epoch seconds, or null. */
export function parseHttpDate(value: string | null): number | null {
  if (value === null) {
    return null;
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : Math.floor(time / 1000);
}

function wholeSeconds(time: number): number {
  return Math.floor(time / 1000);
}

/** Names the version a response was served from. */
export const VERSION_HEADER = "x-r2-assets-version";

/** Says whether the routing answer came from the serving isolate's cache (`hit`) or the manifest (`miss`). */
export const CACHE_HEADER = "x-r2-assets-cache";
