/**
 * The registry at any tenant count (#20): the project list is paged from
 * the registry alone, with summaries each project's Durable Object keeps
 * there, and stays stable under concurrent creation; serving asks the
 * registry for nothing per request.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, it } from "vitest";
import { api, apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface Listed {
  name: string;
  activeVersion: string | null;
  aliases: Record<string, string>;
  storedBytes: number;
  lastDeployAt: string | null;
}

async function page(query: Record<string, string>): Promise<{ projects: Listed[]; cursor: string | null }> {
  return apiJson("GET", `/api/projects?${new URLSearchParams(query).toString()}`);
}

describe("the project list", () => {
  it("pages by name, nothing listed twice or skipped while projects are created meanwhile", async ({ expect }) => {
    const prefix = `page-${crypto.randomUUID().slice(0, 6)}-`;
    const first = Array.from({ length: 24 }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);
    await Promise.all(first.map((name) => createProject(name)));
    const listed: string[] = [];
    let cursor: string | null = null;
    let created = 0;
    do {
      const next = await page({ limit: "5", prefix, ...(cursor ? { cursor } : {}) });
      listed.push(...next.projects.map((project) => project.name));
      cursor = next.cursor;
      // Projects are created between pages, before and after the cursor.
      await createProject(`${prefix}${String(created).padStart(2, "0")}x`);
      created += 1;
    } while (cursor !== null);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toEqual([...listed].sort());
    expect(listed).toEqual(expect.arrayContaining(first));
    expect(listed.every((name) => name.startsWith(prefix))).toBe(true);
  });

  it("shows each project's summary, kept up to date by the project itself", async ({ expect }) => {
    const project = uniqueProject("summary");
    await createProject(project);
    const { version: one } = await deploy(project, { "/index.html": "one" });
    const { version: two } = await deploy(project, { "/index.html": "two, longer" });
    let [listed] = (await page({ prefix: project })).projects;
    expect(listed).toMatchObject({ name: project, activeVersion: two, aliases: {} });
    expect(listed?.storedBytes).toBeGreaterThan(0);
    expect(listed?.lastDeployAt).not.toBeNull();
    await apiJson("POST", `/api/projects/${project}/rollback`, { body: {} });
    await apiJson("PUT", `/api/projects/${project}/aliases/staging`, { body: { version: two } });
    [listed] = (await page({ prefix: project })).projects;
    expect(listed).toMatchObject({ activeVersion: one, aliases: { staging: two } });
  });

  it("refuses a bad limit, cursor or prefix, naming the field", async ({ expect }) => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=1e2", "limit"],
      ["cursor=Not_A_Name", "cursor"],
      ["prefix=UPPER", "prefix"],
    ] as const) {
      const response = await api("GET", `/api/projects?${query}`);
      expect([query, response.status, (await response.json<{ error: { field: string } }>()).error.field]).toEqual([
        query,
        400,
        field,
      ]);
    }
  });
});

describe("serving", () => {
  it("asks the registry nothing for requests to known and unknown hosts once its filter is held", async ({
    expect,
  }) => {
    const project = uniqueProject("quiet");
    await createProject(project);
    await deploy(project, { "/index.html": "quiet" });
    expect((await site(project, "/")).status).toBe(200);
    const before = await apiJson<{ registryCalls: number }>("GET", "/api/stats");
    const started = Date.now();
    const requests = 40;
    for (let i = 0; i < requests / 2; i += 1) {
      expect((await site(project, "/")).status).toBe(200);
      expect((await site(`nobody-${i}-${project}`, "/")).status).toBe(404);
    }
    const elapsed = Date.now() - started;
    const after = await apiJson<{ registryCalls: number }>("GET", "/api/stats");
    // Calls come from renewing the host filter's lease (25 ms here, renewed
    // after half of it at the earliest), never from a request as such.
    expect(after.registryCalls - before.registryCalls).toBeLessThanOrEqual(Math.ceil(elapsed / 12.5) + 1);
  });
});

describe("deleting a project", () => {
  it("frees its name in the registry when the Durable Object's alarm takes the last step", async ({ expect }) => {
    const project = uniqueProject("alarm-del");
    await createProject(project);
    await deploy(project, { "/index.html": "doomed" });
    // A deletion the API began and left to the alarm (as when its caller went away).
    const registry = env.REGISTRY.getByName("registry");
    expect((await registry.beginDelete(project)).ok).toBe(true);
    const manifest = env.MANIFEST.getByName(project);
    await runInDurableObject(manifest, (_instance, state) => {
      state.storage.sql.exec("UPDATE project SET deleting = 1 WHERE id = 1");
    });
    expect(await registry.state(project)).toBe("deleting");
    for (let run = 0; run < 10 && (await registry.state(project)) !== null; run += 1) {
      await runInDurableObject(manifest, (_instance, state) => state.storage.setAlarm(Date.now()));
      await runDurableObjectAlarm(manifest);
    }
    expect(await registry.state(project)).toBeNull();
    expect((await api("GET", `/api/projects/${project}`)).status).toBe(404);
    // The name is free again, and the project new.
    await createProject(project);
    const fresh = await apiJson<{ versions: unknown[] }>("GET", `/api/projects/${project}/versions`);
    expect(fresh.versions).toEqual([]);
  });

  it("leaves a project that is not being deleted alone when asked to finish its deletion", async ({ expect }) => {
    const project = uniqueProject("not-del");
    await createProject(project);
    const registry = env.REGISTRY.getByName("registry");
    expect(await registry.finishDelete(project)).toEqual({ deleted: true });
    expect(await registry.state(project)).toBe("active");
  });
});
