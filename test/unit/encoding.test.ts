/** Which precompressed representation a request gets (#24): Accept-Encoding negotiation as a table. */
import { describe, it } from "vitest";
import { negotiate, variantPath, type Encoding } from "../../src/rules/encoding.ts";
import { pathHash } from "../../src/shared/snapshot.ts";

const ALL: Encoding[] = ["br", "zstd", "gzip"];

describe("Accept-Encoding", () => {
  const rows: [string | null, Encoding[], Encoding | "identity" | null, string][] = [
    [null, ALL, "identity", "no header: identity"],
    ["", ALL, "identity", "empty: identity"],
    ["gzip, deflate, br, zstd", ALL, "br", "a browser's: the smallest"],
    ["gzip, deflate, br, zstd", ["gzip"], "gzip", "only gzip stored"],
    ["gzip, deflate, br", ["zstd", "gzip"], "gzip", "zstd stored but not accepted"],
    ["gzip", [], "identity", "nothing stored"],
    ["gzip;q=1, br;q=0.5", ALL, "gzip", "the client prefers gzip"],
    ["br;q=0.5, gzip;q=0.5", ALL, "br", "a tie: the platform's order"],
    ["zstd, br", ALL, "br", "equal weights: br first"],
    ["zstd;q=1, br;q=0.9", ALL, "zstd", "the client prefers zstd"],
    ["br;q=0, gzip", ALL, "gzip", "br refused"],
    ["*", ALL, "br", "anything"],
    ["*;q=0.5, gzip;q=0.4", ALL, "br", "* weighs br and identity alike: the platform's order"],
    ["*;q=0.5, br;q=0.4, zstd;q=0.4, gzip;q=0.4", ALL, "identity", "* weighs identity above the codings named"],
    ["identity;q=0, *;q=0.1", ALL, "br", "identity refused"],
    ["*;q=0", ALL, null, "nothing acceptable"],
    ["identity;q=0", [], null, "identity refused and nothing else stored: 406"],
    ["identity;q=0, gzip", ["br"], null, "identity refused, gzip not stored"],
    ["BR, GZip", ALL, "br", "codings are case-insensitive"],
    ["br;q=2, gzip", ALL, "gzip", "a malformed weight refuses the coding"],
    ["br;q=0.001", ALL, "br", "any weight beats identity not named"],
    ["br;q=0.5, identity", ALL, "identity", "identity named, weight 1"],
    ["deflate, compress", ALL, "identity", "codings not stored"],
    [" br ; q=0.8 ,gzip;q=0.9", ALL, "gzip", "spaces"],
  ];
  for (const [header, available, expected, why] of rows) {
    it(`${JSON.stringify(header)} with ${available.join(",") || "none"} stored → ${expected} (${why})`, ({
      expect,
    }) => {
      expect(negotiate(header, available)).toBe(expected);
    });
  }
});

describe("variant paths", () => {
  it("cannot be any file's path, and hash as their file's (so that they share its snapshot page)", ({ expect }) => {
    expect(variantPath("br", "/app.js")).toBe("br:/app.js");
    expect(pathHash(variantPath("zstd", "/a/b.js"))).toBe(pathHash("/a/b.js"));
    expect(pathHash("/a:b.js")).not.toBe(pathHash("/b.js"));
  });
});
