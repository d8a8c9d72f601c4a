/**
 * Leases on what can change: which version a pointer names, whether a
 * version still exists, what a custom domain serves. An isolate that
 * learns such a fact may act on it for a lease (`leaseMs`) and a grace
 * (`graceMs`), timed from before the Durable Object was asked (`askedAt`).
 * The question names the grace, and the Durable Object that answers keeps
 * the latest time any answer of its may still be trusted (TrustHorizon):
 * a change it commits (an activation, a deletion) returns only once that
 * time has passed. So once a change returns, no isolate anywhere starts a
 * request on what it replaced.
 *
 * A lease is renewed at its end, in the background: the first request in
 * its second half arms a renewal that asks the Durable Object exactly when
 * the lease runs (`renewAt`), while requests go on serving in the grace;
 * so a location asks at most once a lease, and steady traffic never
 * waits. The grace covers the renewal: twice what it takes from when it
 * falls due (see graceAsked) and a margin, at least GRACE_MIN and at most
 * GRACE_MAX of the lease; a first question gets the most. Every isolate holding a lease (the location
 * shares them, see src/storage/location.ts) derives its renewal from the
 * lease itself, so the number of questions does not grow with the number
 * of isolates. Pure but for dueForRenewal: the caller passes the time.
 */
import { Lru } from "./lru.ts";

/** The least and the most grace a lease gets, as shares of it. */
export const GRACE_MIN = 0.05;
export const GRACE_MAX = 0.5;
/** The longest any answer may be trusted after it was given: a lease and the most grace. */
export function longestTrustMs(leaseMs: number): number {
  return leaseMs * (1 + GRACE_MAX);
}

/** Added to twice the question's round trip: the renewing request's own work (the location's cache). */
export const RENEW_MARGIN_MS = 20;
/** Once this share of a lease has passed, a request arms its renewal at the lease's end. */
export const ARM_AT = 0.5;

/**
 * A fact, when the Durable Object was asked for it (ms since the epoch),
 * how long that took (from when it was due, see answered()), and its grace.
 */
export interface Leased<V> {
  value: V;
  askedAt: number;
  roundTripMs: number;
  graceMs: number;
}

/** When a lease was asked, how long that took, and its grace: all that its timing depends on. */
export type LeaseTiming = Pick<Leased<unknown>, "askedAt" | "roundTripMs" | "graceMs">;

/**
 * The round trip to expect when renewing a lease whose question took
 * `tookMs`: that, or most of what was expected before if more, so that one
 * quick answer does not leave the next renewal too little time.
 */
export function roundTrip(tookMs: number, before: LeaseTiming | undefined): number {
  return Math.max(tookMs, Math.floor(0.75 * (before?.roundTripMs ?? 0)));
}

/** The grace a question asks for, when the last one took `roundTripMs`: what its renewal needs, within bounds. */
export function graceFor(leaseMs: number, roundTripMs: number): number {
  const wanted = 2 * Math.max(0, roundTripMs) + RENEW_MARGIN_MS;
  return Math.min(leaseMs * GRACE_MAX, Math.max(leaseMs * GRACE_MIN, wanted));
}

/**
 * The grace to ask for when renewing `held`, whose renewal has taken
 * `tookSoFarMs` since it fell due (the next one will take about as long,
 * and the Durable Object's answer is the quick part); asking for the first
 * time, the most: how long the renewal will take is not known yet (it claims the
 * renewal in the location, which a first question does not, and under load
 * that alone took ~100 ms here).
 */
export function graceAsked(held: LeaseTiming | undefined, leaseMs: number, tookSoFarMs = 0): number {
  return held === undefined ? leaseMs * GRACE_MAX : graceFor(leaseMs, Math.max(held.roundTripMs, tookSoFarMs));
}

/**
 * When a lease's renewal asks its Durable Object: when the lease (without
 * its grace) runs; earlier only if the grace would not cover the round
 * trip the question took (a renewal that took longer than the grace it
 * asked for).
 */
export function renewAt(lease: LeaseTiming, leaseMs: number): number {
  const short = lease.roundTripMs + RENEW_MARGIN_MS - lease.graceMs;
  return lease.askedAt + leaseMs - Math.max(0, short);
}

/**
 * Waits until the renewal of `armed`, a lease held when its renewal was
 * armed, is due (renewAt); returns when it was due. With none (a lease run
 * out, or never held), at once. The one part of this module that waits.
 */
export async function dueForRenewal(armed: LeaseTiming | undefined, leaseMs: number): Promise<number> {
  if (armed === undefined) {
    return Date.now();
  }
  const dueAt = renewAt(armed, leaseMs);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now())));
  return dueAt;
}

/** Whether the lease held now was renewed since `armed` was (another request waited for it, or the location had it). */
export function renewedSince(armed: LeaseTiming | undefined, held: LeaseTiming | undefined): boolean {
  return armed !== undefined && held !== undefined && held.askedAt > armed.askedAt;
}

/**
 * The claim on renewing `lease` one isolate of a location makes for all
 * (src/storage/location.ts): it stands for the grace; another isolate that
 * finds it waits a round trip (and the margin) for the answer.
 */
export function claimWindow(lease: LeaseTiming): { forMs: number; waitMs: number } {
  return { forMs: lease.graceMs, waitMs: lease.roundTripMs + RENEW_MARGIN_MS };
}

/**
 * The lease on `value`, asked at `askedAt` with `graceMs` and answered at
 * `now`; `before` is the lease it renews, if any (see roundTrip). Its
 * round trip is counted from when the renewal was due (`dueAt`), so that
 * what delays a renewal besides the Durable Object (a timer that fires
 * late in a busy isolate, the location's claim) widens the next grace too.
 */
export function answered<V>(
  value: V,
  askedAt: number,
  graceMs: number,
  now: number,
  before: LeaseTiming | undefined,
  dueAt: number = askedAt,
): Leased<V> {
  return { value, askedAt, graceMs, roundTripMs: roundTrip(now - Math.min(dueAt, askedAt), before) };
}

/** What a lease held at `now` allows: serve on it, serve on it and arm its renewal, or nothing. */
export type Freshness = "fresh" | "renew" | "expired";

export function freshness(lease: LeaseTiming, now: number, leaseMs: number): Freshness {
  const age = now - lease.askedAt;
  // Clocks that go backwards end the lease too: it cannot be trusted.
  if (age >= leaseMs + lease.graceMs || age < 0) {
    return "expired";
  }
  return age >= leaseMs * ARM_AT ? "renew" : "fresh";
}

/**
 * Whether a lease another isolate of the location shared is worth taking
 * over the one this isolate holds (or none): one that has not run out,
 * asked later than the one held.
 */
export function worthAdopting(
  shared: LeaseTiming,
  held: LeaseTiming | undefined,
  now: number,
  leaseMs: number,
): boolean {
  return freshness(shared, now, leaseMs) !== "expired" && (held === undefined || shared.askedAt > held.askedAt);
}

/**
 * What a Durable Object that answers leased questions keeps: the latest
 * time an answer it gave may still be trusted. A change it commits returns
 * once that time has passed (waitMs). A new instance cannot know what the
 * one before it answered, so it starts as if it had just granted the most
 * any question can get.
 */
export class TrustHorizon {
  #until: number;

  constructor(now: number, leaseMs: number) {
    this.#until = now + longestTrustMs(leaseMs);
  }

  /** Records an answer given at `now` to a question that asked for `graceMs` (at most GRACE_MAX of the lease). */
  grant(now: number, leaseMs: number, graceMs: number): void {
    const grace = Number.isFinite(graceMs) ? Math.min(Math.max(0, graceMs), leaseMs * GRACE_MAX) : leaseMs * GRACE_MAX;
    this.#until = Math.max(this.#until, now + leaseMs + grace);
  }

  /** How long a change committed at `now` waits before it returns. */
  waitMs(now: number): number {
    return Math.max(0, this.#until - now);
  }
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
