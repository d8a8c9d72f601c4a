/**
 * Running it as a hosting platform (#13): the project registry (listing,
 * deleting, and answering unknown hosts without a Durable Object), custom
 * domains, aliases and the activation history. Real local R2 and Durable
 * Objects.
 */
import { listDurableObjectIds } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, it } from "vitest";
import { api, apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function host(hostname: string, path = "/"): Promise<Response> {
  return exports.default.fetch(new Request(`http://${hostname}${path}`));
}

describe("the registry", () => {
  it("answers unknown hosts and token-shaped strings without starting a Durable Object (#9)", async ({ expect }) => {
    await createProject(uniqueProject("known"));
    const before = (await listDurableObjectIds(env.MANIFEST)).length;
    for (let i = 0; i < 20; i += 1) {
      const name = `ghost-${crypto.randomUUID().slice(0, 8)}`;
      expect((await site(name, "/")).status).toBe(404);
      expect((await host(`v.${name}.localhost`)).status).toBe(404);
      expect((await host(`${name}.example.org`)).status).toBe(404);
      const token = `r2a_${name}_${"A".repeat(43)}`;
      expect((await api("GET", `/api/projects/${name}`, { token })).status).toBe(401);
      expect((await api("GET", `/api/projects/${name}/versions`)).status).toBe(404);
    }
    expect((await listDurableObjectIds(env.MANIFEST)).length).toBe(before);
  });

  it("lists every project with its live version, aliases, domains and stored bytes (admin only)", async ({
    expect,
  }) => {
    const project = uniqueProject("listed");
    await createProject(project);
    const { version } = await deploy(project, { "/index.html": "0123456789" });
    const { projects } = await apiJson<{
      projects: { name: string; activeVersion: string; storedBytes: number; state: string }[];
    }>("GET", "/api/projects");
    expect(projects.find((entry) => entry.name === project)).toMatchObject({
      activeVersion: version,
      storedBytes: 10,
      state: "active",
    });
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${project}/tokens`, {
      body: { scope: "manage" },
      status: 201,
    });
    expect((await api("GET", "/api/projects", { token })).status).toBe(403);
  });

  it("deletes a project completely, after which its name can be created again", async ({ expect }) => {
    const project = uniqueProject("doomed");
    await createProject(project);
    await deploy(project, { "/index.html": "old", "/a.txt": "a" });
    await apiJson("POST", `/api/projects/${project}/tokens`, { status: 201 });
    await apiJson("PUT", `/api/projects/${project}/domains/doomed.example.net`, { status: 201 });
    const open = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`, { status: 201 });
    // Two blobs and the version's manifest snapshot (one page).
    expect((await env.BLOBS.list({ prefix: `projects/${project}/` })).objects.length).toBe(3);

    const deleted = await apiJson<{ deleted: boolean; deletedObjects: number }>("DELETE", `/api/projects/${project}`);
    expect(deleted).toMatchObject({ deleted: true, deletedObjects: 3 });
    expect((await env.BLOBS.list({ prefix: `projects/${project}/` })).objects).toEqual([]);
    expect((await site(project, "/")).status).toBe(404);
    expect((await host("doomed.example.net")).status).toBe(404);
    // The deploy that was open cannot go on.
    const late = await api("POST", `/api/projects/${project}/deploys/${open.version}/finalize`);
    expect(late.status).toBe(404);

    await createProject(project);
    const again = await apiJson<{ activeVersion: string | null; storedBytes: number }>(
      "GET",
      `/api/projects/${project}`,
    );
    expect(again).toMatchObject({ activeVersion: null, storedBytes: 0 });
    expect(await apiJson<{ tokens: unknown[] }>("GET", `/api/projects/${project}/tokens`)).toMatchObject({
      tokens: [],
    });
    expect((await api("DELETE", "/api/projects/never-was-a-project")).status).toBe(404);
  });

  it("waits for uploads under way before it deletes, so that no blob outlives its project", async ({ expect }) => {
    const project = uniqueProject("busy");
    await createProject(project);
    await deploy(project, { "/index.html": "x" });
    // An upload has been told to go ahead and is streaming.
    const hash = "cd".repeat(32);
    const manifest = env.MANIFEST.getByName(project);
    const admin = { incarnation: (await manifest.open(project)) ?? "", token: null };
    expect(await manifest.prepareUpload(admin, hash, 10)).toEqual({ ok: true, value: { present: false } });
    const waiting = await api("DELETE", `/api/projects/${project}`);
    expect([waiting.status, (await waiting.json<{ state: string; uploads: number }>()).state]).toEqual([
      202,
      "waiting",
    ]);
    // It is no longer served, and nothing new can start.
    expect((await site(project, "/")).status).toBe(404);
    expect((await api("POST", `/api/projects/${project}/deploys`)).status).toBe(404);
    await env.MANIFEST.getByName(project).releaseUpload(hash);
    expect(await apiJson("DELETE", `/api/projects/${project}`)).toMatchObject({ deleted: true });
  });
});

describe("custom domains", () => {
  it("serve a project's live version or an alias, one project per hostname", async ({ expect }) => {
    const project = uniqueProject("domains");
    const other = uniqueProject("other");
    await createProject(project);
    await createProject(other);
    const v1 = await deploy(project, { "/index.html": "one" });
    await deploy(project, { "/index.html": "two" });
    await apiJson("PUT", `/api/projects/${project}/aliases/staging`, { body: { version: v1.version } });
    const www = `www.${project}.example.com`;
    const stage = `stage.${project}.example.com`;
    expect(await apiJson("PUT", `/api/projects/${project}/domains/${www}`, { status: 201 })).toMatchObject({
      hostname: www,
      alias: null,
    });
    await apiJson("PUT", `/api/projects/${project}/domains/${stage}`, { body: { alias: "staging" }, status: 201 });
    expect(await (await host(www)).text()).toBe("two");
    expect(await (await host(www.toUpperCase())).text()).toBe("two");
    expect(await (await host(stage)).text()).toBe("one");

    const taken = await api("PUT", `/api/projects/${other}/domains/${www}`);
    expect([taken.status, (await taken.json<ErrorBody>()).error.code]).toEqual([409, "conflict"]);
    for (const bad of ["not a host", "localhost", "10.0.0.1", `x.${other}.localhost`, "a..b.com", "-a.example.com"]) {
      const res = await api("PUT", `/api/projects/${other}/domains/${encodeURIComponent(bad)}`);
      expect([res.status, (await res.json<ErrorBody>()).error.field], bad).toEqual([400, "hostname"]);
    }
    const listed = await apiJson<{ domains: { hostname: string }[] }>("GET", `/api/projects/${project}/domains`);
    expect(listed.domains.map((domain) => domain.hostname)).toEqual([stage, www].sort());
    await apiJson("DELETE", `/api/projects/${project}/domains/${www}`);
    expect((await host(www)).status).toBe(404);
  });
});

describe("aliases", () => {
  it("are pointers next to live, served at <alias>.<project>, moved atomically and kept from retention", async ({
    expect,
  }) => {
    const project = uniqueProject("aliases");
    await createProject(project, 1);
    const v1 = await deploy(project, { "/index.html": "one" });
    await apiJson("PUT", `/api/projects/${project}/aliases/staging`, { body: { version: v1.version } });
    const v2 = await deploy(project, { "/index.html": "two" }, { activate: false });
    const v3 = await deploy(project, { "/index.html": "three" }, { activate: false });
    await apiJson("PUT", `/api/projects/${project}/aliases/pr-42`, { body: { version: v3.version } });
    expect(await (await site(project, "/")).text()).toBe("one");
    expect(await (await host(`staging.${project}.localhost`)).text()).toBe("one");
    expect(await (await host(`pr-42.${project}.localhost`)).text()).toBe("three");
    // Retention of 1 keeps live (v1) and pr-42's version (v3); v2 goes.
    const versions = await apiJson<{ versions: { version: string; aliases: string[] }[] }>(
      "GET",
      `/api/projects/${project}/versions`,
    );
    expect(versions.versions.map((v) => [v.version, v.aliases])).toEqual([
      [v3.version, ["pr-42"]],
      [v1.version, ["staging"]],
    ]);
    expect(v2.version < v3.version).toBe(true);
    const refused = await api("DELETE", `/api/projects/${project}/versions/${v3.version}`);
    expect([refused.status, (await refused.json<ErrorBody>()).error.message]).toEqual([
      409,
      expect.stringMatching(/pr-42/),
    ]);

    // Moving an alias takes effect everywhere once it returns.
    await apiJson("PUT", `/api/projects/${project}/aliases/staging`, { body: { version: v3.version } });
    expect(await (await host(`staging.${project}.localhost`)).text()).toBe("three");
    await apiJson("DELETE", `/api/projects/${project}/aliases/pr-42`);
    expect((await host(`pr-42.${project}.localhost`)).status).toBe(404);

    for (const bad of ["20261124-082301-123", "live", "Bad_Name", "-x"]) {
      const res = await api("PUT", `/api/projects/${project}/aliases/${bad}`, { body: { version: v1.version } });
      expect([res.status, (await res.json<ErrorBody>()).error.field], bad).toEqual([400, "alias"]);
    }
    const missing = await api("PUT", `/api/projects/${project}/aliases/next`, {
      body: { version: "20200101-000000-000" },
    });
    expect(missing.status).toBe(409);
  });

  it("can be moved by a deploy", async ({ expect }) => {
    const project = uniqueProject("deploy-alias");
    await createProject(project);
    const live = await deploy(project, { "/index.html": "live" });
    const staged = await deploy(project, { "/index.html": "preview" }, { finalize: false });
    const result = await apiJson<{ active: boolean; alias: string; aliasUrl: string }>(
      "POST",
      `/api/projects/${project}/deploys/${staged.version}/finalize`,
      { body: { alias: "staging" } },
    );
    expect(result).toMatchObject({ active: false, alias: "staging", aliasUrl: `http://staging.${project}.localhost/` });
    expect(await (await host(`staging.${project}.localhost`)).text()).toBe("preview");
    const home = await site(project, "/");
    expect([await home.text(), home.headers.get("x-r2-assets-version")]).toEqual(["live", live.version]);
  });
});

describe("the activation history", () => {
  it("records every move of every pointer, with what moved it and who", async ({ expect }) => {
    const project = uniqueProject("history");
    await createProject(project);
    const { token, id } = await apiJson<{ token: string; id: string }>("POST", `/api/projects/${project}/tokens`, {
      status: 201,
    });
    const v1 = await deploy(project, { "/index.html": "one" });
    const v2 = await deploy(project, { "/index.html": "two" }, { token });
    await apiJson("POST", `/api/projects/${project}/rollback`, { token });
    await apiJson("POST", `/api/projects/${project}/activate`, { body: { version: v2.version } });
    await apiJson("PUT", `/api/projects/${project}/aliases/staging`, { body: { version: v1.version }, token });
    await apiJson("DELETE", `/api/projects/${project}/aliases/staging`);
    const { history } = await apiJson<{
      history: { pointer: string; kind: string; from: string | null; to: string | null; actor: string }[];
    }>("GET", `/api/projects/${project}/history`);
    expect(history.map(({ pointer, kind, from, to, actor }) => [pointer, kind, from, to, actor])).toEqual([
      ["staging", "unalias", v1.version, null, "admin"],
      ["staging", "alias", null, v1.version, id],
      ["live", "activate", v1.version, v2.version, "admin"],
      ["live", "rollback", v2.version, v1.version, id],
      ["live", "deploy", v1.version, v2.version, id],
      ["live", "deploy", null, v1.version, "admin"],
    ]);
    // Rollback still walks back through it.
    expect(await apiJson("POST", `/api/projects/${project}/rollback`)).toMatchObject({ active: v1.version });
    const limited = await apiJson<{ history: unknown[] }>("GET", `/api/projects/${project}/history?limit=2`);
    expect(limited.history).toHaveLength(2);
    expect((await api("GET", `/api/projects/${project}/history?limit=0`)).status).toBe(400);
  });
});

describe("the web console", () => {
  it("is served on the control host, with a policy that allows only its own files", async ({ expect }) => {
    const page = await host("localhost", "/");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await page.text()).toContain('<script type="module" src="/console.js">');
    const script = await host("localhost", "/console.js");
    expect([script.headers.get("content-type"), (await script.text()).includes("sessionStorage")]).toEqual([
      "text/javascript; charset=utf-8",
      true,
    ]);
    expect((await host("localhost", "/console.css")).status).toBe(200);
    expect((await host("localhost", "/nothing")).status).toBe(404);
  });
});
