/**
 * `_redirects` and `_headers`: parsing (with invalid lines reported by line
 * number) and matching.
 */
import { describe, it } from "vitest";
import { compileConfig, DEFAULT_CONFIG } from "../../src/rules/config.ts";
import { confineCookie, confineCookies } from "../../src/rules/cookies.ts";
import { applyHeaderOps, matchHeaders, MAX_HEADER_RULES, parseHeaders } from "../../src/rules/headers.ts";
import { MAX_DYNAMIC_REDIRECTS, MAX_STATIC_REDIRECTS, parseRedirects } from "../../src/rules/redirects.ts";
import { route } from "../../src/rules/route.ts";

async function routeWith(redirects: string, files: string[], path: string) {
  const config = compileConfig({
    ...DEFAULT_CONFIG,
    redirects: parseRedirects(redirects, "auto-trailing-slash").rules,
  });
  const set = new Set(files);
  return route(new URL(`https://site.test${path}`), config, (p) => (set.has(p) ? p : null)).intent;
}

describe("_redirects parsing", () => {
  it("reads rules, comments and default status", ({ expect }) => {
    const { rules, invalid } = parseRedirects(
      [
        "# moved pages",
        "/old /new",
        "/perm /new 301  # inline comment",
        "",
        "/blog/* /news/:splat 308",
        "/u/:id /users/:id 200",
      ].join("\n"),
      "auto-trailing-slash",
    );
    expect(invalid).toEqual([]);
    expect(rules.static).toEqual({
      "/old": { from: "/old", to: "/new", status: 302, line: 2 },
      "/perm": { from: "/perm", to: "/new", status: 301, line: 3 },
    });
    expect(rules.dynamic.map((r) => [r.from, r.to, r.status, r.line])).toEqual([
      ["/blog/*", "/news/:splat", 308, 5],
      ["/u/:id", "/users/:id", 200, 6],
    ]);
  });

  it("reports each invalid line with its number and skips it", ({ expect }) => {
    const text = [
      "/ok /fine",
      "/only-one-token",
      "/a /b 418",
      "relative /b",
      "/a b",
      "/a http://insecure.example/",
      "/rewrite https://elsewhere.example/ 200",
      "/ok /again",
      "/*/* /x",
      "/* /index.html",
      "/ /index.html",
      "/a /b 301 extra",
      "/:id/:id /x",
      `/${"x".repeat(2001)} /y`,
    ].join("\n");
    const { rules, invalid } = parseRedirects(text, "auto-trailing-slash");
    expect(Object.keys(rules.static)).toEqual(["/ok"]);
    expect(rules.dynamic).toEqual([]);
    expect(invalid.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(invalid[1]?.message).toMatch(/418/);
    expect(invalid[6]?.message).toMatch(/earlier/);
    expect(invalid[8]?.message).toMatch(/loop/);
  });

  it("allows / → /index.html only without html_handling", ({ expect }) => {
    expect(parseRedirects("/ /index.html 200", "none").invalid).toEqual([]);
    expect(parseRedirects("/ /index.html 200", "auto-trailing-slash").invalid).toHaveLength(1);
  });

  it(`keeps at most ${MAX_STATIC_REDIRECTS} static and ${MAX_DYNAMIC_REDIRECTS} dynamic rules`, ({ expect }) => {
    const statics = Array.from({ length: MAX_STATIC_REDIRECTS + 5 }, (_, i) => `/s${i} /t`);
    const dynamics = Array.from({ length: MAX_DYNAMIC_REDIRECTS + 5 }, (_, i) => `/d${i}/* /t`);
    const { rules, invalid } = parseRedirects([...statics, ...dynamics].join("\n"), "auto-trailing-slash");
    expect(Object.keys(rules.static)).toHaveLength(MAX_STATIC_REDIRECTS);
    expect(rules.dynamic).toHaveLength(MAX_DYNAMIC_REDIRECTS);
    expect(invalid).toHaveLength(6);
  });

  it("treats a static rule after a dynamic one as dynamic, keeping the order", ({ expect }) => {
    const { rules } = parseRedirects("/a/* /x\n/a/b /y", "auto-trailing-slash");
    expect(rules.static).toEqual({});
    expect(rules.dynamic.map((r) => r.from)).toEqual(["/a/*", "/a/b"]);
  });
});

describe("_redirects matching", () => {
  const rules = [
    "/exact /target 301",
    "/blog/* /news/:splat 302",
    "/users/:id/posts/:post /p/:post?by=:id 307",
    "/app/* /app/shell 200",
    "/go/* https://example.com/:splat 301",
    "/blog/special /never 301",
    "/missing/* /not/here.html 200",
  ].join("\n");
  const files = ["/app/shell.html", "/target"];

  it("redirects static paths exactly", async ({ expect }) => {
    expect(await routeWith(rules, files, "/exact")).toEqual({
      kind: "redirect",
      location: "/target",
      status: 301,
      rule: true,
    });
    expect(await routeWith(rules, files, "/exact/")).toMatchObject({ kind: "none" });
  });

  it("fills in splats and placeholders, and keeps the query unless the rule sets one", async ({ expect }) => {
    expect(await routeWith(rules, files, "/blog/2026/hello?ref=x")).toMatchObject({
      location: "/news/2026/hello?ref=x",
      status: 302,
    });
    expect(await routeWith(rules, files, "/users/42/posts/abc?ignored=1")).toMatchObject({
      location: "/p/abc?by=42",
      status: 307,
    });
    expect(await routeWith(rules, files, "/go/docs/page")).toMatchObject({
      location: "https://example.com/docs/page",
      status: 301,
    });
  });

  it("takes the first matching rule", async ({ expect }) => {
    expect(await routeWith(rules, files, "/blog/special")).toMatchObject({ location: "/news/special" });
  });

  it("serves a 200 rewrite's destination at the requested URL", async ({ expect }) => {
    expect(await routeWith(rules, files, "/app/settings/profile")).toEqual({
      kind: "asset",
      file: "/app/shell.html",
      status: 200,
    });
  });

  it("applies html_handling to a rewrite's destination, as Workers Static Assets does", async ({ expect }) => {
    // /app/shell.html is served at /app/shell, so a rewrite to the .html name redirects there.
    expect(await routeWith("/app/* /app/shell.html 200", files, "/app/x")).toMatchObject({
      kind: "redirect",
      location: "/app/shell",
    });
  });

  it("answers a rewrite to a missing file with nothing, never a fall-through", async ({ expect }) => {
    expect(await routeWith(rules, files, "/missing/x")).toEqual({ kind: "none", rewritten: true });
    expect(await routeWith(rules, files, "/unmatched")).toEqual({ kind: "none", rewritten: false });
  });

  it("never redirects to another host through an empty splat", async ({ expect }) => {
    const intent = await routeWith("/x/* /:splat 301", [], "/x//evil.example");
    expect(intent).toMatchObject({ kind: "redirect" });
    expect(intent.kind === "redirect" && intent.location).toBe("/evil.example");
  });
});

describe("_headers", () => {
  it("parses rules, repeated names, removals and invalid lines", ({ expect }) => {
    const { rules, invalid } = parseHeaders(
      [
        "X-Orphan: no path yet",
        "/*",
        "  X-Frame-Options: DENY",
        "  Link: </a.css>; rel=preload",
        "  Link: </b.js>; rel=preload",
        "/assets/:name",
        "  ! X-Frame-Options",
        "  Cache-Control: public, max-age=600",
        "/bad/*/*",
        "  X-Skipped: yes",
        "/empty",
        "/ok",
        "  Not a header",
        "  Bad Name: x",
        "  X-Empty:",
        "  X-Fine: 1",
      ].join("\n"),
    );
    expect(rules.map((r) => [r.path, r.set, r.unset, r.line])).toEqual([
      ["/*", { "x-frame-options": "DENY", link: "</a.css>; rel=preload, </b.js>; rel=preload" }, [], 2],
      ["/assets/:name", { "cache-control": "public, max-age=600" }, ["x-frame-options"], 6],
      ["/ok", { "x-fine": "1" }, [], 12],
    ]);
    expect(invalid.map((p) => p.line)).toEqual([1, 9, 11, 13, 14, 15]);
  });

  it(`keeps at most ${MAX_HEADER_RULES} rules`, ({ expect }) => {
    const text = Array.from({ length: MAX_HEADER_RULES + 3 }, (_, i) => `/p${i}\n  X-N: ${i}`).join("\n");
    const { rules, invalid } = parseHeaders(text);
    expect(rules).toHaveLength(MAX_HEADER_RULES);
    expect(invalid).toHaveLength(1);
  });

  it("applies every matching rule in order, with placeholders in values", ({ expect }) => {
    const { rules } = parseHeaders(
      [
        "/*",
        "  X-Robots-Tag: noindex",
        "  Access-Control-Allow-Origin: *",
        "/docs/:section/*",
        "  X-Section: :section",
        "  X-Rest: :splat",
        "  ! Access-Control-Allow-Origin",
        "  X-Robots-Tag: nofollow",
        "https://:sub.site.test/*",
        "  X-Sub: :sub",
      ].join("\n"),
    );
    const compiled = compileConfig({ ...DEFAULT_CONFIG, headers: rules }).headerPatterns;
    const headers = new Headers({
      "cache-control": "public, max-age=0, must-revalidate",
      "access-control-allow-origin": "x",
    });
    applyHeaderOps(headers, matchHeaders(rules, compiled, "blog.site.test", "/docs/api/v1/index.html"));
    expect(Object.fromEntries(headers)).toEqual({
      "cache-control": "public, max-age=0, must-revalidate",
      "x-robots-tag": "noindex, nofollow",
      "x-section": "api",
      "x-rest": "v1/index.html",
      "x-sub": "blog",
    });
  });
});

describe("rule files", () => {
  it("skip lines with control characters, naming the line (#9)", ({ expect }) => {
    const { invalid } = parseRedirects("/a /b\n/c\u0001 /d\n/e /f\u0007 301", "auto-trailing-slash");
    expect(invalid).toEqual([
      { line: 2, message: "contains a control character" },
      { line: 3, message: "contains a control character" },
    ]);
    expect(parseHeaders("/x\n  X-A: a\u0000b\n  X-B: fine").invalid).toEqual([
      { line: 2, message: "contains a control character" },
    ]);
  });

  it("refuse destinations that cannot form a URL, or whose host a visitor would choose (#9)", ({ expect }) => {
    const { rules, invalid } = parseRedirects(
      [
        "/a/* https://:splat 302",
        "/b/:x https://:x.example.com/ 301",
        "/c https://example.com:99999/ 302",
        "/d/* https://example.com/:splat 301",
        "/e/:x /f/:x 302",
      ].join("\n"),
      "auto-trailing-slash",
    );
    expect(invalid.map((problem) => problem.line)).toEqual([1, 2, 3]);
    expect(rules.dynamic.map((rule) => rule.from)).toEqual(["/d/*", "/e/:x"]);
  });
});

describe("cookies", () => {
  it("keep a Domain only when it is the host that set them (#9)", ({ expect }) => {
    const host = "blog.example.com";
    expect(confineCookie("a=1; Domain=example.com; Path=/", host)).toBe("a=1; Path=/");
    expect(confineCookie("a=1; domain=.EXAMPLE.com", host)).toBe("a=1");
    expect(confineCookie("a=1; Domain=blog.example.com", host)).toBe("a=1; Domain=blog.example.com");
    expect(confineCookie("a=1; Domain=.blog.example.com.; Secure", host)).toBe(
      "a=1; Domain=.blog.example.com.; Secure",
    );
    expect(confineCookie("a=1; Domain=other.example.com", host)).toBe("a=1");
    expect(confineCookie("domain=x; Path=/", host)).toBe("domain=x; Path=/");
    const headers = new Headers();
    headers.append("set-cookie", "a=1; Domain=example.com");
    headers.append("set-cookie", "b=2");
    confineCookies(headers, host);
    expect(headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });
});

describe("_headers blocks for the same path (#11)", () => {
  it("keep only the later one, in the earlier one's place, as Cloudflare keys rules by path", ({ expect }) => {
    const { rules } = parseHeaders(["/a", "  X-One: 1", "/b", "  X-B: b", "/a", "  X-Two: 2"].join("\n"));
    expect(rules.map((rule) => [rule.path, rule.set])).toEqual([
      ["/a", { "x-two": "2" }],
      ["/b", { "x-b": "b" }],
    ]);
  });
});
