/**
 * Leases on what can change: which version a pointer names, whether a
 * version still exists. An isolate that learns such a fact may act on it
 * for `leaseMs`, timed from before it asked; every change to one (an
 * activation, a deletion) returns only after a lease has run out since it
 * was committed. So once a change returns, no isolate anywhere starts a
 * request on what it replaced. Pure: the caller passes the time.
 */
import { Lru } from "./lru.ts";

interface Leased<V> {
  value: V;
  askedAt: number;
}

export class LeaseCache<V> {
  readonly #entries: Lru<Leased<V>>;

  constructor(maxEntries: number) {
    this.#entries = new Lru({ maxEntries });
  }

  /** The value for `key` if its lease has not run out at `now`. */
  get(key: string, now: number, leaseMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      return undefined;
    }
    // Clocks that go backwards end the lease too: it cannot be trusted.
    if (now - entry.askedAt >= leaseMs || now < entry.askedAt) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
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
