/**
 * Leases on what can change: which version a pointer names, whether a
 * version still exists, what a custom domain serves. An isolate that
 * learns such a fact may act on it for `leaseMs`, timed from before the
 * Durable Object was asked (`askedAt`); every change to one (an activation,
 * a deletion) returns only after a lease has run out since it was
 * committed (see ProjectManifest#settled). So once a change returns, no
 * isolate anywhere starts a request on what it replaced.
 *
 * A lease is renewed ahead: a little before it runs out, the next request
 * serves on it and renews it in the background, so steady traffic never
 * waits; only a request that finds a lease already run out does. How far
 * ahead follows the round trip to expect (`roundTripMs`, see roundTrip()):
 * twice that and a margin, at least RENEW_AHEAD_MIN and at most RENEW_AHEAD_MAX of the
 * lease, widened by up to a third per isolate. A lease near its Durable
 * Object is thus renewed once 0.8–0.85 of it has passed (about 1.2
 * questions a lease), a far one earlier. Every
 * isolate holding a lease (the location shares them, see
 * src/storage/location.ts) derives its renewal point from the lease
 * itself, so the number of questions does not grow with the number of
 * isolates. Pure: the caller passes the time.
 */
import { Lru } from "./lru.ts";

/** The least and the most of a lease renewed ahead, as shares of it. */
export const RENEW_AHEAD_MIN = 0.15;
export const RENEW_AHEAD_MAX = 0.5;
/** Added to twice the question's round trip: the renewing request's own work (the location's cache). */
export const RENEW_MARGIN_MS = 20;
/**
 * Each isolate widens the window by up to this share of it (chosen once
 * per isolate), so that the isolates of a location holding one lease do
 * not all claim its renewal in the same millisecond.
 */
export const RENEW_SPREAD = 1 / 3;

let spread: number | null = null;

/** How much this isolate widens a renewal window, in [0, RENEW_SPREAD). */
function isolateSpread(): number {
  // Chosen on first use: randomness is not available while a Worker's global scope runs.
  spread ??= Math.random() * RENEW_SPREAD;
  return spread;
}

/** A fact, when the Durable Object was asked for it (ms since the epoch), and the round trip to expect. */
export interface Leased<V> {
  value: V;
  askedAt: number;
  roundTripMs: number;
}

/**
 * The round trip to expect when renewing a lease whose question took
 * `tookMs`: that, or most of what was expected before if more, so that one
 * quick answer does not leave the next renewal too little time.
 */
export function roundTrip(tookMs: number, before: LeaseTiming | undefined): number {
  return Math.max(tookMs, Math.floor(0.75 * (before?.roundTripMs ?? 0)));
}

/** When a lease was asked and how long that took: all that its timing depends on. */
export type LeaseTiming = Pick<Leased<unknown>, "askedAt" | "roundTripMs">;

/** How long before a lease runs out its renewal starts, at the earliest. */
export function renewAheadMs(leaseMs: number, roundTripMs: number): number {
  const wanted = 2 * Math.max(0, roundTripMs) + RENEW_MARGIN_MS;
  return Math.min(leaseMs * RENEW_AHEAD_MAX, Math.max(leaseMs * RENEW_AHEAD_MIN, wanted));
}

/**
 * The claim on renewing `lease` one isolate of a location makes for all
 * (src/storage/location.ts): it stands for the renewal window; another
 * isolate that finds it waits a round trip (and the margin) for the answer.
 */
export function claimWindow(lease: LeaseTiming, leaseMs: number): { forMs: number; waitMs: number } {
  return { forMs: renewAheadMs(leaseMs, lease.roundTripMs), waitMs: lease.roundTripMs + RENEW_MARGIN_MS };
}

/**
 * The lease on `value`, asked at `askedAt` and answered at `now`; `before`
 * is the lease it renews, if any (see roundTrip).
 */
export function answered<V>(value: V, askedAt: number, now: number, before: LeaseTiming | undefined): Leased<V> {
  return { value, askedAt, roundTripMs: roundTrip(now - askedAt, before) };
}

/** What a lease held at `now` allows: serve on it, serve on it and renew it, or nothing. */
export type Freshness = "fresh" | "renew" | "expired";

export function freshness(
  lease: LeaseTiming,
  now: number,
  leaseMs: number,
  earlierBy: number = isolateSpread(),
): Freshness {
  const age = now - lease.askedAt;
  // Clocks that go backwards end the lease too: it cannot be trusted.
  if (age >= leaseMs || age < 0) {
    return "expired";
  }
  const ahead = Math.min(leaseMs * RENEW_AHEAD_MAX, renewAheadMs(leaseMs, lease.roundTripMs) * (1 + earlierBy));
  return age >= leaseMs - ahead ? "renew" : "fresh";
}

/**
 * Whether a lease another isolate of the location shared is worth taking
 * over the one this isolate holds (or none): with none, any that has not
 * run out; else only a fresh one asked later.
 */
export function worthAdopting(
  shared: LeaseTiming,
  held: LeaseTiming | undefined,
  now: number,
  leaseMs: number,
  earlierBy: number = isolateSpread(),
): boolean {
  const state = freshness(shared, now, leaseMs, earlierBy);
  return held === undefined ? state !== "expired" : state === "fresh" && shared.askedAt > held.askedAt;
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
    if (freshness(entry, now, leaseMs) === "expired") {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Records what the manifest answered to a question.
   * An answer to an older question never replaces one to a newer.
   */
  set(key: string, lease: Leased<V>): void {
    const current = this.#entries.get(key);
    if (current && current.askedAt > lease.askedAt) {
      return;
    }
    this.#entries.set(key, lease);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
