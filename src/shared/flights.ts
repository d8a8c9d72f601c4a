/**
 * Questions under way in this isolate, by key, so that a burst of requests
 * asks once. A request that joins another's question does not await that
 * request's promise: workerd would resume it in the asking request's
 * context, and a response body it then made would belong to that request
 * (reading it fails with "Cannot perform I/O on behalf of a different
 * request"). It waits on timers of its own instead (a timer resumes the
 * request that set it), and reads the answer once it is settled.
 */

/** How often a request that joined a question looks whether it is answered, ms. */
const POLL_MS = 1;

interface Flight<T> {
  promise: Promise<T>;
  settled: boolean;
}

export class Flights<T> {
  readonly #pending = new Map<string, Flight<T>>();

  /** Whether a question on `key` is under way (a renewal armed is one: joining it would poll until it is due). */
  has(key: string): boolean {
    return this.#pending.has(key);
  }

  /** The answer to `key`: asked now with `ask`, or that of the question already under way. */
  async run(key: string, ask: () => Promise<T>): Promise<T> {
    const joined = this.#pending.get(key);
    if (joined) {
      while (!joined.settled) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return joined.promise;
    }
    const flight: Flight<T> = { promise: Promise.resolve(undefined as T), settled: false };
    flight.promise = ask().finally(() => {
      flight.settled = true;
      this.#pending.delete(key);
    });
    this.#pending.set(key, flight);
    return flight.promise;
  }
}
