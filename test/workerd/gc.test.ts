/**
 * Garbage collection of blobs: what it deletes, and above all what it must
 * never delete.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore } from "../../src/blob/r2-store.ts";
import { BlobLedger } from "../../src/manifest/blob-ledger.ts";
import { Db } from "../../src/storage/db.ts";
import { api, apiJson, bytesOf, contentHash, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface GcResult {
  deleted: number;
  bytesFreed: number;
  blobs: string[];
}

const DAY = 24 * 60 * 60 * 1000;

async function stored(project: string, content: string): Promise<boolean> {
  return (await env.BLOBS.head(`projects/${project}/blobs/${await contentHash(bytesOf(content))}`)) !== null;
}

function gc(project: string): Promise<GcResult> {
  return apiJson<GcResult>("POST", `/api/projects/${project}/gc`);
}

describe("garbage collection", () => {
  it("deletes blobs that only pruned or deleted versions used", async ({ expect }) => {
    const project = uniqueProject("gc");
    await createProject(project, 1);
    await deploy(project, { "/a.txt": "old", "/shared.txt": "shared" });
    await deploy(project, { "/a.txt": "new", "/shared.txt": "shared" });
    expect(await stored(project, "old")).toBe(true);
    const result = await gc(project);
    expect(result.deleted).toBe(1);
    expect(result.bytesFreed).toBe(3);
    expect(result.blobs).toEqual([await contentHash(bytesOf("old"))]);
    expect(await stored(project, "old")).toBe(false);
    expect(await stored(project, "shared")).toBe(true);
    expect(await (await site(project, "/a.txt")).text()).toBe("new");
    expect((await gc(project)).deleted).toBe(0);
  });

  it("never deletes a blob a concurrent deploy was just told it need not upload", async ({ expect }) => {
    const project = uniqueProject("gc-race");
    await createProject(project, 1);
    const v1 = await deploy(project, { "/a.txt": "reused" });
    await deploy(project, { "/a.txt": "replacement" });
    // v1 is pruned: "reused" is now garbage, until the next deploy lists it.
    const staged = await deploy(project, { "/a.txt": "reused" }, { finalize: false });
    expect(staged.missing).toEqual([]);
    expect((await gc(project)).deleted).toBe(0);
    expect(await stored(project, "reused")).toBe(true);
    await apiJson("POST", `/api/projects/${project}/deploys/${staged.version}/finalize`);
    const res = await site(project, "/a.txt");
    expect(await res.text()).toBe("reused");
    expect(res.headers.get("x-r2-assets-version")).not.toBe(v1.version);
  });

  it("races a deploy against collection many times without losing a blob", async ({ expect }) => {
    const project = uniqueProject("gc-race-loop");
    await createProject(project, 1);
    for (let round = 0; round < 10; round += 1) {
      await deploy(project, { "/a.txt": "shared across rounds" });
      await deploy(project, { "/a.txt": `filler ${round}` });
      const [deployed] = await Promise.all([
        deploy(project, { "/a.txt": "shared across rounds" }),
        gc(project),
        gc(project),
      ]);
      expect(deployed.active).toBe(true);
      const res = await site(project, "/a.txt");
      expect(res.status, `round ${round}`).toBe(200);
      expect(await res.text()).toBe("shared across rounds");
    }
  });

  it("keeps what open deploys uploaded, and collects it once they expire", async ({ expect }) => {
    const project = uniqueProject("gc-expiry");
    await createProject(project);
    await deploy(project, { "/live.txt": "live" });
    await deploy(project, { "/draft.txt": "abandoned draft" }, { finalize: false });
    expect((await gc(project)).deleted).toBe(0);
    expect(await stored(project, "abandoned draft")).toBe(true);
    // A day later the deploy has expired and its upload is garbage.
    const stub = env.MANIFEST.getByName(project);
    const result = await runInDurableObject(stub, (_instance, state) =>
      new BlobLedger(new Db(state.storage), new BlobStore(env.BLOBS, project)).collect(Date.now() + DAY + 1000),
    );
    expect(result.blobs).toEqual([await contentHash(bytesOf("abandoned draft"))]);
    expect(await stored(project, "live")).toBe(true);
  });

  it("deletes objects left in R2 by failed uploads once they are old", async ({ expect }) => {
    const project = uniqueProject("gc-stray");
    await createProject(project);
    await deploy(project, { "/live.txt": "live" });
    const strayHash = await contentHash(bytesOf("stray"));
    await env.BLOBS.put(`projects/${project}/blobs/${strayHash}`, "stray");
    expect((await gc(project)).deleted).toBe(0);
    const stub = env.MANIFEST.getByName(project);
    const result = await runInDurableObject(stub, (_instance, state) =>
      new BlobLedger(new Db(state.storage), new BlobStore(env.BLOBS, project)).collect(Date.now() + DAY + 1000),
    );
    expect(result.blobs).toEqual([strayHash]);
    expect(await stored(project, "stray")).toBe(false);
    expect(await stored(project, "live")).toBe(true);
  });

  it("lets an upload of a blob being collected wait, then store it again", async ({ expect }) => {
    const project = uniqueProject("gc-upload");
    await createProject(project, 1);
    await deploy(project, { "/a.txt": "comes back" });
    await deploy(project, { "/a.txt": "other" });
    const collecting = gc(project);
    const again = deploy(project, { "/a.txt": "comes back" });
    await Promise.all([collecting, again]);
    expect(await (await site(project, "/a.txt")).text()).toBe("comes back");
    expect(await stored(project, "comes back")).toBe(true);
  });

  it("is refused to other projects' tokens", async ({ expect }) => {
    const mine = uniqueProject("gc-mine");
    const theirs = uniqueProject("gc-theirs");
    await createProject(mine);
    await createProject(theirs);
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${mine}/tokens`, { status: 201 });
    expect((await api("POST", `/api/projects/${theirs}/gc`, { token })).status).toBe(403);
  });
});
