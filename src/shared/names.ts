/**
 * Validation of the identifiers users type or send: project names, version
 * ids, content hashes and asset paths. Each check returns `null` when the
 * value is fine, or a sentence naming the problem.
 */
import { MAX_PATH_BYTES } from "./limits.ts";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CONTENT_HASH = /^[0-9a-f]{64}$/;
// Versions are named after their creation time: 20261124-082301-123.
const VERSION_ID = /^\d{8}-\d{6}-\d{3}$/;
// C0 controls, DEL and C1 controls.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** What a file is served as when its deploy names no type. */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const MAX_CONTENT_TYPE_LENGTH = 255;
// type/subtype, then parameters: RFC 9110 §8.3.1, tokens and quoted strings.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\\\\\u0000-\\u001f\\u007f]*"))*$`);

/** Checks a file's Content-Type as a deploy sends it; null when it is a valid media type. */
export function checkContentType(value: string): string | null {
  if (value.length > MAX_CONTENT_TYPE_LENGTH) {
    return `must be at most ${MAX_CONTENT_TYPE_LENGTH} characters`;
  }
  return MEDIA_TYPE.test(value) ? null : "must be a media type such as text/html; charset=utf-8";
}

/** Whether `name` is a valid project name: one DNS label. */
export function isProjectName(name: string): boolean {
  return DNS_LABEL.test(name);
}

/**
 * Whether `name` is a reserved-hyphen label (`xn--…` and the like, RFC 5891
 * §4.2.3.1): such a name is shown by browsers as another script, so that
 * `xn--pple-43d` reads as a lookalike of `apple`.
 */
export function isReservedHyphenLabel(name: string): boolean {
  return name.slice(2, 4) === "--";
}

/** Whether `value` is a content hash: 64 lowercase hex digits. */
export function isContentHash(value: string): boolean {
  return CONTENT_HASH.test(value);
}

/**
 * Whether `name` can name an alias: a DNS label (aliases get hostnames,
 * `<alias>.<project>.<root>`) that no version id could be, and not `live`.
 */
export function isAliasName(name: string): boolean {
  return DNS_LABEL.test(name) && !VERSION_ID.test(name) && name !== "live";
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Whether `hostname` could be a custom domain: a DNS name of two or more labels, not an IP address. */
export function isDomainName(hostname: string): boolean {
  return HOSTNAME.test(hostname);
}

/** Whether `value` has the shape of a version id. */
export function isVersionId(value: string): boolean {
  return VERSION_ID.test(value);
}

/**
 * Checks an asset path as stored in a manifest: absolute, normalized and
 * printable, so that no request can map to it in two ways or escape it.
 *
 * @returns `null` if the path is valid, otherwise what is wrong with it.
 */
export function checkAssetPath(path: string): string | null {
  if (!path.startsWith("/")) {
    return "must start with /";
  }
  if (path === "/" || path.endsWith("/")) {
    return "must name a file, not end with /";
  }
  if (new TextEncoder().encode(path).length > MAX_PATH_BYTES) {
    return `is longer than ${MAX_PATH_BYTES} bytes`;
  }
  if (CONTROL_CHARACTER.test(path)) {
    return "contains a NUL or control character";
  }
  if (path.includes("\\")) {
    return "contains a backslash";
  }
  for (const segment of path.slice(1).split("/")) {
    if (segment === "") {
      return "contains an empty segment (//)";
    }
    if (segment === "." || segment === "..") {
      return "contains a . or .. segment";
    }
  }
  if (!path.isWellFormed()) {
    return "is not valid Unicode";
  }
  return null;
}

/**
 * Formats `time` as a version id: UTC, millisecond precision, sortable as
 * text, and safe as a DNS label (versions get preview hostnames).
 */
export function formatVersionId(time: number): string {
  const iso = new Date(time).toISOString(); // 2026-11-24T08:23:01.123Z
  const date = iso.slice(0, 10).replaceAll("-", "");
  const clock = iso.slice(11, 19).replaceAll(":", "");
  return `${date}-${clock}-${iso.slice(20, 23)}`;
}
