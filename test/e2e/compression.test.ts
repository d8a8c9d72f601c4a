/**
 * Precompressed delivery end to end (#24): the real CLI compresses a site's
 * text files at deploy (brotli 11, gzip 9, zstd 19; brotli 6 alone under
 * 16 KiB), an unchanged redeploy
 * compresses nothing, and what a client receives under `wrangler dev`, with
 * each Accept-Encoding and without, decodes to the deployed bytes; a page
 * in Chromium gets brotli.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as zlib from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { BEST_FROM_BYTES } from "../../src/cli/compress.ts";
import { launchChromium, ROOT, startPlatform, writeSite, type Platform } from "./platform.ts";

let platform: Platform;
let browser: Browser;
let site: Record<string, string | Buffer>;
let dir: string;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchChromium();
  // Real text: this repository's README and the console's script and style sheet.
  site = {
    "index.html": `<!doctype html><link rel=stylesheet href=/style.css><h1>Compressed</h1><script src=/app.js></script>${"<p>text</p>".repeat(200)}`,
    "readme.txt": await readFile(join(ROOT, "README.md")),
    "app.js": await readFile(join(ROOT, "src/console/console.js")),
    "style.css": await readFile(join(ROOT, "src/console/console.css")),
    "tiny.txt": "too small to pay",
    "image.png": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
  };
  dir = await writeSite(site);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

interface Deployed {
  version: string;
  files: number;
  bytes: number;
  compressedFiles: number;
  compressedBytes: number;
  uploaded: number;
}

async function deploy(args: string[] = []): Promise<{ result: Deployed; stderr: string }> {
  const run = await platform.cli(["deploy", dir, "--project", "zipped", "--json", ...args]);
  if (run.code !== 0) {
    throw new Error(run.stderr);
  }
  return { result: JSON.parse(run.stdout) as Deployed, stderr: run.stderr };
}

const decoders: Record<string, (bytes: Buffer) => Buffer> = {
  br: zlib.brotliDecompressSync,
  gzip: zlib.gunzipSync,
  zstd: (bytes) => (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync(bytes),
};

describe("precompressed delivery", () => {
  it("compresses the text files at deploy, and each coding a client asks for decodes to the file", async ({
    expect,
  }) => {
    const { result } = await deploy();
    // index.html, readme.txt, app.js and style.css; not the tiny file nor the image.
    expect(result.compressedFiles).toBe(4);
    expect(result.compressedBytes).toBeGreaterThan(0);
    for (const path of ["index.html", "readme.txt", "app.js", "style.css"]) {
      const original = Buffer.from(site[path] as string | Buffer);
      const url = path === "index.html" ? "/" : `/${path}`;
      const sizes: Record<string, number> = {};
      // Files under BEST_FROM_BYTES get brotli alone (every browser takes it);
      // a gzip-only client gets the identity answer, which the runtime
      // compresses on the fly (below).
      const small = original.length < BEST_FROM_BYTES;
      for (const coding of small ? ["br"] : ["br", "gzip", "zstd"]) {
        const res = await platform.request("zipped", url, { headers: { "accept-encoding": coding } });
        expect([path, coding, res.status, res.headers["content-encoding"], res.headers.vary]).toEqual([
          path,
          coding,
          200,
          coding,
          "Accept-Encoding",
        ]);
        // wrangler dev streams HTML (chunked); everything else says its length.
        if (path !== "index.html") {
          expect(Number(res.headers["content-length"])).toBe(res.body.length);
        }
        expect(decoders[coding]?.(res.body).equals(original), `${path} ${coding}`).toBe(true);
        sizes[coding] = res.body.length;
      }
      // Brotli 11 beats what the runtime makes on the fly at quality 5 by
      // ~10%; a small file's brotli 6 makes about the bytes of quality 5.
      const quality5 = zlib.brotliCompressSync(original, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
      expect(sizes.br).toBeLessThan(quality5.length * (original.length >= BEST_FROM_BYTES ? 0.95 : 1.01));
      if (small) {
        const gzipOnly = await platform.request("zipped", url, { headers: { "accept-encoding": "gzip" } });
        const { status, headers } = gzipOnly;
        expect([path, status, headers.vary, headers["content-encoding"]]).toEqual([
          path,
          200,
          "Accept-Encoding",
          "gzip",
        ]);
        expect(zlib.gunzipSync(gzipOnly.body).equals(original), `${path} gzip only`).toBe(true);
      }
      const plain = await platform.request("zipped", url);
      expect([plain.headers["content-encoding"], plain.body.equals(original)]).toEqual([undefined, true]);
    }
    // A range is of identity, whatever the client accepts: nothing compresses it on the way.
    const range = await platform.request("zipped", "/readme.txt", {
      headers: { "accept-encoding": "br, gzip", range: "bytes=100-199" },
    });
    expect([range.status, range.body.equals(Buffer.from(site["readme.txt"] as Buffer).subarray(100, 200))]).toEqual([
      206,
      true,
    ]);
  });

  it("compresses nothing again when nothing changed, and nothing at all with --no-compress", async ({ expect }) => {
    const again = await deploy();
    expect(again.result).toMatchObject({ compressedFiles: 4, uploaded: 0 });
    // Remembered variants uploaded to a project that lacks them.
    const other = await platform.cli(["deploy", dir, "--project", "zipped-other", "--json"]);
    expect(other.code, other.stderr).toBe(0);
    // Six files; three variants of each of the two large ones, one of each small one.
    expect(JSON.parse(other.stdout)).toMatchObject({ compressedFiles: 4, uploaded: 6 + 2 * 3 + 2 });
    const otherBr = await platform.request("zipped-other", "/readme.txt", { headers: { "accept-encoding": "br" } });
    expect(zlib.brotliDecompressSync(otherBr.body).equals(Buffer.from(site["readme.txt"] as Buffer))).toBe(true);
    const told = await platform.cli(["deploy", dir, "--project", "zipped"]);
    expect(told.stderr).toMatch(/^Compressed nothing new; 4 file\(s\) unchanged since compressed$/m);
    // Without the hash cache, variants live in a directory of the run's own until they are uploaded.
    const fresh = await platform.cli(["deploy", dir, "--project", "zipped-fresh", "--no-cache", "--json"]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ compressedFiles: 4, uploaded: 6 + 2 * 3 + 2 });
    const none = await deploy(["--no-compress"]);
    expect(none.result).toMatchObject({ compressedFiles: 0, compressedBytes: 0 });
    const res = await platform.request("zipped", "/readme.txt", { headers: { "accept-encoding": "zstd" } });
    expect([res.headers.vary, res.headers["content-encoding"]]).toEqual([undefined, undefined]);
    await deploy();
  });

  it("lists each file's variant with it, whichever of a deploy's many manifest pages it falls in", async ({
    expect,
  }) => {
    // 1,100 small text files: compressed as they are hashed, in pages of at most 500.
    const many: Record<string, string> = {};
    for (let i = 0; i < 1100; i += 1) {
      many[`notes/${i}.txt`] = `note ${i}: ${"the quick brown fox jumps over the lazy dog ".repeat(30)}`;
    }
    const manyDir = await writeSite(many);
    const run = await platform.cli(["deploy", manyDir, "--project", "zipped-many", "--no-cache", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ files: 1100, compressedFiles: 1100, uploaded: 2200 });
    for (const i of [0, 499, 500, 999, 1000, 1099]) {
      const res = await platform.request("zipped-many", `/notes/${i}.txt`, { headers: { "accept-encoding": "br" } });
      expect([i, res.status, res.headers["content-encoding"]]).toEqual([i, 200, "br"]);
      expect(zlib.brotliDecompressSync(res.body).toString()).toBe(many[`notes/${i}.txt`]);
    }
  });

  it("serves a page to Chromium in brotli", async ({ expect }) => {
    const page = await browser.newPage();
    try {
      // wrangler dev re-encodes to the first coding a client lists (Chromium lists gzip first);
      // Cloudflare's front line prefers brotli, as a browser that lists it first gets here.
      await page.setExtraHTTPHeaders({ "accept-encoding": "br, gzip" });
      const response = await page.goto(`http://zipped.localhost:${platform.port}/`);
      const headers = (await response?.allHeaders()) ?? {};
      expect([response?.status(), headers["content-encoding"]]).toEqual([200, "br"]);
      expect(await page.textContent("h1")).toBe("Compressed");
      const style = await page.evaluate(async () => {
        const entry = performance.getEntriesByName(
          new URL("/style.css", location.href).href,
        )[0] as PerformanceResourceTiming;
        return { encoded: entry.encodedBodySize, decoded: entry.decodedBodySize };
      });
      expect(style.encoded).toBeLessThan(style.decoded);
    } finally {
      await page.close();
    }
  });
});
