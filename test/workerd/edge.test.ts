/**
 * Serving without asking the Durable Object: what a version makes
 * immutable is cached in the isolate, the live pointer is leased, and
 * changes to pointers and versions wait out the lease. Real local R2 and
 * Durable Objects; the isolate's counters come from GET /api/stats.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { apiRoutes } from "../../src/api/router.ts";
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

  it("make an activation wait out the lease it granted before it returns", async ({ expect }) => {
    const project = uniqueProject("wait");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    // The first request to the site asks for a lease on the pointer.
    const started = Date.now();
    expect(await (await site(project, "/")).text()).toBe("two");
    const res = await api("POST", `/api/projects/${project}/activate`, { body: { version: v1.version } });
    expect(res.status).toBe(200);
    // POINTER_LEASE_MS is 25 in these tests.
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS);
  });
});

/** POINTER_LEASE_MS in these tests (test/vitest.config.ts). */
const LEASE_MS = 25;

/**
 * Has the project's Durable Object and the registry each answer a leased
 * question (the least grace), as a serving isolate's renewal does: a change
 * committed after it must not return before a lease has passed.
 */
async function grantLeases(project: string): Promise<void> {
  await env.MANIFEST.getByName(project).lookup({ target: { pointer: "live" }, paths: [], known: [], graceMs: 0 });
  await env.REGISTRY.getByName("registry").hosts(null, 0);
}
const P = "/api/projects/:project";

/**
 * Every route that changes state, and whether it can move a pointer or take
 * down what one served (a version, a project, a domain): those must wait
 * out the lease before they answer. A new route fails here until it is
 * classified.
 */
const CHANGES: Record<string, boolean> = {
  [`PUT ${P}`]: false,
  [`DELETE ${P}`]: true,
  [`PATCH ${P}`]: true,
  [`POST ${P}/tokens`]: false,
  [`DELETE ${P}/tokens/:id`]: false,
  [`POST ${P}/deploys`]: false,
  [`POST ${P}/deploys/:version/files`]: false,
  [`POST ${P}/deploys/:version/finalize`]: true,
  [`PUT ${P}/blobs/:hash`]: false,
  [`POST ${P}/uploads`]: false,
  [`DELETE ${P}/uploads/:hash`]: false,
  [`PUT ${P}/uploads/:hash/parts/:part`]: false,
  [`POST ${P}/uploads/:hash/complete`]: false,
  [`DELETE ${P}/versions/:version`]: true,
  [`PUT ${P}/versions/:version/pin`]: false,
  [`DELETE ${P}/versions/:version/pin`]: false,
  [`POST ${P}/activate`]: true,
  [`POST ${P}/rollback`]: true,
  [`POST ${P}/gc`]: false,
  [`PUT ${P}/aliases/:alias`]: true,
  [`DELETE ${P}/aliases/:alias`]: true,
  [`PUT ${P}/domains/:hostname`]: true,
  [`DELETE ${P}/domains/:hostname`]: true,
  [`POST ${P}/blobs/missing`]: false,
  [`POST ${P}/blobs/batch`]: false,
};

describe("routes that move a pointer", () => {
  it("are every state-changing route, classified", ({ expect }) => {
    const changing = apiRoutes().filter((route) => !route.startsWith("GET "));
    expect(changing.toSorted()).toEqual(Object.keys(CHANGES).toSorted());
  });

  it("each wait out the lease before they answer", async ({ expect }) => {
    const project = uniqueProject("waits");
    await createProject(project);
    const base = `/api/projects/${project}`;
    const v1 = await deploy(project, { "/index.html": "one" });
    const v2 = await deploy(project, { "/index.html": "two" }, { finalize: false });
    const host = `${project}.example.com`;
    const calls: [string, () => Promise<unknown>][] = [
      [
        `POST ${P}/deploys/:version/finalize`,
        () => apiJson("POST", `${base}/deploys/${v2.version}/finalize`, { body: { activate: true } }),
      ],
      [`POST ${P}/activate`, () => apiJson("POST", `${base}/activate`, { body: { version: v1.version } })],
      [`POST ${P}/rollback`, () => apiJson("POST", `${base}/rollback`)],
      [`PUT ${P}/aliases/:alias`, () => apiJson("PUT", `${base}/aliases/staging`, { body: { version: v1.version } })],
      [`DELETE ${P}/aliases/:alias`, () => apiJson("DELETE", `${base}/aliases/staging`)],
      [`PUT ${P}/domains/:hostname`, () => apiJson("PUT", `${base}/domains/${host}`, { status: 201 })],
      [`DELETE ${P}/domains/:hostname`, () => apiJson("DELETE", `${base}/domains/${host}`)],
      [`PATCH ${P}`, () => apiJson("PATCH", base, { body: { retention: 1 } })],
      [
        `DELETE ${P}/versions/:version`,
        async () => {
          const v3 = await deploy(project, { "/index.html": "three" }, { activate: false });
          const started = Date.now();
          await grantLeases(project);
          await apiJson("DELETE", `${base}/versions/${v3.version}`);
          return Date.now() - started;
        },
      ],
      [`DELETE ${P}`, () => apiJson("DELETE", base)],
    ];
    const waited: Record<string, boolean> = {};
    for (const [route, call] of calls) {
      const started = Date.now();
      await grantLeases(project);
      const took = await call();
      waited[route] = (typeof took === "number" ? took : Date.now() - started) >= LEASE_MS;
    }
    const moving = Object.entries(CHANGES)
      .filter(([, moves]) => moves)
      .map(([route]) => route);
    expect(Object.keys(waited).toSorted()).toEqual(moving.toSorted());
    expect(waited).toEqual(Object.fromEntries(moving.map((route) => [route, true])));
  });
});
