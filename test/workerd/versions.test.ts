/**
 * Activation, rollback, retention, pinning and deletion of versions.
 */
import { describe, it } from "vitest";
import { api, apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface Activation {
  project: string;
  active: string;
  previous: string | null;
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function live(project: string): Promise<{ text: string; version: string | null }> {
  const res = await site(project, "/v.txt");
  return { text: await res.text(), version: res.headers.get("x-r2-assets-version") };
}

async function threeVersions(prefix: string, retention?: number): Promise<{ project: string; versions: string[] }> {
  const project = uniqueProject(prefix);
  await createProject(project, retention);
  const versions: string[] = [];
  for (const n of [1, 2, 3]) {
    versions.push((await deploy(project, { "/v.txt": `v${n}` })).version);
  }
  return { project, versions };
}

describe("activation and rollback", () => {
  it("activates any finalized version at once", async ({ expect }) => {
    const { project, versions } = await threeVersions("activate");
    const [v1, , v3] = versions;
    const result = await apiJson<Activation>("POST", `/api/projects/${project}/activate`, { body: { version: v1 } });
    expect(result).toMatchObject({ project, active: v1, previous: v3 });
    expect(await live(project)).toEqual({ text: "v1", version: v1 });
  });

  it("rolls back through the history, one earlier version per call", async ({ expect }) => {
    const { project, versions } = await threeVersions("rollback");
    const [v1, v2, v3] = versions;
    expect(await apiJson<Activation>("POST", `/api/projects/${project}/rollback`)).toMatchObject({
      active: v2,
      previous: v3,
    });
    expect(await live(project)).toEqual({ text: "v2", version: v2 });
    expect(await apiJson<Activation>("POST", `/api/projects/${project}/rollback`)).toMatchObject({
      active: v1,
      previous: v2,
    });
    expect(await live(project)).toEqual({ text: "v1", version: v1 });
    const res = await api("POST", `/api/projects/${project}/rollback`);
    expect(res.status).toBe(409);
    expect((await res.json<ErrorBody>()).error.message).toMatch(/no version was live before/);
  });

  it("rolls back to a named version", async ({ expect }) => {
    const { project, versions } = await threeVersions("rollback-to");
    const [v1, , v3] = versions;
    expect(await apiJson<Activation>("POST", `/api/projects/${project}/rollback`, { body: { to: v1 } })).toMatchObject({
      active: v1,
      previous: v3,
    });
    expect(await live(project)).toEqual({ text: "v1", version: v1 });
  });

  it("refuses unknown, unfinished, pruned and deleted targets with 409 and a reason", async ({ expect }) => {
    const { project, versions } = await threeVersions("bad-target", 2);
    const [v1, v2] = versions;
    const staged = await deploy(project, { "/v.txt": "staged" }, { finalize: false });
    await apiJson("DELETE", `/api/projects/${project}/versions/${v2}`);
    const cases: [string, RegExp][] = [
      ["20200101-000000-000", /does not exist/],
      [staged.version, /not finalized/],
      [v1 ?? "", /pruned/],
      [v2 ?? "", /deleted/],
    ];
    for (const [to, reason] of cases) {
      for (const [path, body] of [
        ["rollback", { to }],
        ["activate", { version: to }],
      ] as const) {
        const res = await api("POST", `/api/projects/${project}/${path}`, { body });
        expect(res.status, `${path} ${to}`).toBe(409);
        const error = (await res.json<ErrorBody>()).error;
        expect(error.code).toBe("version_unavailable");
        expect(error.message).toMatch(reason);
      }
    }
    expect((await live(project)).text).toBe("v3");
  });

  it("has nothing to roll back to before the first activation", async ({ expect }) => {
    const project = uniqueProject("empty-rollback");
    await createProject(project);
    const res = await api("POST", `/api/projects/${project}/rollback`);
    expect(res.status).toBe(409);
    expect((await res.json<ErrorBody>()).error.message).toMatch(/no version is live/);
  });

  it("serves 404 before any version is live", async ({ expect }) => {
    const project = uniqueProject("nothing-live");
    await createProject(project);
    await deploy(project, { "/v.txt": "x" }, { activate: false });
    expect((await site(project, "/v.txt")).status).toBe(404);
  });
});

describe("retention", () => {
  it("keeps the newest N versions plus the live and pinned ones", async ({ expect }) => {
    const project = uniqueProject("retain");
    await createProject(project, 2);
    const v1 = (await deploy(project, { "/v.txt": "v1" })).version;
    await apiJson("PUT", `/api/projects/${project}/versions/${v1}/pin`);
    const v2 = (await deploy(project, { "/v.txt": "v2" })).version;
    const v3 = (await deploy(project, { "/v.txt": "v3" })).version;
    await apiJson("POST", `/api/projects/${project}/activate`, { body: { version: v2 } });
    const v4 = (await deploy(project, { "/v.txt": "v4" }, { activate: false })).version;
    const v5 = (await deploy(project, { "/v.txt": "v5" }, { activate: false })).version;
    const { versions } = await apiJson<{ versions: { version: string; active: boolean; pinned: boolean }[] }>(
      "GET",
      `/api/projects/${project}/versions`,
    );
    // Newest two (v5, v4), the live one (v2) and the pinned one (v1); v3 is pruned.
    expect(versions.map((v) => v.version)).toEqual([v5, v4, v2, v1]);
    expect(versions.find((v) => v.active)?.version).toBe(v2);
    expect(versions.find((v) => v.pinned)?.version).toBe(v1);
    const res = await api("POST", `/api/projects/${project}/activate`, { body: { version: v3 } });
    expect(res.status).toBe(409);
  });

  it("prunes at once when retention is lowered", async ({ expect }) => {
    const { project, versions } = await threeVersions("lower");
    await apiJson("PATCH", `/api/projects/${project}`, { body: { retention: 1 } });
    const { versions: kept } = await apiJson<{ versions: { version: string }[] }>(
      "GET",
      `/api/projects/${project}/versions`,
    );
    expect(kept.map((v) => v.version)).toEqual([versions[2]]);
  });
});

describe("deleting versions", () => {
  it("refuses to delete the live version or a pinned one", async ({ expect }) => {
    const { project, versions } = await threeVersions("delete");
    const [v1, , v3] = versions;
    expect((await api("DELETE", `/api/projects/${project}/versions/${v3}`)).status).toBe(409);
    await apiJson("PUT", `/api/projects/${project}/versions/${v1}/pin`);
    expect((await api("DELETE", `/api/projects/${project}/versions/${v1}`)).status).toBe(409);
    await apiJson("DELETE", `/api/projects/${project}/versions/${v1}/pin`);
    expect(await apiJson("DELETE", `/api/projects/${project}/versions/${v1}`)).toEqual({ project, deleted: v1 });
    expect((await api("DELETE", `/api/projects/${project}/versions/${v1}`)).status).toBe(404);
    expect((await api("DELETE", `/api/projects/${project}/versions/20200101-000000-000`)).status).toBe(404);
  });
});
