/**
 * The deploy flow through the real API: manifest pages, uploads of missing
 * blobs only, verification of uploaded bodies, finalization and serving.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import {
  api,
  apiJson,
  batchBody,
  bytesOf,
  contentHash,
  createProject,
  deploy,
  sameBytes,
  site,
  uniqueProject,
} from "./helpers.ts";

const SITE = {
  "/index.html": "<h1>home</h1>",
  "/about/index.html": "<h1>about</h1>",
  "/css/site.css": "body { color: red }",
  "/data.bin": new Uint8Array([0, 1, 2, 3, 255]),
  "/empty.txt": "",
};

describe("deploying a site", () => {
  it("uploads each blob once, serves every byte, and names the version", async ({ expect }) => {
    const project = uniqueProject("deploy");
    await createProject(project);
    const v1 = await deploy(project, { ...SITE, "/copy.css": SITE["/css/site.css"] });
    // Six paths, five distinct contents.
    expect(v1.uploaded).toBe(5);
    expect(v1.active).toBe(true);

    for (const [path, content] of Object.entries(SITE)) {
      const res = await site(project, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("x-r2-assets-version")).toBe(v1.version);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytesOf(content));
      expect(res.headers.get("etag")).toBe(`"${await contentHash(bytesOf(content))}"`);
    }
    const css = await site(project, "/css/site.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("content-length")).toBe(String(SITE["/css/site.css"].length));
  });

  it("uploads only what changed in the next version", async ({ expect }) => {
    const project = uniqueProject("delta");
    await createProject(project);
    const v1 = await deploy(project, SITE);
    const v2 = await deploy(project, { ...SITE, "/index.html": "<h1>home v2</h1>" });
    expect(v2.uploaded).toBe(1);
    expect(v2.version > v1.version).toBe(true);
    expect(await (await site(project, "/index.html")).text()).toBe("<h1>home v2</h1>");
  });

  it("stores content in R2 under the project's content-addressed key", async ({ expect }) => {
    const project = uniqueProject("keys");
    await createProject(project);
    await deploy(project, { "/a.txt": "shared content" });
    const hash = await contentHash(bytesOf("shared content"));
    const object = await env.BLOBS.head(`projects/${project}/blobs/${hash}`);
    expect(object?.size).toBe("shared content".length);
  });

  it("refuses to finalize until every listed blob is uploaded, naming the missing ones", async ({ expect }) => {
    const project = uniqueProject("missing");
    await createProject(project);
    const staged = await deploy(project, { "/a.txt": "aaa", "/b.txt": "bbb" }, { finalize: false });
    const base = `/api/projects/${project}/deploys/${staged.version}`;
    // Forget what was uploaded: start another deploy that lists a new file but uploads nothing.
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const hash = await contentHash(bytesOf("never uploaded"));
    await apiJson("POST", `/api/projects/${project}/deploys/${version}/files`, {
      body: { files: { "/a.txt": { hash: staged.missing[0], size: 3 }, "/c.txt": { hash, size: 14 } } },
    });
    const res = await api("POST", `/api/projects/${project}/deploys/${version}/finalize`);
    expect(res.status).toBe(409);
    const body = await res.json<{ error: { code: string; missing: string[] } }>();
    expect(body.error.code).toBe("blobs_missing");
    expect(body.error.missing).toEqual([hash]);
    // The first deploy had everything uploaded and finalizes fine.
    expect((await api("POST", `${base}/finalize`)).status).toBe(200);
  });

  it("refuses to finalize a file listed at another size than its content, once that content is uploaded", async ({
    expect,
  }) => {
    const project = uniqueProject("wrong-size");
    await createProject(project);
    const bytes = bytesOf("twelve bytes");
    const hash = await contentHash(bytes);
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const base = `/api/projects/${project}/deploys/${version}`;
    // Listed before the content is stored, the size cannot be checked yet.
    await apiJson("POST", `${base}/files`, { body: { files: { "/a.txt": { hash, size: 11 } } } });
    expect((await api("PUT", `/api/projects/${project}/blobs/${hash}`, { body: bytes })).status).toBe(201);
    const res = await api("POST", `${base}/finalize`);
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; field: string; message: string } }>();
    expect(body.error).toMatchObject({ code: "bad_request", field: 'files["/a.txt"].size' });
    expect(body.error.message).toContain("the content is 12 bytes, not 11");
  });

  it("finalizing twice is idempotent, and a finalized version is immutable", async ({ expect }) => {
    const project = uniqueProject("idem");
    await createProject(project);
    const v1 = await deploy(project, { "/a.txt": "one" });
    const v2 = await deploy(project, { "/a.txt": "two" });
    const again = await apiJson<{ version: string; active: boolean }>(
      "POST",
      `/api/projects/${project}/deploys/${v1.version}/finalize`,
    );
    expect(again).toMatchObject({ version: v1.version, active: false });
    expect(await (await site(project, "/a.txt")).text()).toBe("two");
    expect(v2.active).toBe(true);
    const res = await api("POST", `/api/projects/${project}/deploys/${v1.version}/files`, {
      body: { files: { "/b.txt": { hash: "0".repeat(64), size: 1 } } },
    });
    expect(res.status).toBe(409);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe("version_immutable");
  });

  it("accepts a manifest page sent twice, but not a path listed with other content", async ({ expect }) => {
    const project = uniqueProject("pages");
    await createProject(project);
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const path = `/api/projects/${project}/deploys/${version}/files`;
    const page = { files: { "/a.txt": { hash: "a".repeat(64), size: 1 } } };
    expect(await apiJson("POST", path, { body: page })).toEqual({ missing: ["a".repeat(64)], files: 1 });
    expect(await apiJson("POST", path, { body: page })).toEqual({ missing: ["a".repeat(64)], files: 1 });
    const res = await api("POST", path, { body: { files: { "/a.txt": { hash: "b".repeat(64), size: 1 } } } });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { field: string } }>()).error.field).toBe('files["/a.txt"]');
  });

  it("refuses stored content listed at another size, and counts a file once when its variants follow in a later page", async ({
    expect,
  }) => {
    const project = uniqueProject("page-sizes");
    await createProject(project);
    await deploy(project, { "/stored.txt": "stored" });
    const stored = await contentHash(bytesOf("stored"));
    const variant = bytesOf("abc");
    const variantHash = await contentHash(variant);
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const path = `/api/projects/${project}/deploys/${version}/files`;
    const res = await api("POST", path, { body: { files: { "/x.txt": { hash: stored, size: 7 } } } });
    expect(res.status).toBe(400);
    const error = (await res.json<{ error: { field: string; message: string } }>()).error;
    expect(error.field).toBe('files["/x.txt"].size');
    expect(error.message).toContain(`content ${stored} is 6 bytes, not 7`);
    // The refused page listed nothing.
    const file = { hash: stored, size: 6, contentType: "text/plain" };
    expect(await apiJson("POST", path, { body: { files: { "/a.txt": file } } })).toEqual({ missing: [], files: 1 });
    const later = { "/a.txt": { ...file, encodings: { br: { hash: variantHash, size: 3 } } } };
    expect(await apiJson("POST", path, { body: { files: later } })).toEqual({ missing: [variantHash], files: 1 });
    expect((await api("PUT", `/api/projects/${project}/blobs/${variantHash}`, { body: variant })).status).toBe(201);
    const done = await apiJson<{ files: number; bytes: number }>("POST", `${path.slice(0, -"/files".length)}/finalize`);
    expect(done).toMatchObject({ files: 1, bytes: 6 });
    const served = await site(project, "/a.txt", { headers: { "accept-encoding": "br" } });
    expect(served.headers.get("content-encoding")).toBe("br");
  });

  it("lists a page of many files at once: each absent blob named once, pages that overlap counted once", async ({
    expect,
  }) => {
    const project = uniqueProject("big-page");
    await createProject(project);
    await deploy(project, { "/stored.txt": "stored" });
    const stored = await contentHash(bytesOf("stored"));
    // 100 blobs of 100 bytes the platform lacks.
    const blobs = await Promise.all(
      Array.from({ length: 100 }, async (_, n) => {
        const bytes = bytesOf(String(n).padStart(100, "x"));
        return { hash: await contentHash(bytes), bytes };
      }),
    );
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const path = `/api/projects/${project}/deploys/${version}/files`;
    // Every tenth file is the stored blob; the others share the 100 absent ones.
    const entry = (i: number): [string, { hash: string; size: number }] => [
      `/f/${i}.txt`,
      i % 10 === 0 ? { hash: stored, size: 6 } : { hash: (blobs[i % 100] as { hash: string }).hash, size: 100 },
    ];
    const first = Array.from({ length: 1000 }, (_, i) => entry(i));
    const answer = await apiJson<{ missing: string[]; files: number }>("POST", path, {
      body: { files: Object.fromEntries(first) },
    });
    const absent = new Set(first.map(([, file]) => file.hash).filter((hash) => hash !== stored));
    expect(answer.files).toBe(1000);
    expect(answer.missing.toSorted()).toEqual([...absent].toSorted());
    // A second page repeating half of the first adds only its new files.
    const second = Array.from({ length: 1000 }, (_, i) => entry(i + 500));
    expect(
      (await apiJson<{ files: number }>("POST", path, { body: { files: Object.fromEntries(second) } })).files,
    ).toBe(1500);
    const missing = blobs.filter((blob) => absent.has(blob.hash));
    const batch = await api("POST", `/api/projects/${project}/blobs/batch`, { body: batchBody(missing) });
    expect(batch.status).toBe(200);
    await apiJson("POST", `${path.slice(0, -"/files".length)}/finalize`);
    const { versions } = await apiJson<{ versions: { version: string; files: number; bytes: number }[] }>(
      "GET",
      `/api/projects/${project}/versions`,
    );
    expect(versions.find((row) => row.version === version)).toMatchObject({ files: 1500, bytes: 150 * 6 + 1350 * 100 });
    const served = new Uint8Array(await (await site(project, "/f/1499.txt")).arrayBuffer());
    expect(sameBytes(served, bytesOf("99".padStart(100, "x")))).toBe(true);
  });

  it("rolls back a whole page when one entry is rejected", async ({ expect }) => {
    const project = uniqueProject("atomic-page");
    await createProject(project);
    await deploy(project, { "/x.txt": "12345" });
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const hash = await contentHash(bytesOf("12345"));
    const res = await api("POST", `/api/projects/${project}/deploys/${version}/files`, {
      body: { files: { "/ok.txt": { hash: "c".repeat(64), size: 3 }, "/x.txt": { hash, size: 6 } } },
    });
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { field: string } }>()).error.field).toBe('files["/x.txt"].size');
    const retry = await apiJson<{ files: number }>("POST", `/api/projects/${project}/deploys/${version}/files`, {
      body: { files: { "/ok.txt": { hash: "c".repeat(64), size: 3 } } },
    });
    expect(retry.files).toBe(1);
  });

  it("never stores a body that does not match its hash", async ({ expect }) => {
    const project = uniqueProject("verify");
    await createProject(project);
    const hash = await contentHash(bytesOf("the real content"));
    for (const body of ["the fake content", "the real conten", "the real content!"]) {
      const res = await api("PUT", `/api/projects/${project}/blobs/${hash}`, { body: bytesOf(body) });
      expect(res.status, body).toBe(400);
      expect((await res.json<{ error: { field: string } }>()).error.field).toBe("body");
    }
    expect(await env.BLOBS.head(`projects/${project}/blobs/${hash}`)).toBeNull();
    const ok = await api("PUT", `/api/projects/${project}/blobs/${hash}`, { body: bytesOf("the real content") });
    expect(ok.status).toBe(201);
  });

  it("verifies bodies of several blocks, streamed", async ({ expect }) => {
    const project = uniqueProject("blocks");
    await createProject(project);
    const big = new Uint8Array(9 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) {
      big[i] = (i / 4096) % 251;
    }
    const v = await deploy(project, { "/big.bin": big });
    expect(v.uploaded).toBe(1);
    const res = await site(project, "/big.bin");
    expect(sameBytes(new Uint8Array(await res.arrayBuffer()), big)).toBe(true);
    // One wrong byte in the second block of an upload to another project.
    const other = uniqueProject("blocks-bad");
    await createProject(other);
    const corrupted = big.slice();
    corrupted[5 * 1024 * 1024] = 7;
    const hash = await contentHash(big);
    const bad = await api("PUT", `/api/projects/${other}/blobs/${hash}`, { body: corrupted });
    expect(bad.status).toBe(400);
    expect(await env.BLOBS.head(`projects/${other}/blobs/${hash}`)).toBeNull();
  });

  it("lets concurrent deploys both finish; the last activation wins", async ({ expect }) => {
    const project = uniqueProject("concurrent");
    await createProject(project);
    const [a, b] = await Promise.all([
      deploy(project, { "/who.txt": "a" }, { finalize: false }),
      deploy(project, { "/who.txt": "b" }, { finalize: false }),
    ]);
    expect(a.version).not.toBe(b.version);
    await apiJson("POST", `/api/projects/${project}/deploys/${b.version}/finalize`);
    await apiJson("POST", `/api/projects/${project}/deploys/${a.version}/finalize`);
    expect(await (await site(project, "/who.txt")).text()).toBe("a");
    const { versions } = await apiJson<{ versions: { version: string }[] }>("GET", `/api/projects/${project}/versions`);
    expect(versions.map((v) => v.version).sort()).toEqual([a.version, b.version].sort());
  });

  it("keeps a --no-activate deploy off the live site", async ({ expect }) => {
    const project = uniqueProject("noactivate");
    await createProject(project);
    const v1 = await deploy(project, { "/a.txt": "live" });
    const v2 = await deploy(project, { "/a.txt": "staged" }, { activate: false });
    expect(v2.active).toBe(false);
    const res = await site(project, "/a.txt");
    expect(await res.text()).toBe("live");
    expect(res.headers.get("x-r2-assets-version")).toBe(v1.version);
  });
});

describe("a deploy that changes nothing", () => {
  it("makes no version and moves nothing, unless forced; any difference makes one", async ({ expect }) => {
    const project = uniqueProject("same");
    await createProject(project);
    const first = await deploy(project, SITE, { config: { not_found_handling: "404-page" } });
    const again = await deploy(project, SITE, { config: { not_found_handling: "404-page" }, force: false });
    expect(again).toMatchObject({ version: first.version, active: true, unchanged: true });
    const listed = async (): Promise<string[]> =>
      (await apiJson<{ versions: { version: string }[] }>("GET", `/api/projects/${project}/versions`)).versions.map(
        (v) => v.version,
      );
    expect(await listed()).toEqual([first.version]);
    const history = await apiJson<{ history: unknown[] }>("GET", `/api/projects/${project}/history`);
    expect(history.history).toHaveLength(1);
    // Another configuration, another file, or force: a new version.
    const config = await deploy(project, SITE, { config: {}, force: false });
    expect(config.unchanged).toBeUndefined();
    const file = await deploy(project, { ...SITE, "/new.txt": "new" }, { config: {}, force: false });
    expect(file.unchanged).toBeUndefined();
    const forced = await deploy(project, { ...SITE, "/new.txt": "new" }, { config: {}, force: true });
    expect(forced.unchanged).toBeUndefined();
    expect(await listed()).toEqual([forced.version, file.version, config.version, first.version]);
    // Staged (not activated) twice alike: the second repeats the newest version.
    const staged = await deploy(project, { "/x.txt": "x" }, { activate: false, force: false });
    const stagedAgain = await deploy(project, { "/x.txt": "x" }, { activate: false, force: false });
    expect(stagedAgain).toMatchObject({ version: staged.version, active: false, unchanged: true });
  });
});

describe("the API's index", () => {
  it("answers GET /api/ with its version and routes", async ({ expect }) => {
    for (const path of ["/api", "/api/"]) {
      const index = await apiJson<{ name: string; version: number; routes: string[] }>("GET", path, { token: null });
      expect(index).toMatchObject({ name: "r2-assets", version: 1 });
      expect(index.routes).toContain("POST /api/projects/:project/activate");
    }
  });
});
