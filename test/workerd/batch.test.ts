/**
 * Batched uploads of small blobs (POST /api/projects/:p/blobs/batch): each
 * blob checked against its hash, the good ones stored together as one pack,
 * a bad one reported and left out, a body cut short storing nothing; and
 * packed blobs served, ranged and collected like any other.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore } from "../../src/blob/r2-store.ts";
import { BlobLedger } from "../../src/manifest/blob-ledger.ts";
import { unwrap } from "../../src/errors.ts";
import { succeed, type Outcome } from "../../src/outcome.ts";
import { Db } from "../../src/storage/db.ts";
import {
  api,
  apiJson,
  batchBody,
  bytesOf,
  contentHash,
  createProject,
  deploy,
  site,
  uniqueProject,
} from "./helpers.ts";

interface BatchResult {
  stored: string[];
  present: string[];
  failed: { hash: string; problem: string }[];
}

async function blob(content: string): Promise<{ hash: string; bytes: Uint8Array }> {
  const bytes = bytesOf(content);
  return { hash: await contentHash(bytes), bytes };
}

/** A blob as a batch declares it. */
function sized({ hash, bytes }: { hash: string; bytes: Uint8Array }): { hash: string; size: number } {
  return { hash, size: bytes.length };
}

/** No quota: every batch's bytes may come in. */
const admitAll = (): Outcome<null> => succeed(null);

async function missingOf(project: string, hashes: string[]): Promise<string[]> {
  const { missing } = await apiJson<{ missing: string[] }>("POST", `/api/projects/${project}/blobs/missing`, {
    body: { hashes },
  });
  return missing;
}

async function packsOf(project: string): Promise<string[]> {
  const listed = await env.BLOBS.list({ prefix: `projects/${project}/packs/` });
  return listed.objects.map((object) => object.key);
}

/** A body that sends `bytes` up to `cut`, then fails, as a client that dies mid-upload does. */
function cutShort(bytes: Uint8Array, cut: number): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, cut));
      controller.error(new Error("connection lost"));
    },
  });
}

describe("batched uploads", () => {
  it("stores the good blobs of a batch and reports the bad one in the middle by hash", async ({ expect }) => {
    const project = uniqueProject("batch-bad");
    await createProject(project);
    const first = await blob("first blob");
    const second = await blob("second blob");
    const third = await blob("third blob");
    const liar = { hash: second.hash, bytes: bytesOf("not the second") };
    const result = await apiJson<BatchResult>("POST", `/api/projects/${project}/blobs/batch`, {
      body: batchBody([first, liar, third]),
    });
    expect(result.stored).toEqual([first.hash, third.hash]);
    expect(result.present).toEqual([]);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]?.hash).toBe(second.hash);
    expect(result.failed[0]?.problem).toContain("hash");
    expect(await missingOf(project, [first.hash, second.hash, third.hash])).toEqual([second.hash]);
    expect(await packsOf(project)).toHaveLength(1);
    // Sent again, the stored ones are read past.
    const again = await apiJson<BatchResult>("POST", `/api/projects/${project}/blobs/batch`, {
      body: batchBody([first, second, third]),
    });
    expect(again).toEqual({ stored: [second.hash], present: [first.hash, third.hash], failed: [] });
  });

  it("stores nothing from a batch cut short mid-stream, and the retry completes", async ({ expect }) => {
    const project = uniqueProject("batch-cut");
    await createProject(project);
    const blobs = await Promise.all(["one", "two", "three"].map((word) => blob(`${word} `.repeat(200))));
    const body = batchBody(blobs);
    const path = `/api/projects/${project}/blobs/batch`;
    const cut = body.length - 300;
    const outcome = await api("POST", path, {
      body: cutShort(body, cut),
      headers: { "content-length": String(body.length) },
    }).then(
      (response) => response.status,
      () => "failed",
    );
    expect(outcome).not.toBe(200);
    const hashes = blobs.map((entry) => entry.hash);
    expect(await missingOf(project, hashes)).toEqual(hashes);
    expect(await packsOf(project)).toEqual([]);
    // A body that simply ends early (its Content-Length a lie) is refused before anything is read.
    const short = await api("POST", path, {
      body: body.slice(0, cut),
      headers: { "content-length": String(cut) },
    });
    expect(short.status).toBe(400);
    expect((await short.json<{ error: { message: string } }>()).error.message).toContain("content-length");
    const retry = await apiJson<BatchResult>("POST", path, { body });
    expect(retry.stored).toEqual(hashes);
    expect(await missingOf(project, hashes)).toEqual([]);
  });

  it("refuses malformed batches with a message naming the problem", async ({ expect }) => {
    const project = uniqueProject("batch-bad-input");
    await createProject(project);
    const path = `/api/projects/${project}/blobs/batch`;
    const one = await blob("x");
    const cases: [Uint8Array, number, string][] = [
      [bytesOf("not json\nx"), 400, "JSON"],
      [bytesOf('{"blobs": []}\n'), 400, "blobs"],
      [bytesOf(`{"blobs": [{"hash": "ABC", "size": 1}]}\nx`), 400, "blobs[0].hash"],
      [bytesOf(`{"blobs": [{"hash": "${one.hash}", "size": ${2 * 1024 * 1024}}]}\n`), 400, "blobs[0].size"],
      [batchBody(Array.from({ length: 1001 }, () => one)), 400, "1000"],
    ];
    for (const [body, status, words] of cases) {
      const response = await api("POST", path, { body });
      expect(response.status, words).toBe(status);
      expect((await response.json<{ error: { message: string } }>()).error.message).toContain(words);
    }
    const big = new Uint8Array(1024 * 1024);
    const many = Array.from({ length: 17 }, (_, index) => ({ hash: one.hash, bytes: big.subarray(index, index + 1) }));
    const header = bytesOf(`${JSON.stringify({ blobs: many.map(({ hash }) => ({ hash, size: 1024 * 1024 })) })}\n`);
    const tooLarge = await api("POST", path, { body: header });
    expect(tooLarge.status).toBe(413);
    const other = uniqueProject("batch-other");
    await createProject(other);
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${other}/tokens`, { status: 201 });
    expect((await api("POST", path, { token, body: batchBody([one]) })).status).toBe(403);
    expect(await missingOf(project, [one.hash])).toEqual([one.hash]);
  });

  it("serves packed blobs whole, ranged and conditionally, and runs server code stored in a pack", async ({
    expect,
  }) => {
    const project = uniqueProject("batch-serve");
    await createProject(project);
    const alphabet = "abcdefghijklmnopqrstuvwxyz".repeat(40);
    await deploy(
      project,
      { "/index.html": "<h1>packed</h1>", "/letters.txt": alphabet, "/empty.txt": "" },
      {
        batch: true,
        server: {
          entry: "index.js",
          files: { "index.js": "export default { fetch: () => new Response('from pack') }" },
        },
        config: { run_worker_first: ["/api/*"] },
      },
    );
    expect(await packsOf(project)).toHaveLength(1);
    const whole = await site(project, "/letters.txt");
    expect(await whole.text()).toBe(alphabet);
    const etag = whole.headers.get("etag") ?? "";
    const ranged = await site(project, "/letters.txt", { headers: { range: "bytes=26-51" } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("abcdefghijklmnopqrstuvwxyz");
    const suffix = await site(project, "/letters.txt", { headers: { range: "bytes=-3" } });
    expect(await suffix.text()).toBe("xyz");
    const multi = await site(project, "/letters.txt", { headers: { range: "bytes=0-1,1038-1039" } });
    const text = new TextDecoder().decode(await multi.arrayBuffer());
    expect(multi.status).toBe(206);
    expect(text).toContain("ab");
    expect(text).toContain("yz");
    expect((await site(project, "/letters.txt", { headers: { "if-none-match": etag } })).status).toBe(304);
    expect(await (await site(project, "/")).text()).toBe("<h1>packed</h1>");
    const empty = await site(project, "/empty.txt");
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe("");
    expect(await (await site(project, "/api/x")).text()).toBe("from pack");
  });

  it("counts only a batch's blobs not stored yet, each once, against the stored-bytes quota", async ({ expect }) => {
    const project = uniqueProject("batch-quota");
    await createProject(project);
    await apiJson("PATCH", `/api/projects/${project}`, { body: { quotas: { storedBytes: 100 } } });
    const path = `/api/projects/${project}/blobs/batch`;
    const first = await blob("a".repeat(60));
    const second = await blob("b".repeat(60));
    const small = await blob("c".repeat(30));
    expect((await apiJson<BatchResult>("POST", path, { body: batchBody([first]) })).stored).toEqual([first.hash]);
    // 60 stored + 60 new > 100: refused whole, nothing leased or stored.
    const over = await api("POST", path, { body: batchBody([first, second]) });
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: { code: "quota_exceeded", quota: "storedBytes", stored: 60 } });
    expect(await missingOf(project, [second.hash])).toEqual([second.hash]);
    const leases = await runInDurableObject(env.MANIFEST.getByName(project), (_instance, state) =>
      new Db(state.storage).all("SELECT hash FROM upload_leases"),
    );
    expect(leases).toEqual([]);
    // Stored blobs sent again take nothing; a blob listed twice counts once (60 + 30 <= 100).
    expect(await apiJson<BatchResult>("POST", path, { body: batchBody([first, small, small]) })).toEqual({
      stored: [small.hash],
      present: [first.hash],
      failed: [],
    });
  });

  it("deletes a pack once garbage collection has taken all of its blobs, and not before", async ({ expect }) => {
    const project = uniqueProject("batch-gc");
    await createProject(project, 1);
    await deploy(project, { "/a.txt": "kept", "/b.txt": "dropped" }, { batch: true });
    await deploy(project, { "/a.txt": "kept" });
    const gc = (): Promise<{ blobs: string[] }> => apiJson("POST", `/api/projects/${project}/gc`);
    expect((await gc()).blobs).toEqual([await contentHash(bytesOf("dropped"))]);
    expect(await packsOf(project)).toHaveLength(1);
    expect(await (await site(project, "/a.txt")).text()).toBe("kept");
    await deploy(project, { "/c.txt": "replacement" });
    expect((await gc()).blobs).toEqual([await contentHash(bytesOf("kept"))]);
    expect(await packsOf(project)).toEqual([]);
    expect(await (await site(project, "/c.txt")).text()).toBe("replacement");
  });

  it("deletes packs a failed batch left in R2 once they are old", async ({ expect }) => {
    const project = uniqueProject("batch-stray");
    await createProject(project);
    await deploy(project, { "/live.txt": "live" }, { batch: true });
    await env.BLOBS.put(`projects/${project}/packs/stray`, "left behind");
    expect(await packsOf(project)).toHaveLength(2);
    const stub = env.MANIFEST.getByName(project);
    await runInDurableObject(stub, (_instance, state) =>
      new BlobLedger(new Db(state.storage), new BlobStore(env.BLOBS, project)).collect(
        Date.now() + 24 * 60 * 60 * 1000 + 1000,
      ),
    );
    expect(await packsOf(project)).toHaveLength(1);
    expect(await (await site(project, "/live.txt")).text()).toBe("live");
  });

  it("holds each batch's lease until that batch is done, however batches overlap", async ({ expect }) => {
    const project = uniqueProject("batch-leases");
    await createProject(project);
    // A project's Durable Object is set up by its first use through the API.
    await deploy(project, { "/seed.txt": "seed" }, { batch: true });
    const [a, b, c] = await Promise.all([blob("lease a"), blob("lease b"), blob("lease c")]);
    const now = Date.now();
    const leases = await runInDurableObject(env.MANIFEST.getByName(project), async (_instance, state) => {
      const db = new Db(state.storage);
      const ledger = new BlobLedger(db, new BlobStore(env.BLOBS, project));
      const held = (): Record<string, number> =>
        Object.fromEntries(
          db
            .all<{ hash: string; holders: number }>("SELECT hash, holders FROM upload_leases")
            .map((row) => [row.hash, row.holders]),
        );
      const seen: Record<string, number>[] = [];
      // Two batches at once, sharing b.
      await ledger.prepareBatch([a, b, a].map(sized), now, admitAll);
      await ledger.prepareBatch([b, c].map(sized), now, admitAll);
      seen.push(held());
      // The first fails: its own lease goes, the other batch still holds b.
      ledger.releaseBatch([a.hash, b.hash]);
      seen.push(held());
      // The second is recorded: nothing is leased any more.
      ledger.recordBatch(
        { id: "overlap", size: c.bytes.length },
        [{ hash: c.hash, size: c.bytes.length, offset: 0 }],
        [b.hash, c.hash],
        now,
      );
      seen.push(held());
      return seen;
    });
    expect(leases).toEqual([{ [a.hash]: 1, [b.hash]: 2, [c.hash]: 1 }, { [b.hash]: 1, [c.hash]: 1 }, {}]);
  });

  it("waits out a collection that claimed a blob of the batch, then leases it as missing", async ({ expect }) => {
    const project = uniqueProject("batch-claimed");
    await createProject(project);
    await deploy(project, { "/seed.txt": "seed" }, { batch: true });
    const orphan = await blob("claimed by a collection");
    const present = await runInDurableObject(env.MANIFEST.getByName(project), async (_instance, state) => {
      const db = new Db(state.storage);
      // A blob no version lists, claimed by a collection that was interrupted.
      db.run("INSERT INTO blobs (hash, size, stored_at, deleting) VALUES (?, ?, ?, 1)", orphan.hash, 23, Date.now());
      const ledger = new BlobLedger(db, new BlobStore(env.BLOBS, project));
      const prepared = unwrap(await ledger.prepareBatch([sized(orphan)], Date.now(), admitAll));
      const row = db.first("SELECT holders FROM upload_leases WHERE hash = ?", orphan.hash);
      const gone = db.first("SELECT 1 AS found FROM blobs WHERE hash = ?", orphan.hash) === null;
      ledger.releaseBatch([orphan.hash]);
      return { ...prepared, holders: row?.holders, gone };
    });
    expect(present).toEqual({ present: [], holders: 1, gone: true });
  });
});
