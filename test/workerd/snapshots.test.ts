/**
 * Cold paths read each version's manifest snapshot at the edge (#21): a
 * path this isolate has never served, found or not, costs no Durable
 * Object call; snapshots go with their versions; versions finalized before
 * snapshots existed still serve, and get one.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, it } from "vitest";
import { apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface Stats {
  manifestCalls: number;
  leaseRefreshes: number;
  pageHits: number;
  pageCacheHits: number;
  pageReads: number;
}

const stats = (): Promise<Stats> => apiJson<Stats>("GET", "/api/stats");
/** Calls that looked paths up, as opposed to renewing a pointer's lease. */
const lookups = (s: Stats): number => s.manifestCalls - s.leaseRefreshes;

function manyFiles(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, n) => [`/docs/page-${n}.html`, `page ${n}`]));
}

describe("cold paths", () => {
  it("are answered from the version's snapshot, with no Durable Object lookup", async ({ expect }) => {
    const project = uniqueProject("cold");
    await createProject(project);
    await deploy(project, { "/index.html": "home", ...manyFiles(60) });
    expect((await site(project, "/")).status).toBe(200);
    const before = await stats();
    for (let n = 0; n < 60; n += 1) {
      const response = await site(project, `/docs/page-${n}`);
      expect([response.status, await response.text()]).toEqual([200, `page ${n}`]);
    }
    const after = await stats();
    expect(lookups(after) - lookups(before)).toBe(0);
    expect(after.pageHits + after.pageCacheHits + after.pageReads).toBeGreaterThan(
      before.pageHits + before.pageCacheHits + before.pageReads,
    );
  });

  it("that no file has, and a single-page app's fallback, cost no lookup either", async ({ expect }) => {
    const project = uniqueProject("spa");
    await createProject(project);
    await deploy(
      project,
      { "/index.html": "the app", "/assets/app.js": "js" },
      { config: { not_found_handling: "single-page-application" } },
    );
    expect((await site(project, "/")).status).toBe(200);
    const before = await stats();
    for (let n = 0; n < 10; n += 1) {
      const route = await site(project, `/settings/${n}`, { headers: { accept: "text/html" } });
      expect([route.status, await route.text()]).toEqual([200, "the app"]);
    }
    const plain = uniqueProject("plain");
    await createProject(plain);
    await deploy(plain, { "/index.html": "home" });
    expect((await site(plain, "/")).status).toBe(200);
    for (let n = 0; n < 10; n += 1) {
      expect((await site(plain, `/missing-${n}.js`)).status).toBe(404);
    }
    expect(lookups(await stats()) - lookups(before)).toBeLessThanOrEqual(1);
  });
});

describe("cold bodies", () => {
  it("of files deployed together are read a window of their pack at a time", async ({ expect }) => {
    const project = uniqueProject("window");
    await createProject(project);
    const files = manyFiles(40);
    await deploy(project, { "/index.html": "home", ...files }, { batch: true });
    const before = await apiJson<{ packWindowReads: number; packWindowHits: number }>("GET", "/api/stats");
    for (const [path, body] of Object.entries(files)) {
      const response = await site(project, path);
      expect([path, response.status, await response.text()]).toEqual([path, 200, body]);
    }
    const after = await apiJson<{ packWindowReads: number; packWindowHits: number }>("GET", "/api/stats");
    // The 41 small files fit in one pack window: one R2 read serves them all.
    expect(after.packWindowReads - before.packWindowReads).toBe(1);
    expect(after.packWindowHits - before.packWindowHits).toBe(39);
  });
});

describe("snapshots", () => {
  it("are deleted with their version", async ({ expect }) => {
    const project = uniqueProject("gone");
    await createProject(project);
    const { version: first } = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    const pages = async (version: string): Promise<number> =>
      (await env.BLOBS.list({ prefix: `projects/${project}/manifests/${version}/` })).objects.length;
    expect(await pages(first)).toBe(1);
    await apiJson("DELETE", `/api/projects/${project}/versions/${first}`);
    expect(await pages(first)).toBe(0);
  });

  it("are written for a version finalized before they existed, which serves meanwhile", async ({ expect }) => {
    const project = uniqueProject("older");
    await createProject(project);
    const { version } = await deploy(project, { "/index.html": "home", "/old.html": "from before" });
    // The version as it was stored before snapshots: no path hashes, no snapshot.
    const stub = env.MANIFEST.getByName(project);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE files SET path_hash = NULL WHERE version_id = ?", version);
      state.storage.sql.exec("UPDATE versions SET snapshot_bits = NULL WHERE id = ?", version);
    });
    await env.BLOBS.delete(`projects/${project}/manifests/${version}/0`);
    const response = await site(project, "/old");
    expect([response.status, await response.text()]).toEqual([200, "from before"]);
    // The lookup that served it started writing the snapshot.
    let bits: unknown = null;
    for (let attempt = 0; attempt < 50 && bits === null; attempt += 1) {
      await scheduler.wait(20);
      bits = await runInDurableObject(
        stub,
        (_instance, state) =>
          state.storage.sql
            .exec<{ bits: number | null }>("SELECT snapshot_bits AS bits FROM versions WHERE id = ?", version)
            .one().bits,
      );
    }
    expect(bits).toBe(0);
    expect((await env.BLOBS.head(`projects/${project}/manifests/${version}/0`)) !== null).toBe(true);
  });
});
