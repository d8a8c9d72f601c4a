/**
 * Precompressed delivery (#24): each file's variants are served by
 * Accept-Encoding, with Vary, an ETag of their own, their own length and
 * conditional requests per representation; ranges are of identity; HEAD
 * matches GET. Real local R2 and Durable Objects.
 */
import { beforeAll, describe, it } from "vitest";
import { api, contentHash, createProject, deploy, site, uniqueProject } from "./helpers.ts";

const TEXT = "The quick brown fox jumps over the lazy dog. ".repeat(200);

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

let project: string;
let gzipped: Uint8Array;
/** TEXT compressed by Node (workerd cannot make brotli or zstd). */
const BR = Uint8Array.from(
  atob("GycjiCwOeNPQlV2XELsXK6nK0JLMjK1BXObyNsgZnp4Ke4MNOHBIIG80uEGnFc4cHieqKTjCqdUA2KfB"),
  (c) => c.charCodeAt(0),
);
const ZSTD = Uint8Array.from(
  atob("KLUv/WAoIrUBANQCVGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4gAQDFF5BXZQ=="),
  (c) => c.charCodeAt(0),
);
const hashes: Record<string, string> = {};

beforeAll(async () => {
  project = uniqueProject("enc");
  await createProject(project);
  gzipped = await gzip(TEXT);
  await deploy(
    project,
    { "/page.txt": TEXT, "/plain.txt": "no variants here" },
    { encodings: { "/page.txt": { br: BR, gzip: gzipped, zstd: ZSTD } } },
  );
  hashes.identity = await contentHash(new TextEncoder().encode(TEXT));
  hashes.br = await contentHash(BR);
  hashes.gzip = await contentHash(gzipped);
  hashes.zstd = await contentHash(ZSTD);
});

const get = (path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> =>
  site(project, path, { method, headers });

describe("precompressed variants", () => {
  it("are chosen by Accept-Encoding, each with its own ETag and length, and Vary on every answer", async ({
    expect,
  }) => {
    for (const [accept, coding] of [
      [undefined, "identity"],
      ["br, gzip", "br"],
      ["gzip, deflate, br, zstd", "br"],
      ["gzip", "gzip"],
      ["zstd, gzip;q=0.5", "zstd"],
      ["deflate", "identity"],
    ] as const) {
      const res = await get("/page.txt", accept === undefined ? {} : { "accept-encoding": accept });
      expect([accept, res.status, res.headers.get("content-encoding"), res.headers.get("etag")]).toEqual([
        accept,
        200,
        coding === "identity" ? null : coding,
        `"${hashes[coding]}"`,
      ]);
      expect(res.headers.get("vary")).toBe("Accept-Encoding");
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      // The length of the bytes sent; the runtime decodes brotli and gzip as it reads them.
      const sent = { identity: TEXT.length, br: BR.length, gzip: gzipped.length, zstd: ZSTD.length }[coding];
      expect(res.headers.get("content-length")).toBe(String(sent));
      const body = new Uint8Array(await res.arrayBuffer());
      expect(coding === "zstd" ? body : new TextDecoder().decode(body)).toEqual(coding === "zstd" ? ZSTD : TEXT);
    }
    // A file without variants is not said to vary.
    const plain = await get("/plain.txt", { "accept-encoding": "br" });
    expect([plain.headers.get("content-encoding"), plain.headers.get("vary")]).toEqual([null, null]);
  });

  it("answer conditional requests per representation, and HEAD as GET", async ({ expect }) => {
    const br = { "accept-encoding": "br" };
    expect((await get("/page.txt", { ...br, "if-none-match": `"${hashes.br}"` })).status).toBe(304);
    // The identity ETag does not match the brotli representation, nor the other way round.
    expect((await get("/page.txt", { ...br, "if-none-match": `"${hashes.identity}"` })).status).toBe(200);
    expect((await get("/page.txt", { "if-none-match": `"${hashes.br}"` })).status).toBe(200);
    const notModified = await get("/page.txt", { "accept-encoding": "gzip", "if-none-match": `"${hashes.gzip}"` });
    expect([notModified.status, notModified.headers.get("etag"), notModified.headers.get("vary")]).toEqual([
      304,
      `"${hashes.gzip}"`,
      "Accept-Encoding",
    ]);
    const head = await get("/page.txt", br, "HEAD");
    expect([head.status, head.headers.get("content-encoding"), head.headers.get("content-length")]).toEqual([
      200,
      "br",
      String(BR.length),
    ]);
    expect(await head.text()).toBe("");
  });

  it("answer a range from identity, marked so that nothing on the way compresses it", async ({ expect }) => {
    const res = await get("/page.txt", { "accept-encoding": "br", range: "bytes=0-99" });
    expect([
      res.status,
      res.headers.get("content-range"),
      res.headers.get("content-encoding"),
      res.headers.get("vary"),
      await res.text(),
    ]).toEqual([206, `bytes 0-99/${TEXT.length}`, "identity", "Accept-Encoding", TEXT.slice(0, 100)]);
  });

  it("answer 406 when identity is refused and no stored coding is accepted", async ({ expect }) => {
    const res = await get("/page.txt", { "accept-encoding": "identity;q=0, deflate" });
    expect([res.status, res.headers.get("vary")]).toEqual([406, "Accept-Encoding"]);
    expect((await get("/page.txt", { "accept-encoding": "identity;q=0, gzip" })).status).toBe(200);
  });

  it("are refused when they name an unknown coding or are not smaller, naming the field", async ({ expect }) => {
    const started = await (
      await api("POST", `/api/projects/${project}/deploys`, { body: {} })
    ).json<{ version: string }>();
    const hash = "a".repeat(64);
    for (const [encodings, field] of [
      [{ deflate: { hash, size: 1 } }, 'files["/x.txt"].encodings.deflate'],
      [{ br: { hash, size: 100 } }, 'files["/x.txt"].encodings.br.size'],
      [{ br: { hash: "nope", size: 1 } }, 'files["/x.txt"].encodings.br.hash'],
      [["br"], 'files["/x.txt"].encodings'],
    ] as const) {
      const res = await api("POST", `/api/projects/${project}/deploys/${started.version}/files`, {
        body: { files: { "/x.txt": { hash, size: 100, encodings } } },
      });
      expect([res.status, (await res.json<{ error: { field: string } }>()).error.field]).toEqual([400, field]);
    }
  });
});
