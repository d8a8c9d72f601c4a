/**
 * Leased facts shared by the isolates of one location through the Cache
 * API, so that a location asks a Durable Object about once a lease however
 * many isolates it runs. An entry carries the time its Durable Object was
 * asked, and is trusted only until that time plus a lease, exactly as if
 * this isolate had asked (see lease.ts): the Cache API's weak consistency
 * and eviction cost at most an extra question, never a request served on
 * what a change replaced. The URLs are under a domain no visitor can reach.
 */
import type { Leased } from "../shared/lease.ts";

const ORIGIN = "https://leases.r2-assets.invalid";

function urlOf(key: string): string {
  return `${ORIGIN}/${encodeURIComponent(key)}`;
}

/** What the location holds for `key`, or null (a failing Cache API counts as empty). */
export async function readShared<V>(key: string): Promise<Leased<V> | null> {
  const response = await caches.default.match(urlOf(key)).catch(() => undefined);
  if (!response) {
    return null;
  }
  const entry = (await response.json().catch(() => null)) as Leased<V> | null;
  return entry && typeof entry.askedAt === "number" ? entry : null;
}

/** Shares what this isolate learned, for at most a lease. */
export async function writeShared<V>(key: string, entry: Leased<V>, leaseMs: number): Promise<void> {
  const seconds = Math.max(1, Math.ceil(leaseMs / 1000));
  const response = Response.json(entry, { headers: { "cache-control": `max-age=${seconds}` } });
  await caches.default.put(urlOf(key), response).catch(() => undefined);
}

/** Immutable bytes shared by the location (a host filter at one stamp), or null. */
export async function readSharedBytes(key: string): Promise<{ bytes: Uint8Array; meta: string } | null> {
  const response = await caches.default.match(urlOf(key)).catch(() => undefined);
  if (!response) {
    return null;
  }
  const bytes = await response.arrayBuffer().catch(() => null);
  return bytes ? { bytes: new Uint8Array(bytes), meta: response.headers.get("x-meta") ?? "" } : null;
}

/** Shares immutable bytes for an hour; `meta` travels with them. */
export async function writeSharedBytes(key: string, bytes: Uint8Array, meta: string): Promise<void> {
  const response = new Response(bytes.slice(), { headers: { "cache-control": "max-age=3600", "x-meta": meta } });
  await caches.default.put(urlOf(key), response).catch(() => undefined);
}
