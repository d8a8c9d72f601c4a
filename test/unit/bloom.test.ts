/**
 * The filter of hosts every serving isolate holds (#20): never a false
 * negative, few false positives, small at 100,000 projects.
 */
import { describe, it } from "vitest";
import { buildBloom, FALSE_POSITIVE_RATE, mayContain } from "../../src/shared/bloom.ts";

describe("the host filter", () => {
  it("never says absent of a name it holds, and rarely says perhaps of one it does not", ({ expect }) => {
    const names = Array.from({ length: 20_000 }, (_, i) => `project-${i.toString(36)}`);
    const filter = buildBloom(names);
    expect(names.filter((name) => !mayContain(filter, name))).toEqual([]);
    const strangers = Array.from({ length: 20_000 }, (_, i) => `stranger-${i}`);
    const falsePositives = strangers.filter((name) => mayContain(filter, name)).length;
    expect(falsePositives / strangers.length).toBeLessThan(FALSE_POSITIVE_RATE * 4);
  });

  it("holds 100,000 project names and domains in at most 256 KiB", ({ expect }) => {
    const names = Array.from({ length: 100_000 }, (_, i) => (i % 10 === 0 ? `www.site-${i}.example.com` : `p${i}`));
    const filter = buildBloom(names);
    expect(filter.bits.byteLength).toBeLessThanOrEqual(256 * 1024);
    expect(names.every((name) => mayContain(filter, name))).toBe(true);
  });

  it("is empty but usable with no names", ({ expect }) => {
    const filter = buildBloom([]);
    expect(mayContain(filter, "anything")).toBe(false);
  });
});
