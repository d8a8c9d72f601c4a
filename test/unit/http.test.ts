/**
 * HTTP semantics as pure functions: preconditions, ranges, If-Range and
 * caching defaults (RFC 9110).
 */
import { describe, it } from "vitest";
import {
  cacheControlFor,
  evaluatePreconditions,
  httpDate,
  ifRangeAllows,
  matchesEtag,
  parseRange,
} from "../../src/rules/http.ts";
import { isFingerprinted } from "../../src/rules/fingerprint.ts";

const validators = { etag: "abc", lastModified: Date.UTC(2026, 10, 24, 8, 0, 0, 500) };
const LAST = httpDate(validators.lastModified);
const EARLIER = httpDate(validators.lastModified - 60_000);
const LATER = httpDate(validators.lastModified + 60_000);

function pre(headers: Record<string, string>): string {
  return evaluatePreconditions(new Headers(headers), validators);
}

describe("entity tags", () => {
  it("compare weakly for If-None-Match and strongly for If-Match", ({ expect }) => {
    expect(matchesEtag('"abc"', "abc", "weak")).toBe(true);
    expect(matchesEtag('W/"abc"', "abc", "weak")).toBe(true);
    expect(matchesEtag('W/"abc"', "abc", "strong")).toBe(false);
    expect(matchesEtag('"x", W/"y" , "abc"', "abc", "strong")).toBe(true);
    expect(matchesEtag("*", "abc", "strong")).toBe(true);
    expect(matchesEtag('"abcd"', "abc", "weak")).toBe(false);
    expect(matchesEtag("abc", "abc", "weak")).toBe(false);
  });
});

describe("preconditions", () => {
  it("If-None-Match: 304 on a match, whatever If-Modified-Since says", ({ expect }) => {
    expect(pre({ "if-none-match": '"abc"' })).toBe("not-modified");
    expect(pre({ "if-none-match": 'W/"abc"' })).toBe("not-modified");
    expect(pre({ "if-none-match": '"other", "abc"' })).toBe("not-modified");
    expect(pre({ "if-none-match": "*" })).toBe("not-modified");
    expect(pre({ "if-none-match": '"other"' })).toBe("proceed");
    expect(pre({ "if-none-match": '"other"', "if-modified-since": LATER })).toBe("proceed");
  });

  it("If-Modified-Since: 304 unless modified after the date", ({ expect }) => {
    expect(pre({ "if-modified-since": LAST })).toBe("not-modified");
    expect(pre({ "if-modified-since": LATER })).toBe("not-modified");
    expect(pre({ "if-modified-since": EARLIER })).toBe("proceed");
    expect(pre({ "if-modified-since": "not a date" })).toBe("proceed");
  });

  it("If-Match and If-Unmodified-Since: 412 when they fail", ({ expect }) => {
    expect(pre({ "if-match": '"abc"' })).toBe("proceed");
    expect(pre({ "if-match": '"other"' })).toBe("failed");
    expect(pre({ "if-match": 'W/"abc"' })).toBe("failed");
    expect(pre({ "if-unmodified-since": EARLIER })).toBe("failed");
    expect(pre({ "if-unmodified-since": LAST })).toBe("proceed");
    // If-Unmodified-Since is ignored when If-Match is present.
    expect(pre({ "if-match": '"abc"', "if-unmodified-since": EARLIER })).toBe("proceed");
  });
});

describe("Range", () => {
  const size = 1000;
  const cases: [string | null, ReturnType<typeof parseRange>][] = [
    [null, { kind: "whole" }],
    ["bytes=0-99", { kind: "ranges", ranges: [{ start: 0, end: 99 }] }],
    ["bytes=500-", { kind: "ranges", ranges: [{ start: 500, end: 999 }] }],
    ["bytes=-100", { kind: "ranges", ranges: [{ start: 900, end: 999 }] }],
    ["bytes=-5000", { kind: "ranges", ranges: [{ start: 0, end: 999 }] }],
    ["bytes=990-5000", { kind: "ranges", ranges: [{ start: 990, end: 999 }] }],
    ["bytes=999-999", { kind: "ranges", ranges: [{ start: 999, end: 999 }] }],
    [
      "bytes=0-0, -1",
      {
        kind: "ranges",
        ranges: [
          { start: 0, end: 0 },
          { start: 999, end: 999 },
        ],
      },
    ],
    ["BYTES = 1-2", { kind: "ranges", ranges: [{ start: 1, end: 2 }] }],
    ["bytes=1000-", { kind: "unsatisfiable" }],
    ["bytes=5000-6000", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=2000-, 0-1", { kind: "ranges", ranges: [{ start: 0, end: 1 }] }],
    // Not valid syntax: ignored, the whole file is sent.
    ["bytes=5-1", { kind: "whole" }],
    ["bytes=abc", { kind: "whole" }],
    ["bytes=-", { kind: "whole" }],
    ["bytes=", { kind: "whole" }],
    ["items=0-1", { kind: "whole" }],
    ["0-1", { kind: "whole" }],
    ["bytes=1-2-3", { kind: "whole" }],
    [`bytes=${Array.from({ length: 17 }, (_, i) => `${i}-${i}`).join(",")}`, { kind: "whole" }],
    // Overlapping or adjacent ranges are merged, in ascending order (#9).
    ["bytes=0-499,0-0", { kind: "ranges", ranges: [{ start: 0, end: 499 }] }],
    [
      "bytes=500-599,0-99,100-199",
      {
        kind: "ranges",
        ranges: [
          { start: 0, end: 199 },
          { start: 500, end: 599 },
        ],
      },
    ],
    [
      "bytes=-10,0-9",
      {
        kind: "ranges",
        ranges: [
          { start: 990, end: 999 },
          { start: 0, end: 9 },
        ],
      },
    ],
    ["bytes=0-499,500-999", { kind: "ranges", ranges: [{ start: 0, end: 999 }] }],
    // Ranges that ask for more bytes than the file has get the whole file (#9).
    ["bytes=0-999,0-999", { kind: "whole" }],
    [`bytes=${Array.from({ length: 16 }, () => "0-").join(",")}`, { kind: "whole" }],
    ["bytes=0-600,400-999", { kind: "whole" }],
  ];
  for (const [header, expected] of cases) {
    it(`${header} of ${size} bytes`, ({ expect }) => {
      expect(parseRange(header, size)).toEqual(expected);
    });
  }

  it("cannot be satisfied for an empty file", ({ expect }) => {
    expect(parseRange("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-1", 0)).toEqual({ kind: "unsatisfiable" });
  });
});

describe("If-Range", () => {
  it("lets a range through only for the current representation", ({ expect }) => {
    expect(ifRangeAllows(null, validators)).toBe(true);
    expect(ifRangeAllows('"abc"', validators)).toBe(true);
    expect(ifRangeAllows('"old"', validators)).toBe(false);
    expect(ifRangeAllows('W/"abc"', validators)).toBe(false);
    expect(ifRangeAllows(LAST, validators)).toBe(true);
    expect(ifRangeAllows(LATER, validators)).toBe(false);
    expect(ifRangeAllows("garbage", validators)).toBe(false);
  });
});

describe("Cache-Control", () => {
  it("is immutable for fingerprinted names and revalidated for the rest", ({ expect }) => {
    for (const path of [
      "/assets/app.3f9a1c0d.js",
      "/assets/index-BxP3k9aZ.js",
      "/static/js/main.8e0d7a2b1c.chunk.js",
      "/a/logo.5d41402abc4b2a76.svg",
    ]) {
      expect(cacheControlFor(isFingerprinted(path)), path).toBe("public, max-age=31536000, immutable");
    }
    for (const path of [
      "/index.html",
      "/about.html",
      "/app.js",
      "/jquery-3.6.0.min.js",
      "/my-component.js",
      "/video.mp4",
      "/page.3f9a1c0d.html",
    ]) {
      expect(cacheControlFor(isFingerprinted(path)), path).toBe("public, max-age=0, must-revalidate");
    }
  });
});
