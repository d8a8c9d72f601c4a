/**
 * Manifest snapshots (#21): the pages a version's files are read from at
 * the edge, built, split and searched without any I/O.
 */
import { describe, it } from "vitest";
import {
  decodePage,
  encodePage,
  PAGE_ENTRIES,
  pageBitsFor,
  pageOf,
  pageRange,
  pathHash,
  type SnapshotFile,
} from "../../src/shared/snapshot.ts";

function file(path: string, n: number): SnapshotFile {
  return {
    path,
    hash: n.toString(16).padStart(64, "0"),
    size: n * 1000 + 1,
    contentType: n % 2 === 0 ? "text/html; charset=utf-8" : "image/png",
    storedAt: 1_700_000_000_000 + n,
    pack: n % 3 === 0 ? null : `pack-${n % 5}`,
    offset: n % 3 === 0 ? null : n * 17,
  };
}

describe("manifest snapshot pages", () => {
  it("find every file they hold, exactly, and nothing else", ({ expect }) => {
    const files = Array.from({ length: 3000 }, (_, n) => file(`/dir-${n % 37}/file ${n}.html`, n));
    const page = decodePage(encodePage(files));
    expect(page.count).toBe(3000);
    for (const expected of files) {
      expect(page.find(expected.path)).toEqual(expected);
    }
    for (const path of ["/", "/nope", "/dir-1/file 1.htm", "/DIR-1/file 1.html"]) {
      expect(page.find(path)).toBeNull();
    }
  });

  it("keep paths that share a hash apart by the full path", ({ expect }) => {
    const collide = (): number => 42;
    const files = [file("/a", 1), file("/b", 2), file("/c", 3)];
    const page = decodePage(encodePage(files, collide), collide);
    expect(page.find("/b")).toEqual(files[1]);
    expect(page.find("/c")).toEqual(files[2]);
    expect(page.find("/d")).toBeNull();
  });

  it("hold a version with no files, and non-ASCII paths", ({ expect }) => {
    expect(decodePage(encodePage([])).find("/")).toBeNull();
    const accented = file("/café/naïve 日本.html", 7);
    expect(decodePage(encodePage([accented])).find(accented.path)).toEqual(accented);
  });

  it("refuse bytes that are not a page", ({ expect }) => {
    expect(() => decodePage(new Uint8Array(40))).toThrow(/not a manifest snapshot page/);
  });

  it("split a version into pages by path hash: 1 page up to PAGE_ENTRIES files, 512 for 1,000,000", ({ expect }) => {
    expect(pageBitsFor(0)).toBe(0);
    expect(pageBitsFor(PAGE_ENTRIES)).toBe(0);
    expect(pageBitsFor(PAGE_ENTRIES + 1)).toBe(1);
    const bits = pageBitsFor(1_000_000);
    expect(2 ** bits).toBe(512);
    // Every hash falls in exactly the page whose range holds it, and pages are about even.
    const counts = Array.from({ length: 2 ** bits }, () => 0);
    for (let n = 0; n < 1_000_000; n += 1) {
      const hash = pathHash(`/assets/chunk-${n}.js`);
      const page = pageOf(hash, bits);
      const { from, to } = pageRange(page, bits);
      if (hash < from || hash >= to) {
        throw new Error(`hash ${hash} is outside page ${page}`);
      }
      counts[page] = (counts[page] ?? 0) + 1;
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(PAGE_ENTRIES * 1.25);
    expect(Math.min(...counts)).toBeGreaterThan(PAGE_ENTRIES * 0.75);
  });

  it("take about ENTRY_BYTES plus the path per file", ({ expect }) => {
    const files = Array.from({ length: PAGE_ENTRIES }, (_, n) => file(`/assets/chunk-${n}.js`, n));
    const bytes = encodePage(files).byteLength;
    const perFile = bytes / PAGE_ENTRIES;
    expect(perFile).toBeLessThan(80 + 25);
  });
});
