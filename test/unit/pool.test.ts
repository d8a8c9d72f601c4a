import { describe, expect, it } from "vitest";
import { Limiter, mapLimit } from "../../src/shared/pool.ts";

/** A promise settled from outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe("Limiter", () => {
  it("runs at most its limit at once, in the order tasks were queued, including tasks queued by tasks", async () => {
    const limiter = new Limiter(2);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const task = (n: number) => async (): Promise<number> => {
      started.push(n);
      running += 1;
      most = Math.max(most, running);
      await (gates[n] as { promise: Promise<void> }).promise;
      running -= 1;
      return n;
    };
    const results = [0, 1, 2, 3].map((n) => limiter.run(task(n)));
    // A task that queues another while it runs.
    const nested = limiter.run(async () => {
      started.push(9);
      return limiter.run(task(4));
    });
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    for (const gate of gates) {
      gate.resolve();
    }
    expect(await Promise.all([...results, nested])).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 9, 4]);
    expect(most).toBe(2);
  });

  it("frees the slot of a task that fails", async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limiter.run(async () => "next")).toBe("next");
  });
});

describe("mapLimit", () => {
  it("keeps the order of its items", async () => {
    const delays = [30, 0, 10, 0];
    const out = await mapLimit(delays, 2, async (delay, index) => {
      await new Promise((resolve) => setTimeout(resolve, delay));
      return index;
    });
    expect(out).toEqual([0, 1, 2, 3]);
  });
});
