/**
 * Routing decisions as pure functions: every html_handling mode against
 * every path shape and file layout, not_found_handling, and the canonical
 * encoding of paths. The expected outcomes are those of Workers Static
 * Assets (its documentation and its own test matrix).
 */
import { handleAssetRequest, type AssetMetadata } from "@cloudflare/worker-bundler";
import { describe, it } from "vitest";
import { compileConfig, DEFAULT_CONFIG, type ServingConfig } from "../../src/rules/config.ts";
import type { HtmlHandling } from "../../src/rules/html-handling.ts";
import { parseHeaders } from "../../src/rules/headers.ts";
import { parseRedirects } from "../../src/rules/redirects.ts";
import { candidatePaths, htmlIntent } from "../../src/rules/html-handling.ts";
import type { Intent as AnyIntent } from "../../src/rules/decision.ts";
import { route, routeRequest, type ServerCompatibility } from "../../src/rules/route.ts";

/** A decision about files known by their paths. */
type Intent = AnyIntent<string>;

interface Site {
  files: string[];
  config?: Partial<ServingConfig>;
  redirects?: string;
  headers?: string;
}

function compiled(site: Site) {
  const html = site.config?.html_handling ?? "auto-trailing-slash";
  return compileConfig({
    ...DEFAULT_CONFIG,
    ...site.config,
    redirects: parseRedirects(site.redirects ?? "", html).rules,
    headers: parseHeaders(site.headers ?? "").rules,
  });
}

/** Routes one request; each file is known by its path, its own "hash", so every file is distinct. */
async function visit(site: Site, path: string): Promise<Intent> {
  const files = new Set(site.files);
  const { intent } = route(new URL(`https://site.test${path}`), compiled(site), (p) => (files.has(p) ? p : null));
  return intent;
}

/** Follows redirects, as a browser would; returns the final path and what was served there. */
async function browse(
  site: Site,
  path: string,
): Promise<{ finalPath: string; served: string | null; status: number; hops: number }> {
  let current = path;
  for (let hops = 0; hops < 5; hops += 1) {
    const intent = await visit(site, current);
    if (intent.kind === "redirect") {
      current = intent.location;
      continue;
    }
    return {
      finalPath: current,
      served: intent.kind === "asset" ? intent.file : null,
      status: intent.kind === "asset" ? intent.status : 404,
      hops,
    };
  }
  throw new Error(`redirect loop from ${path}`);
}

// [files, request, file served (null: nothing), final path after redirects]
type Row = [string[], string, string | null, string];

const INDEX = ["/index.html"];
const BOTH = ["/both.html", "/both/index.html"];
const FILE = ["/file.html"];
const FOLDER = ["/folder/index.html"];
const BIN = ["/bin%2F", "/bin/index.html"];
const FILE_BIN = ["/file-bin", "/file-bin.html"];

const TABLE: Record<HtmlHandling, Row[]> = {
  "auto-trailing-slash": [
    [INDEX, "/", "/index.html", "/"],
    [INDEX, "/index", "/index.html", "/"],
    [INDEX, "/index.html", "/index.html", "/"],
    [BOTH, "/both", "/both.html", "/both"],
    [BOTH, "/both.html", "/both.html", "/both"],
    [BOTH, "/both/", "/both/index.html", "/both/"],
    [BOTH, "/both/index", "/both/index.html", "/both/"],
    [BOTH, "/both/index.html", "/both/index.html", "/both/"],
    [FILE, "/file", "/file.html", "/file"],
    [FILE, "/file.html", "/file.html", "/file"],
    [FILE, "/file/", "/file.html", "/file"],
    [FILE, "/file/index", "/file.html", "/file"],
    [FILE, "/file/index.html", "/file.html", "/file"],
    [FOLDER, "/folder", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder.html", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/index", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/index.html", "/folder/index.html", "/folder/"],
    [BIN, "/bin", "/bin/index.html", "/bin/"],
    [BIN, "/bin.html", "/bin/index.html", "/bin/"],
    [BIN, "/bin%2F", "/bin/index.html", "/bin/"],
    [BIN, "/bin%252F", "/bin%2F", "/bin%252F"],
    [BIN, "/bin/index.html", "/bin/index.html", "/bin/"],
    [FILE_BIN, "/file-bin", "/file-bin", "/file-bin"],
    [FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"],
    [FILE, "/nope", null, "/nope"],
    [FOLDER, "/folder/nope", null, "/folder/nope"],
  ],
  "drop-trailing-slash": [
    [INDEX, "/", "/index.html", "/"],
    [INDEX, "/index", "/index.html", "/"],
    [INDEX, "/index.html", "/index.html", "/"],
    [BOTH, "/both", "/both.html", "/both"],
    [BOTH, "/both.html", "/both.html", "/both"],
    [BOTH, "/both/", "/both.html", "/both"],
    [BOTH, "/both/index", "/both.html", "/both"],
    [BOTH, "/both/index.html", "/both/index.html", "/both/index.html"],
    [FILE, "/file", "/file.html", "/file"],
    [FILE, "/file.html", "/file.html", "/file"],
    [FILE, "/file/", "/file.html", "/file"],
    [FILE, "/file/index", "/file.html", "/file"],
    [FILE, "/file/index.html", "/file.html", "/file"],
    [FOLDER, "/folder", "/folder/index.html", "/folder"],
    [FOLDER, "/folder.html", "/folder/index.html", "/folder"],
    [FOLDER, "/folder/", "/folder/index.html", "/folder"],
    [FOLDER, "/folder/index", "/folder/index.html", "/folder"],
    [FOLDER, "/folder/index.html", "/folder/index.html", "/folder"],
    [BIN, "/bin", "/bin/index.html", "/bin"],
    [BIN, "/bin%2F", "/bin/index.html", "/bin"],
    [BIN, "/bin%252F", "/bin%2F", "/bin%252F"],
    [BIN, "/bin/", "/bin/index.html", "/bin"],
    [FILE_BIN, "/file-bin", "/file-bin", "/file-bin"],
    [FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"],
    [FILE, "/nope/", null, "/nope/"],
  ],
  "force-trailing-slash": [
    [INDEX, "/", "/index.html", "/"],
    [INDEX, "/index", "/index.html", "/"],
    [INDEX, "/index.html", "/index.html", "/"],
    [BOTH, "/both", "/both/index.html", "/both/"],
    [BOTH, "/both.html", "/both.html", "/both.html"],
    [BOTH, "/both/", "/both/index.html", "/both/"],
    [BOTH, "/both/index", "/both/index.html", "/both/"],
    [BOTH, "/both/index.html", "/both/index.html", "/both/"],
    [FILE, "/file", "/file.html", "/file/"],
    [FILE, "/file.html", "/file.html", "/file/"],
    [FILE, "/file/", "/file.html", "/file/"],
    [FILE, "/file/index", "/file.html", "/file/"],
    [FILE, "/file/index.html", "/file.html", "/file/"],
    [FOLDER, "/folder", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder.html", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/index", "/folder/index.html", "/folder/"],
    [FOLDER, "/folder/index.html", "/folder/index.html", "/folder/"],
    [BIN, "/bin", "/bin/index.html", "/bin/"],
    [BIN, "/bin%2F", "/bin/index.html", "/bin/"],
    [BIN, "/bin%252F", "/bin%2F", "/bin%252F"],
    [FILE_BIN, "/file-bin", "/file-bin", "/file-bin"],
    [FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin/"],
    [FILE_BIN, "/file-bin/", "/file-bin.html", "/file-bin/"],
    [FILE_BIN, "/file-bin/index", "/file-bin.html", "/file-bin/"],
    [FILE_BIN, "/file-bin/index.html", "/file-bin.html", "/file-bin/"],
    [FILE, "/nope", null, "/nope"],
  ],
  none: [
    [INDEX, "/index.html", "/index.html", "/index.html"],
    [INDEX, "/", null, "/"],
    [INDEX, "/index", null, "/index"],
    [BOTH, "/both.html", "/both.html", "/both.html"],
    [BOTH, "/both", null, "/both"],
    [BOTH, "/both/", null, "/both/"],
    [BOTH, "/both/index.html", "/both/index.html", "/both/index.html"],
    [FILE, "/file", null, "/file"],
    [FOLDER, "/folder/", null, "/folder/"],
    [BIN, "/bin%252F", "/bin%2F", "/bin%252F"],
    [FILE_BIN, "/file-bin", "/file-bin", "/file-bin"],
    [FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"],
  ],
};

describe("html_handling", () => {
  for (const [mode, rows] of Object.entries(TABLE) as [HtmlHandling, Row[]][]) {
    describe(mode, () => {
      for (const [files, request, served, finalPath] of rows) {
        it(`${request} with ${files.join(", ")} → ${served ?? "nothing"} at ${finalPath}`, async ({ expect }) => {
          const site = { files, config: { html_handling: mode } };
          const result = await browse(site, request);
          expect({ served: result.served, finalPath: result.finalPath }).toEqual({ served, finalPath });
          // One redirect at most, and only when the path changes.
          expect(result.hops).toBe(request === finalPath ? 0 : 1);
          const first = await visit(site, request);
          if (first.kind === "redirect") {
            expect(first.status).toBe(307);
          }
        });
      }
    });
  }

  it("keeps the query string on redirects", async ({ expect }) => {
    expect(await visit({ files: FILE }, "/file.html?a=1&b=2")).toEqual({
      kind: "redirect",
      location: "/file?a=1&b=2",
      status: 307,
      rule: false,
    });
  });

  it("never loops, whatever the layout", async ({ expect }) => {
    const layouts = [INDEX, BOTH, FILE, FOLDER, BIN, FILE_BIN, ["/a", "/a.html", "/a/index.html", "/a/index"]];
    const paths = [
      "/",
      "/index",
      "/index.html",
      "/a",
      "/a/",
      "/a.html",
      "/a/index",
      "/a/index.html",
      "/both/",
      "/file/",
      "/x/",
    ];
    for (const mode of Object.keys(TABLE) as HtmlHandling[]) {
      for (const files of layouts) {
        for (const path of paths) {
          await expect(browse({ files, config: { html_handling: mode } }, path)).resolves.toBeDefined();
        }
      }
    }
  });
});

describe("path encoding", () => {
  const files = ["/beep?boop.html", "/café/menu.html", "/a b.txt", "/[id].js"];

  it("serves a file at its canonical encoded path and redirects other encodings there", async ({ expect }) => {
    expect(await browse({ files }, "/beep%3Fboop")).toMatchObject({
      served: "/beep?boop.html",
      finalPath: "/beep%3Fboop",
      hops: 0,
    });
    expect(await browse({ files }, "/caf%C3%A9/menu")).toMatchObject({ served: "/café/menu.html", hops: 0 });
    expect(await browse({ files }, "/a%20b.txt")).toMatchObject({ served: "/a b.txt", hops: 0 });
    expect(await visit({ files }, "/[id].js")).toEqual({
      kind: "redirect",
      location: "/%5Bid%5D.js",
      status: 307,
      rule: false,
    });
    expect(await browse({ files }, "/%5Bid%5D.js")).toMatchObject({ served: "/[id].js", hops: 0 });
  });

  it("cannot be used to reach outside the version's files, and never throws", async ({ expect }) => {
    const site = { files: ["/index.html", "/secret/../x", "/a/b.txt"] };
    for (const path of [
      "/a%2Fb.txt",
      "/..%2Fsecret",
      "/%2e%2e/etc/passwd",
      "/a/b.txt%00",
      "/%00",
      "/%",
      "/%zz",
      "/%E0%A4%A",
      "/a%2F..%2Fb.txt",
      "//evil.example/",
      "/%2F%2Fevil.example/",
    ]) {
      const intent = await visit(site, path);
      if (intent.kind === "redirect") {
        // Redirects stay on this site.
        expect(intent.location, path).toMatch(/^\/(?!\/)/);
      }
      if (intent.kind === "asset") {
        expect(site.files, path).toContain(intent.file);
      }
    }
  });
});

describe("not_found_handling", () => {
  it("single-page-application serves /index.html with 200 for any unmatched path", async ({ expect }) => {
    const site = {
      files: ["/index.html", "/app.js"],
      config: { not_found_handling: "single-page-application" as const },
    };
    expect(await visit(site, "/settings/profile")).toEqual({ kind: "asset", file: "/index.html", status: 200 });
    expect(await visit(site, "/api/data.json")).toEqual({ kind: "asset", file: "/index.html", status: 200 });
    expect(await visit(site, "/app.js")).toEqual({ kind: "asset", file: "/app.js", status: 200 });
  });

  it("differs from worker-bundler: Workers Static Assets ignores Accept for the SPA fallback", async ({ expect }) => {
    const manifest = new Map<string, AssetMetadata>([["/index.html", { contentType: "text/html", etag: "x" }]]);
    const storage = { get: async () => "" };
    const request = new Request("https://site.test/data.json", { headers: { accept: "application/json" } });
    // worker-bundler falls through for a request that does not accept HTML...
    expect(
      await handleAssetRequest(request, manifest, storage, { not_found_handling: "single-page-application" }),
    ).toBeNull();
    // ...Workers Static Assets (and r2-assets) serve the app shell anyway.
    const site = { files: ["/index.html"], config: { not_found_handling: "single-page-application" as const } };
    expect(await visit(site, "/data.json")).toEqual({ kind: "asset", file: "/index.html", status: 200 });
  });

  it("404-page serves the nearest 404.html up the path, with status 404", async ({ expect }) => {
    const site = {
      files: ["/404.html", "/blog/404.html", "/blog/post.html"],
      config: { not_found_handling: "404-page" as const },
    };
    expect(await visit(site, "/blog/missing/deep/page")).toEqual({
      kind: "asset",
      file: "/blog/404.html",
      status: 404,
    });
    expect(await visit(site, "/blog/missing")).toEqual({ kind: "asset", file: "/blog/404.html", status: 404 });
    expect(await visit(site, "/other/missing")).toEqual({ kind: "asset", file: "/404.html", status: 404 });
    expect(await visit(site, "/blog/post")).toEqual({ kind: "asset", file: "/blog/post.html", status: 200 });
    expect(await visit({ ...site, files: ["/blog/post.html"] }, "/x")).toEqual({ kind: "none", rewritten: false });
  });

  it("none leaves unmatched requests unmatched", async ({ expect }) => {
    expect(await visit({ files: ["/index.html", "/404.html"] }, "/missing")).toEqual({
      kind: "none",
      rewritten: false,
    });
  });
});

describe("the files a decision looks at", () => {
  const pool = [
    "/index.html",
    "/404.html",
    "/a",
    "/a.html",
    "/a/index.html",
    "/a/index",
    "/a/404.html",
    "/a/b.html",
    "/a/b/index.html",
    "/a/b",
    "/b.html",
    "/b/index.html",
    "/c/index.html",
    "/index",
    "/a/b/c.html",
  ];
  const paths = [
    "/",
    "/index",
    "/index.html",
    "/a",
    "/a/",
    "/a.html",
    "/a/index",
    "/a/index.html",
    "/a/b",
    "/a/b/",
    "/a/b.html",
    "/a/b/index",
    "/a/b/index.html",
    "/a/b/c",
    "/b",
    "/b/",
    "/c",
    "/c.html",
    "/x/y/z",
    "/a/x/",
  ];
  const modes = Object.keys(TABLE) as HtmlHandling[];
  const notFoundModes = ["none", "single-page-application", "404-page"] as const;

  it("are always among candidatePaths, whatever the files", ({ expect }) => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 300; round += 1) {
      const files = new Set(pool.filter(() => next() < 0.4));
      for (const html of modes) {
        for (const notFound of notFoundModes) {
          for (const path of paths) {
            const probed = new Set<string>();
            htmlIntent(path, { html, notFound }, (p) => {
              probed.add(p);
              return files.has(p) ? `hash of ${p}` : null;
            });
            const candidates = new Set(candidatePaths(path, [{ html, notFound }]));
            for (const p of probed) {
              expect(candidates.has(p), `${html}/${notFound} ${path} probed ${p} with ${[...files].join(",")}`).toBe(
                true,
              );
            }
          }
        }
      }
    }
  });

  it("agree with handleAssetRequest of @cloudflare/worker-bundler, which they reimplement for the serving Worker", async ({
    expect,
  }) => {
    let seed = 11;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 60; round += 1) {
      const files = pool.filter(() => next() < 0.4);
      for (const html of modes) {
        for (const notFound of notFoundModes) {
          const site = { files, config: { html_handling: html, not_found_handling: notFound } };
          for (const path of paths) {
            const ours = await visit(site, path);
            const theirs = await oracle(files, html, notFound, path);
            expect(ours, `${html}/${notFound} ${path} with ${files.join(",")}`).toEqual(theirs);
          }
        }
      }
    }
  });
});

/** What handleAssetRequest decides, in this module's terms. */
async function oracle(
  files: string[],
  html: HtmlHandling,
  notFound: "none" | "single-page-application" | "404-page",
  path: string,
): Promise<Intent> {
  const manifest = new Map<string, AssetMetadata>(
    files.map((file) => [file, { contentType: undefined, etag: `hash of ${file}` }]),
  );
  let served: string | null = null;
  const storage = {
    get(p: string): Promise<string> {
      served = p;
      return Promise.resolve("");
    },
  };
  const request = new Request(`https://site.test${path}`, { headers: { accept: "text/html" } });
  const response = await handleAssetRequest(request, manifest, storage, {
    html_handling: html,
    not_found_handling: notFound,
  });
  if (!response) {
    return { kind: "none", rewritten: false };
  }
  const location = response.headers.get("location");
  if (location !== null) {
    return { kind: "redirect", location, status: 307, rule: false };
  }
  return { kind: "asset", file: served ?? "?", status: response.status as 200 | 404 };
}

describe("who answers, with server code (#11)", () => {
  // Each expectation names the file of cloudflare/workers-sdk it follows
  // (packages/workers-shared/…).
  const files = ["/index.html", "/404.html", "/about.html", "/api/docs/index.html"];
  const NEW: ServerCompatibility = { compatibilityDate: "2026-11-01", compatibilityFlags: [] };
  const OLD: ServerCompatibility = { compatibilityDate: "2025-03-31", compatibilityFlags: [] };
  /** "server", the file served, or 404. */
  type Expect = string | 404;
  const rows: [Partial<ServingConfig>, ServerCompatibility, string, boolean, Expect, string][] = [
    [
      { run_worker_first: true },
      NEW,
      "/about",
      false,
      "server",
      "router-worker/src/worker.ts: invoke_user_worker_ahead_of_assets",
    ],
    [{}, NEW, "/about", false, "/about.html", "router-worker/src/worker.ts: unstable_canFetch finds the asset"],
    [{}, NEW, "/missing", false, "server", "router-worker/src/worker.ts: no asset, has_user_worker"],
    // run_worker_first as a list turns on static routing.
    [
      { run_worker_first: ["/api/*"], not_found_handling: "single-page-application" },
      NEW,
      "/api/x",
      false,
      "server",
      "router-worker/src/worker.ts: static_routing.user_worker",
    ],
    [
      { run_worker_first: ["/api/*", "!/api/docs/*"] },
      NEW,
      "/api/docs/missing",
      false,
      404,
      "router-worker/src/worker.ts: static_routing.asset_worker",
    ],
    [
      { run_worker_first: ["/api/*", "!/api/docs/*"], not_found_handling: "404-page" },
      NEW,
      "/api/docs/x",
      false,
      "/404.html",
      "router-worker/src/worker.ts: static_routing.asset_worker",
    ],
    [
      { run_worker_first: ["/api/*"], not_found_handling: "single-page-application" },
      NEW,
      "/missing.js",
      false,
      "/index.html",
      "asset-worker/src/handler.ts: canFetch keeps not_found_handling with has_static_routing",
    ],
    [
      { run_worker_first: ["/api/*"], not_found_handling: "404-page" },
      NEW,
      "/missing",
      false,
      "/404.html",
      "asset-worker/src/handler.ts: canFetch keeps not_found_handling with has_static_routing",
    ],
    [
      { run_worker_first: ["/api/*"] },
      NEW,
      "/missing",
      false,
      "server",
      "router-worker/src/worker.ts: canFetch false, has_user_worker",
    ],
    // Navigation requests prefer assets, from compatibility date 2025-04-01.
    [
      { not_found_handling: "single-page-application" },
      NEW,
      "/dashboard",
      false,
      "server",
      "asset-worker/src/handler.ts: canFetch drops not_found_handling",
    ],
    [
      { not_found_handling: "single-page-application" },
      NEW,
      "/dashboard",
      true,
      "/index.html",
      "asset-worker/src/compatibility-flags.ts: onByDefaultAfter 2025-04-01",
    ],
    [
      { not_found_handling: "404-page" },
      NEW,
      "/dashboard",
      true,
      "/404.html",
      "asset-worker/src/handler.ts: canFetch, whatever the mode",
    ],
    [
      { not_found_handling: "single-page-application" },
      OLD,
      "/dashboard",
      true,
      "server",
      "asset-worker/src/compatibility-flags.ts: before 2025-04-01",
    ],
    [
      { not_found_handling: "single-page-application" },
      { ...OLD, compatibilityFlags: ["assets_navigation_prefers_asset_serving"] },
      "/dashboard",
      true,
      "/index.html",
      "asset-worker/src/compatibility-flags.ts: enable flag",
    ],
    [
      { not_found_handling: "single-page-application" },
      { ...NEW, compatibilityFlags: ["assets_navigation_has_no_effect"] },
      "/dashboard",
      true,
      "server",
      "asset-worker/src/compatibility-flags.ts: disable flag",
    ],
  ];
  for (const [config, server, path, navigate, expected, source] of rows) {
    it(`${JSON.stringify(config)} ${server.compatibilityDate}${server.compatibilityFlags.length ? ` ${server.compatibilityFlags.join()}` : ""} ${navigate ? "navigate " : ""}${path} → ${expected} (${source})`, ({
      expect,
    }) => {
      const set = new Set(files);
      const decision = routeRequest(
        new URL(`https://site.test${path}`),
        compiled({ files, config }),
        (p) => (set.has(p) ? p : null),
        { server, navigate },
      );
      const answer =
        decision.kind === "server"
          ? "server"
          : decision.intent.kind === "asset"
            ? decision.intent.file
            : decision.intent.kind === "none"
              ? 404
              : decision.intent.location;
      expect(answer).toBe(expected);
    });
  }
});
