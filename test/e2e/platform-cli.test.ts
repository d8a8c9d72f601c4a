/**
 * Running the platform with the real CLI against a real `wrangler dev`
 * (#13): projects, deleting one, custom domains, aliases and deploys to
 * them, the history, `r2-assets.json` and `deploy --dry-run`.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { httpRequest, runCli, startPlatform, workerdPort, writeFiles, writeSite, type Platform } from "./platform.ts";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform();
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

async function json<T>(args: string[], env?: Record<string, string>): Promise<T> {
  const result = await platform.cli([...args, "--json"], env);
  if (result.code !== 0) {
    throw new Error(`r2-assets ${args.join(" ")} failed: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

describe("projects", () => {
  it("lists them, and deletes one completely, asking first", async ({ expect }) => {
    const site = await writeSite({ "index.html": "bye" });
    await json(["deploy", site, "--project", "goner"]);
    const listed = await json<{ name: string; activeVersion: string | null }[]>(["projects"]);
    expect(listed.map((p) => p.name)).toContain("goner");

    // No terminal to ask on: --yes is required.
    const refused = await platform.cli(["project", "delete", "goner"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(/^r2-assets: error: .*--yes/);
    expect((await platform.request("goner", "/")).status).toBe(200);

    const deleted = await json<{ deleted: boolean; deletedObjects: number }>(["project", "delete", "goner", "--yes"]);
    expect(deleted).toMatchObject({ deleted: true, deletedObjects: 2 }); // its blob and its version's snapshot page
    expect((await platform.request("goner", "/")).status).toBe(404);
    expect((await json<{ name: string }[]>(["projects"])).map((p) => p.name)).not.toContain("goner");
    // The name is free again.
    await json(["deploy", site, "--project", "goner"]);
    expect((await platform.request("goner", "/")).body.toString()).toBe("bye");
  });
});

describe("leases", () => {
  // #20: steady traffic never waits for a lease (200 ms here) to be renewed.
  it("are renewed in the background at most once a lease, so that steady requests do not wait for them", async ({
    expect,
  }) => {
    await json(["deploy", await writeSite({ "index.html": "steady" }), "--project", "steady"]);
    expect((await platform.request("steady", "/")).status).toBe(200);
    const stats = async (): Promise<{ renewalWaits: number; leaseRefreshes: number }> =>
      (await platform.api("GET", "/api/stats")).json as { renewalWaits: number; leaseRefreshes: number };
    const before = await stats();
    const started = Date.now();
    let requests = 0;
    while (Date.now() - started < 2000) {
      expect((await platform.request("steady", "/")).body.toString()).toBe("steady");
      requests += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const after = await stats();
    expect(requests).toBeGreaterThan(50);
    // Ten leases' worth of requests (and the time the last stats call took):
    // renewed once a lease, in the background.
    expect(after.leaseRefreshes - before.leaseRefreshes).toBeGreaterThanOrEqual(5);
    expect(after.leaseRefreshes - before.leaseRefreshes).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 200));
    expect(after.renewalWaits - before.renewalWaits).toBeLessThanOrEqual(2);
  });
});

describe("hosts", () => {
  // #19: `alpha.<root>@beta.<root>` parsed as userinfo and served beta.
  it("answers a Host with userinfo with 400, never another project's site", async ({ expect }) => {
    await json(["deploy", await writeSite({ "index.html": "beta's page" }), "--project", "beta"]);
    // wrangler dev's proxy rewrites such a Host to what follows the "@"
    // before the Worker sees it; workerd itself, as on Cloudflare, passes
    // the header through, so ask it directly.
    const port = await workerdPort(platform.processGroup, platform.port, async (candidate) => {
      return (await fetch(`http://127.0.0.1:${candidate}/api/health`)).ok;
    });
    const site = await httpRequest(port, `alpha.localhost@beta.localhost:${port}`, "/", {});
    expect(site.status).toBe(400);
    expect(site.body.toString()).not.toContain("beta's page");
    const control = await httpRequest(port, `x@localhost:${port}`, "/api/health", {});
    expect([control.status, JSON.parse(control.body.toString()).error.code]).toEqual([400, "bad_request"]);
  });
});

describe("aliases, domains and the history", () => {
  it("deploys to an alias, maps a domain to it, and records who moved what", async ({ expect }) => {
    const v1 = await json<{ version: string }>([
      "deploy",
      await writeSite({ "index.html": "one" }),
      "--project",
      "blog",
    ]);
    const staged = await json<{ version: string; active: boolean; alias: string; aliasUrl: string }>([
      "deploy",
      await writeSite({ "index.html": "two" }),
      "--project",
      "blog",
      "--alias",
      "staging",
    ]);
    expect(staged).toMatchObject({
      active: false,
      alias: "staging",
      aliasUrl: `http://staging.blog.localhost:${platform.port}/`,
    });
    expect((await platform.request("blog", "/")).body.toString()).toBe("one");
    expect((await platform.request("staging.blog", "/")).body.toString()).toBe("two");

    await json(["domains", "add", "blog.example.com", "--project", "blog"]);
    await json(["domains", "add", "staging.example.com", "--project", "blog", "--alias", "staging"]);
    const viaDomain = (hostname: string) => platform.requestHost(hostname, "/");
    expect((await viaDomain("blog.example.com")).body.toString()).toBe("one");
    expect((await viaDomain("staging.example.com")).body.toString()).toBe("two");
    const taken = await platform.cli(["domains", "add", "blog.example.com", "--project", "goner"]);
    expect([taken.code, taken.stderr.trim()]).toEqual([
      1,
      expect.stringMatching(/^r2-assets: error: .*already serves another project/),
    ]);
    const badHost = await platform.cli(["domains", "add", "not_a_host", "--project", "blog"]);
    expect(badHost.stderr).toMatch(/is not a hostname/);
    const list = await platform.cli(["domains", "list", "--project", "blog"]);
    expect(list.stdout).toMatch(/staging\.example\.com\s+staging/);

    await json(["alias", "set", "staging", v1.version, "--project", "blog"]);
    expect((await viaDomain("staging.example.com")).body.toString()).toBe("one");
    const badAlias = await platform.cli(["alias", "set", v1.version, v1.version, "--project", "blog"]);
    expect([badAlias.code, badAlias.stderr]).toEqual([2, expect.stringMatching(/cannot name an alias/)]);
    await json(["domains", "remove", "blog.example.com", "--project", "blog"]);
    expect((await viaDomain("blog.example.com")).status).toBe(404);

    const history = await json<{ pointer: string; kind: string; to: string | null; actor: string }[]>([
      "history",
      "--project",
      "blog",
    ]);
    expect(history.slice(0, 3).map(({ pointer, kind, to }) => [pointer, kind, to])).toEqual([
      ["staging", "alias", v1.version],
      ["staging", "alias", staged.version],
      ["live", "deploy", v1.version],
    ]);
    expect(new Set(history.map((entry) => entry.actor))).toEqual(new Set(["admin"]));
    const table = await platform.cli(["history", "--project", "blog"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^WHEN\s+POINTER\s+WHAT\s+FROM\s+TO\s+BY/);
  });
});

describe("r2-assets.json", () => {
  it("lets deploy run with no flags, flags override it, and unknown keys are errors", async ({ expect }) => {
    const root = await mkdtemp(join(tmpdir(), "r2a-config-"));
    await writeFiles(root, {
      "dist/index.html": "<p>app</p>",
      "server/index.ts":
        "export default { fetch(_r: Request, env: { NAME: string }) { return new Response(`hi ${env.NAME}`); } };",
      "r2-assets.json": JSON.stringify({
        project: "configured",
        directory: "./dist",
        not_found_handling: "single-page-application",
        run_worker_first: ["/api/*"],
        server: { entry: "./server/index.ts", vars: { NAME: "file" } },
      }),
    });
    const env = { R2_ASSETS_URL: platform.url, R2_ASSETS_TOKEN: platform.token };
    const deployed = await runCli(["deploy", "--json"], env, root);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect((await platform.request("configured", "/api/x")).body.toString()).toBe("hi file");
    expect(
      (
        await platform.request("configured", "/some/route", { headers: { "sec-fetch-mode": "navigate" } })
      ).body.toString(),
    ).toBe("<p>app</p>");

    const overridden = await runCli(["deploy", "--var", "NAME=flag", "--message", "from flags"], env, root);
    expect(overridden.code, overridden.stderr).toBe(0);
    expect((await platform.request("configured", "/api/x")).body.toString()).toBe("hi flag");

    await writeFile(join(root, "r2-assets.json"), JSON.stringify({ project: "configured", directroy: "./dist" }));
    const unknown = await runCli(["deploy"], env, root);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^r2-assets: error: .*r2-assets\.json: directroy: unknown key/),
    ]);
  });

  it("deploy --dry-run says what would be uploaded and changes nothing", async ({ expect }) => {
    const site = await writeSite({
      "index.html": "same",
      "new.txt": "x".repeat(1000),
      _redirects: "/old /new.txt 301\n/bad",
    });
    await json(["deploy", await writeSite({ "index.html": "same" }), "--project", "planned"]);
    const before = await json<unknown[]>(["versions", "--project", "planned"]);
    const plan = await json<{
      dryRun: boolean;
      files: number;
      upload: { files: number; bytes: number };
      config: { redirects: number };
      warnings: unknown[];
    }>(["deploy", site, "--project", "planned", "--dry-run"]);
    expect(plan).toMatchObject({ dryRun: true, files: 2, upload: { files: 1, bytes: 1000 }, config: { redirects: 1 } });
    expect(plan.warnings).toHaveLength(1);
    expect(await json<unknown[]>(["versions", "--project", "planned"])).toEqual(before);
    const text = await platform.cli(["deploy", site, "--project", "planned", "--dry-run"]);
    expect(text.stdout).toMatch(
      /^Dry run for planned: nothing was uploaded or changed\.\n2 file\(s\), .*would upload 1 /,
    );
    // A project that does not exist yet: everything would be uploaded, and it is not created.
    const fresh = await json<{ upload: { files: number } }>(["deploy", site, "--project", "brand-new", "--dry-run"]);
    expect(fresh.upload.files).toBe(2);
    expect((await json<{ name: string }[]>(["projects"])).map((p) => p.name)).not.toContain("brand-new");
  });
});
