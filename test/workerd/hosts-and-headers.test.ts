/**
 * Hardening, round two (#19), at the serving edge and the control plane:
 * one form of the host for dispatch, host rules and cookies; Set-Cookie
 * lines kept apart; HEAD with GET's Content-Length; patterns that cannot
 * stall other tenants; lookalike names; a stored-bytes quota.
 */
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, it } from "vitest";
import { api, apiJson, bytesOf, contentHash, createProject, deploy, site, uniqueProject } from "./helpers.ts";

const HEADERS = [
  "https://:project.localhost/*",
  "  X-Frame-Options: DENY",
  "/*",
  "  Set-Cookie: a=1; Path=/",
  "  Set-Cookie: b=2; Path=/",
].join("\n");

function fetchAt(url: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(url, init));
}

describe("the host, in one form", () => {
  it("applies host rules whatever the case, a trailing dot or a port", async ({ expect }) => {
    const project = uniqueProject("hostrule");
    await createProject(project);
    await deploy(project, { "/index.html": "home" }, { config: { headers: HEADERS } });
    for (const host of [
      `${project}.localhost`,
      `${project}.localhost.`,
      `${project}.LOCALHOST`,
      `${project}.localhost:8787`,
    ]) {
      const response = await fetchAt(`http://${host}/`);
      expect([host, response.status, response.headers.get("x-frame-options")]).toEqual([host, 200, "DENY"]);
    }
  });

  it("sends each Set-Cookie line of _headers as a header of its own", async ({ expect }) => {
    const project = uniqueProject("cookies");
    await createProject(project);
    await deploy(project, { "/index.html": "home" }, { config: { headers: HEADERS } });
    const response = await site(project, "/");
    expect(response.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
  });
});

describe("HEAD", () => {
  it("carries GET's Content-Length on 404, 416 and redirects", async ({ expect }) => {
    const project = uniqueProject("headlen");
    await createProject(project);
    await deploy(
      project,
      { "/index.html": "home", "/file.txt": "0123456789" },
      { config: { redirects: "/old /new 307" } },
    );
    const cases: [string, Record<string, string>][] = [
      ["/missing", {}],
      ["/file.txt", { range: "bytes=50-60" }],
      ["/old", {}],
    ];
    for (const [path, headers] of cases) {
      const get = await site(project, path, { headers });
      const body = await get.arrayBuffer();
      const head = await site(project, path, { method: "HEAD", headers });
      expect([path, head.status, head.headers.get("content-length")]).toEqual([
        path,
        get.status,
        String(body.byteLength),
      ]);
      expect(get.headers.get("content-length")).toBe(String(body.byteLength));
    }
  });
});

describe("patterns that could backtrack", () => {
  it("are answered at once while another project is served", async ({ expect }) => {
    const slow = uniqueProject("patterns");
    const other = uniqueProject("bystander");
    await createProject(slow);
    await createProject(other);
    await deploy(
      slow,
      { "/index.html": "home" },
      {
        config: {
          redirects: "/:a:b:c:d:e:f:g:h/z /x 302",
          headers: "/*:a:b:c:d:e:f:g/z\n  X-Never: 1",
        },
      },
    );
    await deploy(other, { "/index.html": "other" });
    const started = Date.now();
    const [hostile, bystander] = await Promise.all([site(slow, `/${"a".repeat(200)}`), site(other, "/")]);
    expect([hostile.status, bystander.status, await bystander.text()]).toEqual([404, 200, "other"]);
    // A backtracking matcher takes longer than the age of the universe on
    // this path; a linear one, microseconds. The bound allows for a busy machine.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("are refused at deploy beyond the limits, naming the line", async ({ expect }) => {
    const project = uniqueProject("limits");
    await createProject(project);
    const response = await apiJson<{ warnings: { file: string; line: number; message: string }[] }>(
      "POST",
      `/api/projects/${project}/deploys`,
      { body: { config: { redirects: "/ok /x\n/:a:b:c:d:e:f:g:h:i:j:k:l:m:n/z /x 302" } }, status: 201 },
    );
    expect(response.warnings).toEqual([
      { file: "_redirects", line: 2, message: expect.stringMatching(/at most 8 are allowed/) as unknown as string },
    ]);
  });
});

describe("the control plane", () => {
  it("refuses punycode lookalike project names unless asked for", async ({ expect }) => {
    const refused = await api("PUT", "/api/projects/xn--pple-43d", { body: {} });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toMatch(/allowPunycode/);
    const name = `xn--${uniqueProject("p")}`;
    const allowed = await api("PUT", `/api/projects/${name}`, { body: { allowPunycode: true } });
    expect(allowed.status).toBe(201);
  });

  it("lets any token of the project list its domains, and only the admin change them", async ({ expect }) => {
    const project = uniqueProject("domains");
    await createProject(project);
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${project}/tokens`, {
      body: { scope: "deploy" },
      status: 201,
    });
    expect((await api("GET", `/api/projects/${project}/domains`, { token })).status).toBe(200);
    expect(
      (await api("PUT", `/api/projects/${project}/domains/www.${project}.example`, { token, body: {} })).status,
    ).toBe(403);
  });

  it("keeps a project within its stored-bytes quota, uploads no deploy lists included, and collects those", async ({
    expect,
  }) => {
    const project = uniqueProject("quota");
    await createProject(project);
    await apiJson("PATCH", `/api/projects/${project}`, { body: { quotas: { storedBytes: 100 } } });
    const first = bytesOf("x".repeat(60));
    const second = bytesOf("y".repeat(60));
    // No deploy is open: the upload still counts against the quota.
    const put = (bytes: Uint8Array, hash: string): Promise<Response> =>
      api("PUT", `/api/projects/${project}/blobs/${hash}`, { body: bytes });
    expect((await put(first, await contentHash(first))).status).toBe(201);
    const over = await put(second, await contentHash(second));
    expect(over.status).toBe(429);
    expect(await over.json()).toMatchObject({ error: { code: "quota_exceeded", quota: "storedBytes" } });
    // An unlisted upload is collected by the Durable Object's own alarm, not only by gc.
    const stub = env.MANIFEST.getByName(project);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await apiJson<{ storedBytes: number }>("GET", `/api/projects/${project}`)).storedBytes).toBe(0);
    expect((await put(second, await contentHash(second))).status).toBe(201);
  });
});
