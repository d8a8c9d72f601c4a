/**
 * A least-recently-used cache bounded by entries and by bytes. Pure; the
 * serving Worker keeps its per-isolate caches in these.
 */
export interface LruOptions<V> {
  maxEntries: number;
  /** Unbounded when omitted. */
  maxBytes?: number;
  /** The bytes an entry holds (an estimate is enough). */
  sizeOf?: (value: V, key: string) => number;
}

export class Lru<V> {
  // A Map iterates in insertion order: the first key is the least recently used.
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: (value: V, key: string) => number;
  #bytes = 0;

  constructor({ maxEntries, maxBytes = Number.POSITIVE_INFINITY, sizeOf = () => 0 }: LruOptions<V>) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#sizeOf = sizeOf;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, evicting the least recently used entries to stay in bounds. One larger than the bound is not kept. */
  set(key: string, value: V): void {
    this.delete(key);
    const bytes = this.#sizeOf(value, key);
    if (bytes > this.#maxBytes || this.#maxEntries === 0) {
      return;
    }
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) {
        break;
      }
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }
}
