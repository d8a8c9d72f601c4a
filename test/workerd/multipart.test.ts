/**
 * Multipart uploads of large blobs: parallel and out-of-order parts,
 * verification of each part and of the whole, resumption, expiry, and
 * garbage collection running alongside.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore } from "../../src/blob/r2-store.ts";
import { BlobLedger } from "../../src/manifest/blob-ledger.ts";
import { Db } from "../../src/storage/db.ts";
import { MultipartUploads } from "../../src/manifest/multipart.ts";
import { api, apiJson, contentHash, createProject, sameBytes, site, uniqueProject } from "./helpers.ts";

const MIB = 1024 * 1024;
const PART = 8 * MIB;

function blob(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) {
    bytes[i] = (i * 13 + seed + (i >>> 16)) & 0xff;
  }
  return bytes;
}

function part(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.subarray((n - 1) * PART, n * PART);
}

interface Session {
  hash: string;
  size: number;
  partSize: number;
  partCount: number;
  uploadedParts: number[];
  present: boolean;
}

async function start(project: string, hash: string, size: number): Promise<Session> {
  const res = await api("POST", `/api/projects/${project}/uploads`, { body: { hash, size, partSize: PART } });
  return res.json<Session>();
}

async function putPart(
  project: string,
  hash: string,
  n: number,
  bytes: Uint8Array,
  partHash?: string,
): Promise<Response> {
  return api("PUT", `/api/projects/${project}/uploads/${hash}/parts/${n}`, {
    body: bytes,
    headers: { "x-part-hash": partHash ?? (await contentHash(bytes)) },
  });
}

/** Lists `bytes` at `path` in a deploy, uploads nothing, and returns the deploy's version. */
async function stageFile(project: string, path: string, hash: string, size: number): Promise<string> {
  const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
  await apiJson("POST", `/api/projects/${project}/deploys/${version}/files`, {
    body: { files: { [path]: { hash, size } } },
  });
  return version;
}

describe("multipart uploads", () => {
  it("takes parallel, out-of-order parts and serves the result byte for byte", async ({ expect }) => {
    const project = uniqueProject("mpu");
    await createProject(project);
    const bytes = blob(2 * PART + 3 * MIB + 17, 1);
    const hash = await contentHash(bytes);
    const version = await stageFile(project, "/video.bin", hash, bytes.length);
    const session = await start(project, hash, bytes.length);
    expect(session).toMatchObject({ present: false, partCount: 3, uploadedParts: [] });
    const responses = await Promise.all([3, 1, 2].map((n) => putPart(project, hash, n, part(bytes, n))));
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(await apiJson("POST", `/api/projects/${project}/uploads/${hash}/complete`)).toEqual({
      hash,
      size: bytes.length,
      stored: true,
    });
    await apiJson("POST", `/api/projects/${project}/deploys/${version}/finalize`);
    const res = await site(project, "/video.bin");
    expect(sameBytes(new Uint8Array(await res.arrayBuffer()), bytes)).toBe(true);
    // The blob is stored now: starting again says so.
    expect(await start(project, hash, bytes.length)).toMatchObject({ present: true });
  });

  it("refuses a corrupted part, stores nothing of it, and stays resumable", async ({ expect }) => {
    const project = uniqueProject("mpu-corrupt");
    await createProject(project);
    const bytes = blob(PART + MIB, 2);
    const hash = await contentHash(bytes);
    await start(project, hash, bytes.length);
    const good = part(bytes, 1);
    const corrupted = good.slice();
    corrupted.set([(good[12345] ?? 0) ^ 0xff], 12345);
    const bad = await putPart(project, hash, 1, corrupted, await contentHash(good));
    expect(bad.status).toBe(400);
    expect((await bad.json<{ error: { field: string } }>()).error.field).toBe("body");
    expect((await apiJson<Session>("GET", `/api/projects/${project}/uploads/${hash}`)).uploadedParts).toEqual([]);
    // A wrongly sized part is refused before its body is read.
    expect((await putPart(project, hash, 2, bytes.subarray(0, 10))).status).toBe(400);
    expect((await putPart(project, hash, 1, good)).status).toBe(201);
    expect((await putPart(project, hash, 2, part(bytes, 2))).status).toBe(201);
    await apiJson("POST", `/api/projects/${project}/uploads/${hash}/complete`);
    const object = await env.BLOBS.get(`projects/${project}/blobs/${hash}`);
    expect(sameBytes(new Uint8Array((await object?.arrayBuffer()) ?? new ArrayBuffer(0)), bytes)).toBe(true);
  });

  it("aborts when the parts do not add up to the claimed hash, storing nothing", async ({ expect }) => {
    const project = uniqueProject("mpu-wrong");
    await createProject(project);
    const bytes = blob(PART + MIB, 3);
    const claimed = await contentHash(blob(PART + MIB, 4));
    await start(project, claimed, bytes.length);
    // Each part is valid on its own; together they are another file.
    expect((await putPart(project, claimed, 1, part(bytes, 1))).status).toBe(201);
    expect((await putPart(project, claimed, 2, part(bytes, 2))).status).toBe(201);
    const res = await api("POST", `/api/projects/${project}/uploads/${claimed}/complete`);
    expect(res.status).toBe(400);
    expect((await res.json<{ error: { message: string } }>()).error.message).toMatch(/aborted/);
    expect(await env.BLOBS.head(`projects/${project}/blobs/${claimed}`)).toBeNull();
    expect((await api("GET", `/api/projects/${project}/uploads/${claimed}`)).status).toBe(404);
  });

  it("refuses to complete before every part is there", async ({ expect }) => {
    const project = uniqueProject("mpu-early");
    await createProject(project);
    const bytes = blob(PART + 1, 5);
    const hash = await contentHash(bytes);
    await start(project, hash, bytes.length);
    await putPart(project, hash, 2, part(bytes, 2));
    const res = await api("POST", `/api/projects/${project}/uploads/${hash}/complete`);
    expect(res.status).toBe(409);
  });

  it("resumes after a crash with the parts that arrived", async ({ expect }) => {
    const project = uniqueProject("mpu-resume");
    await createProject(project);
    const bytes = blob(3 * PART, 6);
    const hash = await contentHash(bytes);
    await start(project, hash, bytes.length);
    await putPart(project, hash, 1, part(bytes, 1));
    await putPart(project, hash, 3, part(bytes, 3));
    // The client dies here. Run again, it learns what arrived.
    const resumed = await start(project, hash, bytes.length);
    expect(resumed.uploadedParts).toEqual([1, 3]);
    await putPart(project, hash, 2, part(bytes, 2));
    expect(await apiJson("POST", `/api/projects/${project}/uploads/${hash}/complete`)).toMatchObject({ stored: true });
  });

  it("aborts uploads left idle for a day", async ({ expect }) => {
    const project = uniqueProject("mpu-expire");
    await createProject(project);
    const bytes = blob(PART + 5, 7);
    const hash = await contentHash(bytes);
    await start(project, hash, bytes.length);
    await putPart(project, hash, 1, part(bytes, 1));
    const expired = await runInDurableObject(env.MANIFEST.getByName(project), (_instance, state) => {
      const db = new Db(state.storage);
      const store = new BlobStore(env.BLOBS, project);
      return new MultipartUploads(db, store, new BlobLedger(db, store)).expire(Date.now() + 25 * 60 * 60 * 1000);
    });
    expect(expired).toBe(1);
    expect((await api("GET", `/api/projects/${project}/uploads/${hash}`)).status).toBe(404);
    expect((await putPart(project, hash, 2, part(bytes, 2))).status).toBe(404);
    // A new upload starts from scratch.
    expect((await start(project, hash, bytes.length)).uploadedParts).toEqual([]);
  });

  it("lets garbage collection run during an upload without losing anything", async ({ expect }) => {
    const project = uniqueProject("mpu-gc");
    await createProject(project, 1);
    const bytes = blob(PART + MIB, 8);
    const hash = await contentHash(bytes);
    const version = await stageFile(project, "/big.bin", hash, bytes.length);
    await start(project, hash, bytes.length);
    await putPart(project, hash, 1, part(bytes, 1));
    expect((await apiJson<{ deleted: number }>("POST", `/api/projects/${project}/gc`)).deleted).toBe(0);
    await putPart(project, hash, 2, part(bytes, 2));
    const [completed] = await Promise.all([
      apiJson("POST", `/api/projects/${project}/uploads/${hash}/complete`),
      apiJson("POST", `/api/projects/${project}/gc`),
    ]);
    expect(completed).toMatchObject({ stored: true });
    expect((await apiJson<{ deleted: number }>("POST", `/api/projects/${project}/gc`)).deleted).toBe(0);
    await apiJson("POST", `/api/projects/${project}/deploys/${version}/finalize`);
    expect((await site(project, "/big.bin", { headers: { range: "bytes=-4" } })).status).toBe(206);
  });

  it("refuses files over the platform's maximum before any byte is sent", async ({ expect }) => {
    const project = uniqueProject("mpu-max");
    await createProject(project);
    const huge = 200 * 1024 * MIB;
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const res = await api("POST", `/api/projects/${project}/deploys/${version}/files`, {
      body: { files: { "/huge.bin": { hash: "a".repeat(64), size: huge } } },
    });
    expect(res.status).toBe(413);
    const upload = await api("POST", `/api/projects/${project}/uploads`, {
      body: { hash: "a".repeat(64), size: huge },
    });
    expect(upload.status).toBe(413);
  });

  it("rejects bad part sizes and part numbers", async ({ expect }) => {
    const project = uniqueProject("mpu-bad");
    await createProject(project);
    for (const partSize of [MIB, 5 * MIB, 9 * MIB, 96 * MIB]) {
      const res = await api("POST", `/api/projects/${project}/uploads`, {
        body: { hash: "b".repeat(64), size: 100 * MIB, partSize },
      });
      expect(res.status, String(partSize)).toBe(400);
    }
    const bytes = blob(PART + 1, 9);
    const hash = await contentHash(bytes);
    await start(project, hash, bytes.length);
    expect((await putPart(project, hash, 3, new Uint8Array(1))).status).toBe(400);
    expect((await putPart(project, hash, 0, new Uint8Array(1))).status).toBe(400);
    const noHash = await api("PUT", `/api/projects/${project}/uploads/${hash}/parts/2`, { body: new Uint8Array(1) });
    expect(noHash.status).toBe(400);
  });
});
