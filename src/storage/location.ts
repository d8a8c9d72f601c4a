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
  // Entries shared before round trips and graces were kept have neither.
  const entry = (await response.json().catch(() => null)) as Partial<Leased<V>> | null;
  return entry && typeof entry.askedAt === "number"
    ? ({ ...entry, roundTripMs: entry.roundTripMs ?? 0, graceMs: entry.graceMs ?? 0 } as Leased<V>)
    : null;
}

/** Shares what this isolate learned, for at most `forMs` (its lease and grace). */
export async function writeShared<V>(key: string, entry: Leased<V>, forMs: number): Promise<void> {
  const seconds = Math.max(1, Math.ceil(forMs / 1000));
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

/** How long a claim is left to settle before it is read back: two isolates that claimed at once both see the one that stayed. */
const CLAIM_SETTLE_MS = 10;
/**
 * Each isolate looks for a claim this much later than the lease's end at
 * most (a share of it chosen once per isolate), so that the isolates of a
 * location, whose renewals fall due in the same millisecond, mostly find
 * the first one's claim rather than all claiming at once.
 */
const CLAIM_STAGGER_MS = 10;

let isolateId: string | null = null;
let stagger: number | null = null;

/**
 * Claims the next renewal of `key` for this isolate, unless another isolate
 * of the location claimed it less than `forMs` ago: so that the isolates of
 * a location, renewing at the same lease's end, send one question
 * between them. Each looks a moment apart (CLAIM_STAGGER_MS); a claim is
 * written, then read back a moment later: of isolates that claimed at
 * once, only the one whose claim stayed asks.
 * Best effort (the Cache API has no compare-and-set): two may still both
 * ask, and a lost claim only costs a question; an isolate that does not
 * claim keeps serving on its lease and takes the shared answer.
 */
async function claimRenewal(key: string, forMs: number): Promise<{ won: true } | { won: false; claimedAt: number }> {
  const claim = `${key}:renewing`;
  // Chosen on first use: randomness is not available while a Worker's global scope runs.
  stagger ??= Math.random() * CLAIM_STAGGER_MS;
  await scheduler.wait(stagger);
  const held = await readShared<string | null>(claim);
  const now = Date.now();
  if (held && now >= held.askedAt && now - held.askedAt < forMs) {
    return { won: false, claimedAt: held.askedAt };
  }
  isolateId ??= crypto.randomUUID();
  await writeShared(claim, { value: isolateId, askedAt: now, roundTripMs: 0, graceMs: 0 }, forMs);
  await scheduler.wait(CLAIM_SETTLE_MS);
  const stayed = await readShared<string | null>(claim);
  // Nothing read back (evicted, or a store that lost it) counts as won: a question too many at worst.
  return stayed === null || stayed.value === isolateId ? { won: true } : { won: false, claimedAt: stayed.askedAt };
}

/**
 * At a lease's end, one isolate of the location renews it for all of
 * them: true if this isolate claimed the renewal of `key` (it asks), its
 * claim standing for `forMs`; false once the answer of the isolate that
 * did is due (`waitMs`, a round trip, after its claim), after which the
 * caller takes that answer from the location, or keeps what it holds. See
 * claimWindow in lease.ts.
 */
export async function claimOrWaitRenewal(key: string, window: { forMs: number; waitMs: number }): Promise<boolean> {
  const claim = await claimRenewal(key, window.forMs);
  if (claim.won) {
    return true;
  }
  await scheduler.wait(Math.max(0, claim.claimedAt + window.waitMs - Date.now()));
  return false;
}
