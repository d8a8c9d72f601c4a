/**
 * Projects with server code: the check that it starts at finalize, the routing order of
 * Workers with assets, env.ASSETS, isolation between projects, previews and
 * failures of tenant code. Runs the real Worker Loader in workerd.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import {
  api,
  apiJson,
  bytesOf,
  contentHash,
  createProject,
  deploy,
  rawBundle,
  site,
  uniqueProject,
} from "./helpers.ts";

const SERVER = `
import { describe } from "./describe";

interface Env {
  ASSETS: Fetcher;
  GREETING: string;
  [name: string]: unknown;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/api/through-assets":
        return env.ASSETS.fetch(new Request(new URL("/data.json", request.url)));
      case "/api/missing-through-assets":
        return env.ASSETS.fetch(new Request(new URL("/no/such/page", request.url)));
      case "/api/throw":
        throw new Error("boom");
      case "/api/outbound":
        try {
          await fetch("https://example.com/");
          return new Response("reached the network");
        } catch (error) {
          return new Response("no network: " + (error as Error).message);
        }
      case "/api/steal":
        return env.ASSETS.fetch(url.searchParams.get("url") ?? "");
      case "/api/env":
        return Response.json(Object.keys(env).sort());
      default:
        return new Response(describe(request.method, url.pathname, env.GREETING), { headers: { "x-served-by": "server" } });
    }
  },
};
`;

const DESCRIBE = `export function describe(method: string, path: string, greeting: string): string {
  return \`server \${method} \${path} \${greeting}\`;
}
`;

const ASSETS = {
  "/index.html": "<div id=app>app shell</div>",
  "/about.html": "<h1>about</h1>",
  "/api/docs/index.html": "<h1>api docs</h1>",
  "/data.json": '{"from":"assets"}',
  "/secret.txt": "secret of this project",
  "/404.html": "<h1>lost</h1>",
};

/** The server code's compatibility settings, where a test needs others than the defaults. */
interface Compat {
  compatibility_date?: string;
  compatibility_flags?: string[];
}

function server(vars: Record<string, string> = { GREETING: "hello" }, compat: Compat = {}) {
  return {
    entry: "server/index.ts",
    files: { "server/index.ts": SERVER, "server/describe.ts": DESCRIBE },
    vars,
    ...compat,
  };
}

async function fullStack(
  prefix: string,
  config: Record<string, unknown>,
  withServer = true,
  compat: Compat = {},
): Promise<string> {
  const project = uniqueProject(prefix);
  await createProject(project);
  await deploy(project, ASSETS, { config, server: withServer ? server(undefined, compat) : undefined });
  return project;
}

type Who = "server" | "asset" | "404" | "shell";

async function whoAnswers(project: string, path: string, navigate = false): Promise<Who> {
  const res = await site(project, path, {
    headers: navigate ? { "sec-fetch-mode": "navigate" } : {},
    redirect: "manual",
  });
  const text = await res.text();
  if (res.headers.get("x-served-by") === "server") {
    return "server";
  }
  if (text === ASSETS["/index.html"] && path !== "/") {
    return "shell";
  }
  return res.status === 404 ? "404" : "asset";
}

describe("routing order with server code", () => {
  // [config, path, navigation request, with server code, who answers, the server code's compatibility]
  const table: [Record<string, unknown>, string, boolean, boolean, Who, Compat?][] = [
    // 2. A matching asset is served without waking the server code.
    [{}, "/about", false, true, "asset"],
    [{}, "/data.json", false, true, "asset"],
    [{}, "/", false, true, "asset"],
    // 4. No asset: the server code answers...
    [{}, "/api/users", false, true, "server"],
    [{ not_found_handling: "single-page-application" }, "/api/users", false, true, "server"],
    [{ not_found_handling: "404-page" }, "/api/users", false, true, "server"],
    // ...except a navigation request to a single-page application, which gets the shell.
    [{ not_found_handling: "single-page-application" }, "/dashboard", true, true, "shell"],
    [{}, "/dashboard", true, true, "server"],
    // 3. No server code: not_found_handling applies.
    [{ not_found_handling: "single-page-application" }, "/dashboard", false, false, "shell"],
    [{ not_found_handling: "404-page" }, "/dashboard", false, false, "404"],
    [{}, "/dashboard", false, false, "404"],
    // 1. run_worker_first sends matching requests to the server code first.
    [{ run_worker_first: true }, "/about", false, true, "server"],
    [{ run_worker_first: ["/api/*", "!/api/docs/*"] }, "/api/docs/", false, true, "asset"],
    [{ run_worker_first: ["/api/*", "!/api/docs/*"] }, "/api/data", false, true, "server"],
    [{ run_worker_first: ["/api/*"] }, "/about", false, true, "asset"],
    [{ run_worker_first: true }, "/about", false, false, "asset"],
    // As Workers Static Assets does (#11), from packages/workers-shared in cloudflare/workers-sdk:
    // run_worker_first as patterns turns on static routing (router-worker/src/worker.ts): a miss
    // gets not_found_handling (asset-worker/src/handler.ts, canFetch), an exclusion never the code.
    [
      { run_worker_first: ["/api/*"], not_found_handling: "single-page-application" },
      "/missing.js",
      false,
      true,
      "shell",
    ],
    [{ run_worker_first: ["/api/*"], not_found_handling: "404-page" }, "/missing", false, true, "404"],
    [{ run_worker_first: ["/api/*"] }, "/missing", false, true, "server"],
    [{ run_worker_first: ["/api/*", "!/api/docs/*"] }, "/api/docs/missing", false, true, "404"],
    // A navigation prefers assets whatever not_found_handling is (asset-worker/src/handler.ts)...
    [{ not_found_handling: "404-page" }, "/dashboard", true, true, "404"],
    // ...from compatibility date 2025-04-01, or with its flag (asset-worker/src/compatibility-flags.ts).
    [
      { not_found_handling: "single-page-application" },
      "/dashboard",
      true,
      true,
      "server",
      { compatibility_date: "2025-03-31" },
    ],
    [
      { not_found_handling: "single-page-application" },
      "/dashboard",
      true,
      true,
      "shell",
      { compatibility_date: "2025-03-31", compatibility_flags: ["assets_navigation_prefers_asset_serving"] },
    ],
    [
      { not_found_handling: "404-page" },
      "/dashboard",
      true,
      true,
      "server",
      { compatibility_flags: ["assets_navigation_has_no_effect"] },
    ],
  ];

  const projects = new Map<string, Promise<string>>();
  const projectFor = (config: Record<string, unknown>, withServer: boolean, compat: Compat = {}): Promise<string> => {
    const key = JSON.stringify([config, withServer, compat]);
    let project = projects.get(key);
    if (!project) {
      project = fullStack("order", config, withServer, compat);
      projects.set(key, project);
    }
    return project;
  };

  for (const [config, path, navigate, withServer, who, compat] of table) {
    it(`${JSON.stringify(config)} ${navigate ? "navigate " : ""}${path} ${withServer ? "with" : "without"} server code${compat ? ` ${JSON.stringify(compat)}` : ""} → ${who}`, async ({
      expect,
    }) => {
      const project = await projectFor(config, withServer, compat);
      expect(await whoAnswers(project, path, navigate)).toBe(who);
    });
  }
});

describe("the server code", () => {
  it("is bundled with its local imports and gets its variables", async ({ expect }) => {
    const project = await fullStack("vars", {});
    const res = await site(project, "/api/hello", { method: "POST" });
    expect(await res.text()).toBe("server POST /api/hello hello");
    expect(await (await site(project, "/api/env")).json()).toEqual(["ASSETS", "GREETING"]);
  });

  it("reads its own files through env.ASSETS, with not_found_handling", async ({ expect }) => {
    const project = await fullStack("assets", { not_found_handling: "404-page" });
    expect(await (await site(project, "/api/through-assets")).json()).toEqual({ from: "assets" });
    const missing = await site(project, "/api/missing-through-assets");
    expect([missing.status, await missing.text()]).toEqual([404, "<h1>lost</h1>"]);
  });

  it("can never read another project's files", async ({ expect }) => {
    const victim = uniqueProject("victim");
    await createProject(victim);
    await deploy(victim, { "/secret.txt": "the victim's secret" });
    const attacker = await fullStack("attacker", {});
    for (const url of [
      `http://${victim}.localhost/secret.txt`,
      `http://localhost/api/projects/${victim}/versions`,
      "/secret.txt",
    ]) {
      const res = await site(attacker, `/api/steal?url=${encodeURIComponent(url)}`);
      expect(await res.text(), url).not.toContain("the victim's secret");
    }
  });

  it("has no outbound network", async ({ expect }) => {
    const project = await fullStack("outbound", {});
    expect(await (await site(project, "/api/outbound")).text()).toMatch(/^no network: /);
  });

  it("fails one request, not the platform, when it throws", async ({ expect }) => {
    const project = await fullStack("throws", {});
    const res = await site(project, "/api/throw");
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/server code failed/);
    expect(await (await site(project, "/about")).text()).toBe("<h1>about</h1>");
    expect((await site(project, "/api/ok")).status).toBe(200);
  });

  it("fails the deploy when the bundle does not start, saying why, and leaves the live version alone", async ({
    expect,
  }) => {
    const project = uniqueProject("badcode");
    await createProject(project);
    const live = await deploy(project, { "/index.html": "v1" });
    const finalizeWith = async (
      bundle: unknown,
    ): Promise<{ status: number; error: { field: string; message: string } }> => {
      const staged = await deploy(project, { "/index.html": "v2" }, { ...(await rawBundle(bundle)), finalize: false });
      const res = await api("POST", `/api/projects/${project}/deploys/${staged.version}/finalize`);
      return { status: res.status, error: (await res.json<{ error: { field: string; message: string } }>()).error };
    };
    const missing = await finalizeWith({
      mainModule: "index.js",
      modules: {
        "index.js": 'import { x } from "./missing.js";\nexport default { fetch() { return new Response(x) } }',
      },
    });
    expect(missing.status).toBe(400);
    expect(missing.error.field).toBe("server");
    expect(missing.error.message).toMatch(/^server: the server code does not start: .*missing/);
    const syntax = await finalizeWith({
      mainModule: "index.js",
      modules: { "index.js": "export default { fetch( };" },
    });
    expect([syntax.status, syntax.error.field]).toEqual([400, "server"]);
    expect(syntax.error.message).toMatch(/^server: the server code does not start: [^\n]+$/);
    const throws = await finalizeWith({
      mainModule: "index.js",
      modules: { "index.js": 'throw new Error("at start");' },
    });
    expect(throws.error.message).toMatch(/does not start: .*at start/);
    const noFetch = await finalizeWith({ mainModule: "index.js", modules: { "index.js": "export default {};" } });
    expect(noFetch.error.message).toMatch(/no fetch handler/);
    const shapeless = await finalizeWith({ main: "index.js" });
    expect([shapeless.status, shapeless.error.field]).toEqual([400, "server.bundle"]);
    const home = await site(project, "/");
    expect([await home.text(), home.headers.get("x-r2-assets-version")]).toEqual(["v1", live.version]);
  });

  it("refuses bad server options, naming the field", async ({ expect }) => {
    const project = uniqueProject("badserver");
    await createProject(project);
    const bundle = { hash: "ab".repeat(32), size: 100 };
    const cases: [unknown, string][] = [
      ["code", "server"],
      [{ entry: "a.ts", files: { "a.ts": "" } }, "server.bundle"],
      [{ bundle: { hash: "nope", size: 1 } }, "server.bundle"],
      [{ bundle, vars: { ASSETS: "x" } }, "server.vars.ASSETS"],
      [{ bundle, vars: { "bad-name": "x" } }, "server.vars.bad-name"],
      [{ bundle, compatibility_date: "2099-01-01" }, "server.compatibility_date"],
      [{ bundle, compatibility_flags: ["Bad Flag"] }, "server.compatibility_flags"],
    ];
    for (const [body, field] of cases) {
      const res = await api("POST", `/api/projects/${project}/deploys`, { body: { server: body } });
      expect(res.status, field).toBe(400);
      expect((await res.json<{ error: { field: string } }>()).error.field).toBe(field);
    }
    const huge = await api("POST", `/api/projects/${project}/deploys`, {
      body: { server: { bundle: { ...bundle, size: 11 * 1024 * 1024 } } },
    });
    expect([huge.status, (await huge.json<{ error: { field: string } }>()).error.field]).toEqual([
      413,
      "server.bundle.size",
    ]);
    const rwf = await api("POST", `/api/projects/${project}/deploys`, {
      body: { config: { run_worker_first: ["api/*"] } },
    });
    expect((await rwf.json<{ error: { field: string } }>()).error.field).toBe("config.run_worker_first");
  });
});

describe("versions of server code", () => {
  it("rolls back server code and assets together, and previews an inactive version", async ({ expect }) => {
    const project = uniqueProject("versions");
    await createProject(project);
    const v1 = await deploy(project, { "/page.txt": "assets v1" }, { server: server({ GREETING: "v1" }) });
    const v2 = await deploy(project, { "/page.txt": "assets v2" }, { server: server({ GREETING: "v2" }) });
    expect(await (await site(project, "/api/x")).text()).toBe("server GET /api/x v2");
    await apiJson("POST", `/api/projects/${project}/rollback`);
    expect(await (await site(project, "/api/x")).text()).toBe("server GET /api/x v1");
    expect(await (await site(project, "/page.txt")).text()).toBe("assets v1");
    // v2 is not live, but its preview host serves it, server code and assets.
    const preview = await site(project, "/api/x", {}, v2.version);
    expect(await preview.text()).toBe("server GET /api/x v2");
    expect(await (await site(project, "/page.txt", {}, v2.version)).text()).toBe("assets v2");
    expect((await site(project, "/page.txt", {}, "20200101-000000-000")).status).toBe(404);
    expect(v1.version < v2.version).toBe(true);
  });

  it("reads a version's bundle from R2 only while no isolate of it is warm", async ({ expect }) => {
    const project = uniqueProject("warm");
    await createProject(project);
    await deploy(project, { "/a.txt": "a" }, { server: server({ GREETING: "warm" }) });
    expect(await (await site(project, "/api/x")).text()).toBe("server GET /api/x warm");
    // Take the bundle out of R2: the warm isolate keeps answering without it.
    const asset = await contentHash(bytesOf("a"));
    const listed = await env.BLOBS.list({ prefix: `projects/${project}/blobs/` });
    const bundles = listed.objects.map((object) => object.key).filter((key) => !key.endsWith(asset));
    expect(bundles).toHaveLength(1);
    await env.BLOBS.delete(bundles);
    for (let i = 0; i < 3; i += 1) {
      expect(await (await site(project, "/api/x")).text()).toBe("server GET /api/x warm");
    }
  });

  it("keeps a version's bundle through garbage collection", async ({ expect }) => {
    const project = uniqueProject("bundle-gc");
    await createProject(project);
    await deploy(project, { "/a.txt": "a" }, { server: server() });
    expect((await apiJson<{ deleted: number }>("POST", `/api/projects/${project}/gc`)).deleted).toBe(0);
    expect((await site(project, "/api/x")).status).toBe(200);
  });
});
