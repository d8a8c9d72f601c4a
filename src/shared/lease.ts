/**
 * Leases on what can change: which version a pointer names, whether a
 * version still exists, what a custom domain serves. An isolate that
 * learns such a fact may act on it for `leaseMs`, timed from before the
 * Durable Object was asked (`askedAt`); every change to one (an activation,
 * a deletion) returns only after a lease has run out since it was
 * committed (see ProjectManifest#settled). So once a change returns, no
 * isolate anywhere starts a request on what it replaced.
 *
 * A lease is renewed ahead: once RENEW_AFTER of it has passed, the next
 * request serves on it and renews it in the background, so steady traffic
 * never waits; only a request that finds a lease already run out does.
 * Pure: the caller passes the time.
 */
import { Lru } from "./lru.ts";

/**
 * The share of a lease after which it is renewed in the background: at
 * least RENEW_AFTER, plus up to RENEW_SPREAD chosen once per isolate, so
 * that the isolates of a location do not all renew at once and most take
 * the renewal one of them shared (see src/storage/location.ts).
 */
export const RENEW_AFTER = 0.5;
export const RENEW_SPREAD = 0.25;

let spread: number | null = null;

/** This isolate's renewal point, as a share of the lease. */
function renewAfter(): number {
  // Chosen on first use: randomness is not available while a Worker's global scope runs.
  spread ??= Math.random() * RENEW_SPREAD;
  return RENEW_AFTER + spread;
}

/** A fact and when the Durable Object was asked for it (ms since the epoch). */
export interface Leased<V> {
  value: V;
  askedAt: number;
}

/** What a lease held at `now` allows: serve on it, serve on it and renew it, or nothing. */
export type Freshness = "fresh" | "renew" | "expired";

export function freshness(askedAt: number, now: number, leaseMs: number, renewAt: number = renewAfter()): Freshness {
  const age = now - askedAt;
  // Clocks that go backwards end the lease too: it cannot be trusted.
  if (age >= leaseMs || age < 0) {
    return "expired";
  }
  return age >= leaseMs * renewAt ? "renew" : "fresh";
}

/**
 * Whether a lease another isolate of the location shared is worth taking
 * over the one this isolate holds (asked at `heldAskedAt`, or none): with
 * none, any that has not run out; else only a fresh one asked later.
 */
export function worthAdopting(
  sharedAskedAt: number,
  heldAskedAt: number | undefined,
  now: number,
  leaseMs: number,
): boolean {
  const state = freshness(sharedAskedAt, now, leaseMs);
  return heldAskedAt === undefined ? state !== "expired" : state === "fresh" && sharedAskedAt > heldAskedAt;
}

export class LeaseCache<V> {
  readonly #entries: Lru<Leased<V>>;

  constructor(maxEntries: number) {
    this.#entries = new Lru({ maxEntries });
  }

  /** The lease on `key` unless it has run out at `now` (run-out leases are dropped). */
  peek(key: string, now: number, leaseMs: number): Leased<V> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      return undefined;
    }
    if (freshness(entry.askedAt, now, leaseMs) === "expired") {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Records what the manifest answered to a question asked at `askedAt`.
   * An answer to an older question never replaces one to a newer.
   */
  set(key: string, value: V, askedAt: number): void {
    const current = this.#entries.get(key);
    if (current && current.askedAt > askedAt) {
      return;
    }
    this.#entries.set(key, { value, askedAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
