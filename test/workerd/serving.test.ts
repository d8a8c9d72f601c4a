/**
 * Serving through AssetBinding with real R2 and the manifest Durable Object:
 * routing (html_handling, not_found_handling, _redirects, _headers) and the
 * HTTP semantics large media needs, on a file of more than 10 MB checked
 * byte for byte.
 */
import { beforeAll, describe, it } from "vitest";
import { api, apiJson, createProject, deploy, sameBytes, site, uniqueProject } from "./helpers.ts";

const BIG_SIZE = 10 * 1024 * 1024 + 12_345;
const BIG = new Uint8Array(BIG_SIZE);
for (let i = 0; i < BIG_SIZE; i += 1) {
  BIG[i] = (i * 31 + (i >>> 12)) & 0xff;
}

const REDIRECTS = `
/old-page /about 301
/articles/* /news/:splat
/app/* /app/shell 200
/gone/* /nowhere 200
`;

const HEADERS = `
/*
  X-Frame-Options: DENY
/assets/*
  ! X-Frame-Options
  Cache-Control: public, max-age=60
/docs/:section
  X-Section: :section
`;

let project: string;
let spa: string;

beforeAll(async () => {
  project = uniqueProject("serving");
  await createProject(project);
  await deploy(
    project,
    {
      "/index.html": "<h1>home</h1>",
      "/about.html": "<h1>about</h1>",
      "/docs/index.html": "<h1>docs</h1>",
      "/docs/intro.html": "<h1>intro</h1>",
      "/404.html": "<h1>not here</h1>",
      "/blog/404.html": "<h1>no such post</h1>",
      "/news/hello.html": "<h1>news</h1>",
      "/app/shell.html": "<div id=app></div>",
      "/assets/app.3f9a1c0d.js": "console.log(1)",
      "/notes.txt": "plain text",
      "/big.bin": BIG,
      "/empty.txt": "",
    },
    { config: { not_found_handling: "404-page", redirects: REDIRECTS, headers: HEADERS } },
  );
  spa = uniqueProject("spa");
  await createProject(spa);
  await deploy(
    spa,
    { "/index.html": "<div id=root></div>", "/app.js": "render()" },
    { config: { not_found_handling: "single-page-application" } },
  );
}, 60_000);

function get(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return site(project, path, { method, headers, redirect: "manual" });
}

async function bytes(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

describe("routing through AssetBinding", () => {
  it("follows html_handling", async ({ expect }) => {
    expect(await (await get("/about")).text()).toBe("<h1>about</h1>");
    const redirect = await get("/about.html?x=1");
    expect(redirect.status).toBe(307);
    expect(redirect.headers.get("location")).toBe("/about?x=1");
    expect((await get("/docs")).headers.get("location")).toBe("/docs/");
    expect(await (await get("/docs/")).text()).toBe("<h1>docs</h1>");
  });

  it("serves the nearest 404.html with status 404", async ({ expect }) => {
    const blog = await get("/blog/missing-post");
    expect(blog.status).toBe(404);
    expect(await blog.text()).toBe("<h1>no such post</h1>");
    const root = await get("/missing");
    expect(root.status).toBe(404);
    expect(await root.text()).toBe("<h1>not here</h1>");
  });

  it("serves a single-page application's index.html for unmatched paths, whatever they accept", async ({ expect }) => {
    for (const accept of ["text/html", "application/json", "*/*"]) {
      const res = await site(spa, "/settings/profile", { headers: { accept } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("<div id=root></div>");
    }
    expect(await (await site(spa, "/app.js")).text()).toBe("render()");
  });

  it("applies _redirects before html_handling", async ({ expect }) => {
    const moved = await get("/old-page");
    expect([moved.status, moved.headers.get("location")]).toEqual([301, "/about"]);
    const splat = await get("/articles/2026/post?ref=feed");
    expect([splat.status, splat.headers.get("location")]).toEqual([302, "/news/2026/post?ref=feed"]);
    const rewrite = await get("/app/any/client/route");
    expect(rewrite.status).toBe(200);
    expect(await rewrite.text()).toBe("<div id=app></div>");
    const broken = await get("/gone/x");
    expect(broken.status).toBe(404);
  });

  it("applies _headers to every response", async ({ expect }) => {
    expect((await get("/about")).headers.get("x-frame-options")).toBe("DENY");
    expect((await get("/missing")).headers.get("x-frame-options")).toBe("DENY");
    const asset = await get("/assets/app.3f9a1c0d.js");
    expect(asset.headers.get("x-frame-options")).toBeNull();
    expect(asset.headers.get("cache-control")).toBe("public, max-age=60");
    expect((await get("/docs/intro")).headers.get("x-section")).toBe("intro");
  });

  it("never serves outside the version's files, and never fails, for hostile paths", async ({ expect }) => {
    for (const path of [
      "/%2e%2e/%2e%2e/etc/passwd",
      "/..%2f..%2fbig.bin",
      "/big.bin%00",
      "/%00",
      "/%",
      "/%zz/x",
      "/a%2Fb",
      "//evil.example/",
      "/%2F%2Fevil.example",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBeLessThan(500);
      if (res.status >= 300 && res.status < 400) {
        expect(res.headers.get("location"), path).toMatch(/^\/(?!\/)/);
      }
    }
  });
});

describe("HTTP semantics on a 10 MB file", () => {
  async function validators(): Promise<{ etag: string; lastModified: string }> {
    const res = await get("/big.bin", {}, "HEAD");
    return { etag: res.headers.get("etag") ?? "", lastModified: res.headers.get("last-modified") ?? "" };
  }

  it("GET streams every byte with validators and caching headers", async ({ expect }) => {
    const res = await get("/big.bin");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(BIG_SIZE));
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(res.headers.get("last-modified")).toMatch(/GMT$/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    expect(sameBytes(await bytes(res), BIG)).toBe(true);
  });

  it("HEAD has GET's status and headers, and no body", async ({ expect }) => {
    const [getRes, headRes] = [await get("/big.bin"), await get("/big.bin", {}, "HEAD")];
    await getRes.body?.cancel();
    expect(headRes.status).toBe(200);
    for (const name of [
      "content-length",
      "content-type",
      "etag",
      "last-modified",
      "cache-control",
      "accept-ranges",
      "x-r2-assets-version",
    ]) {
      expect(headRes.headers.get(name), name).toBe(getRes.headers.get(name));
    }
    expect((await bytes(headRes)).length).toBe(0);
  });

  it("answers If-None-Match with 304 for a matching tag, list, weak tag or *", async ({ expect }) => {
    const { etag } = await validators();
    for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const res = await get("/big.bin", { "if-none-match": value });
      expect(res.status, value).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect((await bytes(res)).length).toBe(0);
    }
    const miss = await get("/big.bin", { "if-none-match": '"nope"' });
    expect(miss.status).toBe(200);
    await miss.body?.cancel();
  });

  it("answers If-Modified-Since, unless If-None-Match is there", async ({ expect }) => {
    const { lastModified } = await validators();
    expect((await get("/big.bin", { "if-modified-since": lastModified })).status).toBe(304);
    const old = await get("/big.bin", { "if-modified-since": "Thu, 01 Jan 2015 00:00:00 GMT" });
    expect(old.status).toBe(200);
    await old.body?.cancel();
    const both = await get("/big.bin", { "if-modified-since": lastModified, "if-none-match": '"nope"' });
    expect(both.status).toBe(200);
    await both.body?.cancel();
  });

  it("answers a failed If-Match with 412", async ({ expect }) => {
    expect((await get("/big.bin", { "if-match": '"nope"' })).status).toBe(412);
  });

  it("serves single ranges as 206, byte for byte", async ({ expect }) => {
    const cases: [string, number, number][] = [
      ["bytes=0-99", 0, 99],
      ["bytes=4194300-4194309", 4194300, 4194309],
      [`bytes=${BIG_SIZE - 1000}-`, BIG_SIZE - 1000, BIG_SIZE - 1],
      ["bytes=-777", BIG_SIZE - 777, BIG_SIZE - 1],
      [`bytes=5000000-${BIG_SIZE * 2}`, 5000000, BIG_SIZE - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await get("/big.bin", { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${BIG_SIZE}`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(sameBytes(await bytes(res), BIG.subarray(start, end + 1)), range).toBe(true);
    }
    const head = await get("/big.bin", { range: "bytes=10-19" }, "HEAD");
    expect([head.status, head.headers.get("content-length"), (await bytes(head)).length]).toEqual([206, "10", 0]);
  });

  it("answers an unsatisfiable range with 416 and ignores a malformed one", async ({ expect }) => {
    const res = await get("/big.bin", { range: `bytes=${BIG_SIZE}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${BIG_SIZE}`);
    for (const range of ["bytes=9-1", "pages=1-2", "bytes=x-y"]) {
      const whole = await get("/big.bin", { range });
      expect(whole.status, range).toBe(200);
      expect(whole.headers.get("content-length")).toBe(String(BIG_SIZE));
      await whole.body?.cancel();
    }
  });

  it("honours If-Range by tag and by date, falling back to the whole file", async ({ expect }) => {
    const { etag, lastModified } = await validators();
    const byTag = await get("/big.bin", { range: "bytes=0-9", "if-range": etag });
    expect(byTag.status).toBe(206);
    await byTag.body?.cancel();
    const byDate = await get("/big.bin", { range: "bytes=0-9", "if-range": lastModified });
    expect(byDate.status).toBe(206);
    await byDate.body?.cancel();
    for (const stale of ['"another-version"', "Thu, 01 Jan 2015 00:00:00 GMT"]) {
      const res = await get("/big.bin", { range: "bytes=0-9", "if-range": stale });
      expect(res.status, stale).toBe(200);
      expect(sameBytes(await bytes(res), BIG)).toBe(true);
    }
  });

  it("serves several ranges as multipart/byteranges", async ({ expect }) => {
    const ranges: [number, number][] = [
      [0, 9],
      [4194303, 4194400],
      [BIG_SIZE - 5, BIG_SIZE - 1],
    ];
    const res = await get("/big.bin", { range: `bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(", ")}` });
    expect(res.status).toBe(206);
    const type = res.headers.get("content-type") ?? "";
    const boundary = /^multipart\/byteranges; boundary=(.+)$/.exec(type)?.[1];
    expect(boundary).toBeDefined();
    const body = await bytes(res);
    expect(body.length).toBe(Number(res.headers.get("content-length")));
    // One character per byte, so that offsets in the text are offsets in the body.
    const text = Array.from(body, (byte) => String.fromCharCode(byte)).join("");
    const parts = text.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(3);
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
    for (const [i, part] of parts.entries()) {
      const [start, end] = ranges[i] ?? [0, 0];
      const [head, ...rest] = part.split("\r\n\r\n");
      expect(head).toContain(`content-range: bytes ${start}-${end}/${BIG_SIZE}`);
      const data = Uint8Array.from(rest.join("\r\n\r\n").slice(0, -2), (c) => c.charCodeAt(0));
      expect(sameBytes(data, BIG.subarray(start, end + 1)), `part ${i}`).toBe(true);
    }
  });

  it("survives a client that stops reading mid-download", async ({ expect }) => {
    const res = await get("/big.bin");
    const reader = res.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    const again = await get("/big.bin", { range: "bytes=-10" });
    expect(sameBytes(await bytes(again), BIG.subarray(BIG_SIZE - 10))).toBe(true);
  });
});

describe("responses", () => {
  it("sets Content-Type with a UTF-8 charset for text, and immutable caching for fingerprinted names", async ({
    expect,
  }) => {
    expect((await get("/notes.txt")).headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect((await get("/about")).headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect((await get("/about")).headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    const fingerprinted = await site(spa, "/app.js");
    expect(fingerprinted.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
  });

  it("serves an empty file", async ({ expect }) => {
    const res = await get("/empty.txt");
    expect([res.status, res.headers.get("content-length"), await res.text()]).toEqual([200, "0", ""]);
  });

  it("answers other methods with 405 and Allow, or 404 where nothing matches", async ({ expect }) => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await get("/about", {}, method);
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
    }
    expect((await site(spa, "/nothing", { method: "POST" })).status).toBe(405);
    expect((await site(uniqueProject("none"), "/x", { method: "POST" })).status).toBe(404);
  });
});

describe("immutable caching from what a deploy recorded (#26)", () => {
  it("follows the hashed folders and files a deploy names, and refuses a malformed record", async ({ expect }) => {
    const hashedSite = uniqueProject("hashed");
    await createProject(hashedSite);
    await deploy(
      hashedSite,
      { "/assets/m41-DwZr_tmi.js": "41", "/assets/icon-Settings.svg": "<svg/>", "/app.js": "app", "/other.js": "x" },
      { config: { hashed: { directories: ["/assets/"], files: ["/app.js"] } } },
    );
    const cache = async (path: string): Promise<string | null> =>
      (await site(hashedSite, path)).headers.get("cache-control");
    expect(await cache("/assets/m41-DwZr_tmi.js")).toBe("public, max-age=31536000, immutable");
    expect(await cache("/app.js")).toBe("public, max-age=31536000, immutable");
    expect(await cache("/assets/icon-Settings.svg")).toBe("public, max-age=0, must-revalidate");
    expect(await cache("/other.js")).toBe("public, max-age=0, must-revalidate");
    const versions = await apiJson<{ versions: { immutableFiles: number }[] }>(
      "GET",
      `/api/projects/${hashedSite}/versions`,
    );
    expect(versions.versions[0]?.immutableFiles).toBe(2);

    for (const [hashed, field] of [
      [{ directories: ["assets/"] }, "config.hashed.directories"],
      [{ directories: ["/assets"] }, "config.hashed.directories"],
      [{ files: ["/dir/"] }, "config.hashed.files"],
      [{ files: "x" }, "config.hashed.files"],
      [{ folders: [] }, "config.hashed"],
      [["/assets/"], "config.hashed"],
    ] as const) {
      const res = await api("POST", `/api/projects/${hashedSite}/deploys`, { body: { config: { hashed } } });
      expect([
        JSON.stringify(hashed),
        res.status,
        (await res.json<{ error: { field: string } }>()).error.field,
      ]).toEqual([JSON.stringify(hashed), 400, field]);
    }
  });
});

describe("where Workers Static Assets behaves so (#11)", () => {
  it("replaces an earlier _headers block for the same path, and still applies every pattern that matches", async ({
    expect,
  }) => {
    // utils/configuration/constructConfiguration.ts in cloudflare/workers-sdk keys header rules by path.
    const twice = uniqueProject("headers-twice");
    await createProject(twice);
    const headers = [
      "/page",
      "  X-First: 1",
      "  X-Shared: first",
      "/*",
      "  X-All: yes",
      "/page",
      "  X-Shared: second",
    ].join("\n");
    await deploy(twice, { "/page.html": "p" }, { config: { headers } });
    const res = await site(twice, "/page");
    expect([res.headers.get("x-first"), res.headers.get("x-shared"), res.headers.get("x-all")]).toEqual([
      null,
      "second",
      "yes",
    ]);
  });

  it("sets no Cache-Control on answers to requests with Authorization", async ({ expect }) => {
    // asset-worker/src/utils/headers.ts in cloudflare/workers-sdk: isCacheable.
    const res = await get("/about", { authorization: "Basic dTpw" });
    expect([res.status, res.headers.get("cache-control")]).toEqual([200, null]);
    expect((await get("/about")).headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
  });

  it("keeps immutable for real content fingerprints, and lets _headers opt a path in or out", async ({ expect }) => {
    const immutable = uniqueProject("immutable");
    await createProject(immutable);
    const headers = [
      "/assets/hashed-but-mutable-3f9a1c0d.js",
      "  Cache-Control: no-cache",
      "/fonts/*",
      "  Cache-Control: public, max-age=31536000, immutable",
    ].join("\n");
    await deploy(
      immutable,
      {
        "/assets/index-BxP3k9aZ.js": "a",
        "/assets/hashed-but-mutable-3f9a1c0d.js": "b",
        "/hero-image-2x.png": "c",
        "/annual-report-2024.pdf": "d",
        "/fonts/roboto-v30-latin.woff2": "e",
      },
      { config: { headers } },
    );
    const cache = async (path: string): Promise<string | null> =>
      (await site(immutable, path)).headers.get("cache-control");
    expect(await cache("/assets/index-BxP3k9aZ.js")).toBe("public, max-age=31536000, immutable");
    expect(await cache("/hero-image-2x.png")).toBe("public, max-age=0, must-revalidate");
    expect(await cache("/annual-report-2024.pdf")).toBe("public, max-age=0, must-revalidate");
    expect(await cache("/assets/hashed-but-mutable-3f9a1c0d.js")).toBe("no-cache");
    expect(await cache("/fonts/roboto-v30-latin.woff2")).toBe("public, max-age=31536000, immutable");
  });
});
