/**
 * Serving without asking the Durable Object: what a version makes
 * immutable is cached in the isolate, the live pointer is leased, and
 * changes to pointers and versions wait out the lease. Real local R2 and
 * Durable Objects; the isolate's counters come from GET /api/stats.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore } from "../../src/blob/r2-store.ts";
import { api, apiJson, bytesOf, contentHash, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface Stats {
  manifestCalls: number;
  leaseRefreshes: number;
  answerHits: number;
  answerMisses: number;
}

const stats = (): Promise<Stats> => apiJson<Stats>("GET", "/api/stats");

describe("the warm path", () => {
  it("answers a second identical request from the isolate's cache, with no call to the Durable Object", async ({
    expect,
  }) => {
    const project = uniqueProject("warm");
    await createProject(project);
    const { version } = await deploy(project, { "/index.html": "home", "/about.html": "about" });
    const before = await stats();
    const cold = await site(project, "/about");
    expect([cold.status, await cold.text(), cold.headers.get("x-r2-assets-cache")]).toEqual([200, "about", "miss"]);
    const afterCold = await stats();
    // A cold request costs one call: the pointer, the configuration and the files together.
    expect(afterCold.manifestCalls - before.manifestCalls).toBe(1);
    for (let i = 0; i < 5; i += 1) {
      const warm = await site(project, "/about");
      expect([
        await warm.text(),
        warm.headers.get("x-r2-assets-cache"),
        warm.headers.get("x-r2-assets-version"),
      ]).toEqual(["about", "hit", version]);
    }
    const afterWarm = await stats();
    // Warm requests ask nothing but, ahead of time, the live pointer's lease
    // (25 ms here): no lookup.
    expect(afterWarm.manifestCalls - afterWarm.leaseRefreshes).toBe(afterCold.manifestCalls - afterCold.leaseRefreshes);
    expect(afterWarm.answerHits - afterCold.answerHits).toBe(5);
  });

  it("caches redirects, 404s and query-less answers, and still applies each request's query", async ({ expect }) => {
    const project = uniqueProject("shapes");
    await createProject(project);
    await deploy(project, { "/page.html": "page" }, { config: { redirects: "/old /page 301" } });
    for (const query of ["?a=1", "?b=2"]) {
      const moved = await site(project, `/old${query}`, { redirect: "manual" });
      expect([moved.status, moved.headers.get("location")]).toEqual([301, `/page${query}`]);
      const pretty = await site(project, `/page.html${query}`, { redirect: "manual" });
      expect([pretty.status, pretty.headers.get("location")]).toEqual([307, `/page${query}`]);
      expect((await site(project, `/missing${query}`)).status).toBe(404);
    }
    expect((await site(project, "/old", { redirect: "manual" })).headers.get("x-r2-assets-cache")).toBe("hit");
  });

  it("never serves one project's cached answers or bodies to another", async ({ expect }) => {
    const a = uniqueProject("iso-a");
    const b = uniqueProject("iso-b");
    await createProject(a);
    await createProject(b);
    await deploy(a, { "/same.txt": "shared bytes", "/own.txt": "only a" });
    await deploy(b, { "/same.txt": "shared bytes", "/own.txt": "only b" });
    for (let i = 0; i < 3; i += 1) {
      expect(await (await site(a, "/own.txt")).text()).toBe("only a");
      expect(await (await site(b, "/own.txt")).text()).toBe("only b");
    }
    // Same content, same hash: a's cached body must not stand in for b's blob.
    expect(await (await site(a, "/same.txt")).text()).toBe("shared bytes");
    await env.BLOBS.delete(new BlobStore(env.BLOBS, b).key(await contentHash(bytesOf("shared bytes"))));
    const missing = await site(b, "/same.txt");
    expect(missing.status).toBe(500);
  });
});

describe("leases", () => {
  it("never start a request on the version an activation replaced, once it returns", async ({ expect }) => {
    const project = uniqueProject("flips");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    const v2 = await deploy(project, { "/index.html": "two" });
    const expected = { [v1.version]: "one", [v2.version]: "two" };
    // Keep both versions warm in this isolate while flipping between them.
    const load = (async () => {
      for (let i = 0; i < 200; i += 1) {
        const res = await site(project, "/");
        expect(await res.text()).toBe(expected[res.headers.get("x-r2-assets-version") ?? ""]);
      }
    })();
    for (let flip = 0; flip < 10; flip += 1) {
      const target = flip % 2 === 0 ? v1.version : v2.version;
      await apiJson("POST", `/api/projects/${project}/activate`, { body: { version: target } });
      const [first, second] = await Promise.all([site(project, "/"), site(project, "/")]);
      expect([first.headers.get("x-r2-assets-version"), second.headers.get("x-r2-assets-version")]).toEqual([
        target,
        target,
      ]);
    }
    await load;
  });

  it("take a deleted version's preview URL down everywhere once the deletion returns", async ({ expect }) => {
    const project = uniqueProject("gone");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    for (let i = 0; i < 3; i += 1) {
      expect(await (await site(project, "/", {}, v1.version)).text()).toBe("one");
    }
    await apiJson("DELETE", `/api/projects/${project}/versions/${v1.version}`);
    expect((await site(project, "/", {}, v1.version)).status).toBe(404);
  });

  it("take a pruned version's preview URL down once the prune returns", async ({ expect }) => {
    const project = uniqueProject("pruned");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    expect(await (await site(project, "/", {}, v1.version)).text()).toBe("one");
    const patched = await apiJson<{ pruned: string[] }>("PATCH", `/api/projects/${project}`, {
      body: { retention: 1 },
    });
    expect(patched.pruned).toEqual([v1.version]);
    expect((await site(project, "/", {}, v1.version)).status).toBe(404);
  });

  it("make an activation wait out the lease before it returns", async ({ expect }) => {
    const project = uniqueProject("wait");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    const started = Date.now();
    const res = await api("POST", `/api/projects/${project}/activate`, { body: { version: v1.version } });
    expect(res.status).toBe(200);
    // POINTER_LEASE_MS is 25 in these tests.
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
