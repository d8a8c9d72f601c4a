import { describe, it } from "vitest";
import { checkAssetPath, formatVersionId, isContentHash, isProjectName, isVersionId } from "../../src/shared/names.ts";

describe("project names", () => {
  it("are DNS labels", ({ expect }) => {
    for (const ok of ["a", "blog", "my-site-2", "0", "a".repeat(63)]) {
      expect(isProjectName(ok), ok).toBe(true);
    }
    for (const bad of ["", "-a", "a-", "A", "a_b", "a.b", "a".repeat(64), "é"]) {
      expect(isProjectName(bad), bad).toBe(false);
    }
  });
});

describe("asset paths", () => {
  it("accepts normalized absolute paths", ({ expect }) => {
    for (const ok of [
      "/a",
      "/index.html",
      "/a/b/c.txt",
      "/dir with space/ü.png",
      "/.well-known/x",
      "/a..b",
      `/${"x".repeat(1023)}`,
    ]) {
      expect(checkAssetPath(ok), ok).toBeNull();
    }
  });
  it("names what is wrong with the rest", ({ expect }) => {
    const cases: [string, RegExp][] = [
      ["a", /start with \//],
      ["/", /name a file/],
      ["/dir/", /name a file/],
      ["/a//b", /empty segment/],
      ["/a/./b", /\. or \.\. segment/],
      ["/../etc/passwd", /\. or \.\. segment/],
      ["/a/..", /\. or \.\. segment/],
      ["/a\u0000", /control/],
      ["/a\tb", /control/],
      ["/a\u007f", /control/],
      ["/a\\b", /backslash/],
      [`/${"x".repeat(1024)}`, /1024 bytes/],
      [`/${"é".repeat(512)}`, /1024 bytes/],
      ["/\ud800", /Unicode/],
    ];
    for (const [path, problem] of cases) {
      expect(checkAssetPath(path), JSON.stringify(path)).toMatch(problem);
    }
  });
});

describe("content hashes and version ids", () => {
  it("hashes are 64 lowercase hex digits", ({ expect }) => {
    expect(isContentHash("0123456789abcdef".repeat(4))).toBe(true);
    expect(isContentHash("0123456789ABCDEF".repeat(4))).toBe(false);
    expect(isContentHash("a".repeat(63))).toBe(false);
  });
  it("version ids encode the creation time, sort by it, and are DNS labels", ({ expect }) => {
    const a = formatVersionId(Date.UTC(2026, 10, 24, 8, 23, 1, 123));
    expect(a).toBe("20261124-082301-123");
    expect(isVersionId(a)).toBe(true);
    expect(isProjectName(a)).toBe(true);
    const ids = [0, 1, 999, 1000, 59_999, 3_600_000, 86_400_000].map((ms) =>
      formatVersionId(Date.UTC(2026, 0, 1) + ms),
    );
    expect([...ids].sort()).toEqual(ids);
  });
});
