/**
 * No tenant can hurt another, no visitor can hang or crash a response, and
 * what Cloudflare would refuse is refused at deploy (#9). Each case is one
 * that an adversarial pass found; real local R2 and Durable Objects.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore } from "../../src/blob/r2-store.ts";
import { Db } from "../../src/storage/db.ts";
import { MAX_RULES_FILE_BYTES } from "../../src/rules/config.ts";
import {
  api,
  apiJson,
  bytesOf,
  contentHash,
  createProject,
  deploy,
  rawBundle,
  sameBytes,
  site,
  uniqueProject,
} from "./helpers.ts";

const MIB = 1024 * 1024;

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

describe("server code one tenant ships", () => {
  it("cannot stop other tenants' deploys, however deeply it nests", async ({ expect }) => {
    const attacker = uniqueProject("nested");
    await createProject(attacker);
    for (const depth of [10_000, 60_000, 100_000]) {
      const source = `export default { fetch() { return new Response(String(${"(".repeat(depth)}1${")".repeat(depth)})); } };`;
      const bad = await rawBundle({ mainModule: "index.js", modules: { "index.js": source } });
      const staged = await deploy(attacker, { "/index.html": "x" }, { ...bad, finalize: false });
      const res = await api("POST", `/api/projects/${attacker}/deploys/${staged.version}/finalize`);
      const body = await res.json<ErrorBody>();
      if (res.status === 200) {
        // V8 parsed it: it is a valid program, so the deploy may stand.
        expect((await site(attacker, "/")).status).toBe(200);
      } else {
        expect([res.status, body.error.field], String(depth)).toEqual([400, "server"]);
        expect(body.error.message).toMatch(/^server: the server code does not start: /);
      }
      // Right after it, another project's server code deploys and runs.
      const other = uniqueProject("after");
      await createProject(other);
      await deploy(
        other,
        { "/index.html": "ok" },
        {
          server: {
            entry: "index.ts",
            files: { "index.ts": 'export default { fetch() { return new Response("fine"); } };' },
          },
          config: { run_worker_first: true },
        },
      );
      expect(await (await site(other, "/")).text()).toBe("fine");
    }
  });

  it("answers with the version it belongs to", async ({ expect }) => {
    const project = uniqueProject("tagged");
    await createProject(project);
    const { version } = await deploy(
      project,
      { "/index.html": "x" },
      {
        server: {
          entry: "index.ts",
          files: { "index.ts": 'export default { fetch() { return new Response("code"); } };' },
        },
        config: { run_worker_first: true },
      },
    );
    const res = await site(project, "/");
    expect([await res.text(), res.headers.get("x-r2-assets-version")]).toEqual(["code", version]);
  });
});

describe("several ranges", () => {
  it("never hang when one is over a read window, and are merged when they overlap", async ({ expect }) => {
    const project = uniqueProject("ranges");
    await createProject(project);
    const size = 17 * MIB + 12_345;
    const bytes = new Uint8Array(size);
    for (let offset = 0; offset < size; offset += 65_536) {
      crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
    }
    await deploy(project, { "/big.bin": bytes });

    // The request the pass found hanging: two overlapping ranges, one of 16 MiB + 1.
    const merged = await site(project, "/big.bin", { headers: { range: "bytes=0-16777216,0-0" } });
    expect([merged.status, merged.headers.get("content-range")]).toEqual([206, `bytes 0-16777216/${size}`]);
    expect(sameBytes(new Uint8Array(await merged.arrayBuffer()), bytes.subarray(0, 16_777_217))).toBe(true);

    // Two far apart, one larger than a read window: a multipart answer, every byte in place.
    const far = await site(project, "/big.bin", { headers: { range: `bytes=1-16777300,${size - 10}-` } });
    expect(far.status).toBe(206);
    const boundary = /boundary=(.+)$/.exec(far.headers.get("content-type") ?? "")?.[1] ?? "";
    const body = new Uint8Array(await far.arrayBuffer());
    expect(body.byteLength).toBe(Number(far.headers.get("content-length")));
    const text = new TextDecoder("latin1").decode(body);
    const first = text.indexOf("\r\n\r\n") + 4;
    expect(sameBytes(body.subarray(first, first + 16_777_300), bytes.subarray(1, 16_777_301))).toBe(true);
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);

    // Ranges that together ask for more than the file get the file, once.
    const greedy = await site(project, "/big.bin", { headers: { range: `bytes=${Array(16).fill("0-").join(",")}` } });
    expect([greedy.status, greedy.headers.get("content-length")]).toEqual([200, String(size)]);
    await greedy.body?.cancel();
  });
});

describe("_redirects destinations", () => {
  it("that cannot form a URL are refused at deploy and never cause a 500", async ({ expect }) => {
    const project = uniqueProject("badurl");
    await createProject(project);
    const res = await api("POST", `/api/projects/${project}/deploys`, {
      body: {
        config: {
          redirects: [
            "/open/* https://:splat 302",
            "/badport https://a:b:c/ 302",
            "/host/:name https://:name.example.com/ 301",
            "/port https://example.com:99999/ 302",
            "/fine/* https://example.com/:splat 301",
          ].join("\n"),
        },
      },
    });
    const started = await res.json<{ warnings: { line: number; message: string }[] }>();
    expect(started.warnings.map((warning) => warning.line)).toEqual([1, 2, 3, 4]);
    expect(started.warnings[0]?.message).toMatch(/placeholder in the host/);
    expect(started.warnings[3]?.message).toMatch(/not a valid URL/);

    await deploy(
      project,
      { "/index.html": "home" },
      { config: { redirects: "/open/* https://:splat 302\n/fine/* https://example.com/:splat 301" } },
    );
    expect((await site(project, "/open/a:b:c", { redirect: "manual" })).status).toBe(404);
    const fine = await site(project, "/fine/a:b:c?x=1", { redirect: "manual" });
    expect([fine.status, fine.headers.get("location")]).toEqual([301, "https://example.com/a:b:c?x=1"]);
  });
});

describe("what Cloudflare would refuse", () => {
  it("is refused at the API: control characters in rule files, and values too large to store", async ({ expect }) => {
    const project = uniqueProject("limits");
    await createProject(project);
    const control = `/a\u0001 /b\n/c /d\u0007\n/x\n  X-Evil: a\u0000b\n`;
    const started = await apiJson<{ warnings: { file: string; line: number; message: string }[] }>(
      "POST",
      `/api/projects/${project}/deploys`,
      { body: { config: { redirects: control, headers: control } } },
    );
    expect(started.warnings.filter((w) => /control character/.test(w.message)).length).toBeGreaterThanOrEqual(4);

    // Quotes double as stored JSON; two rule files of them are too much to keep in one row.
    const quoted = (prefix: string): string =>
      Array.from({ length: 300 }, (_, i) => `${prefix}${i} /"${'"'.repeat(1700)}`).join("\n");
    expect(quoted("/q").length).toBeLessThan(MAX_RULES_FILE_BYTES);
    const big = await api("POST", `/api/projects/${project}/deploys`, {
      body: {
        config: {
          redirects: quoted("/r"),
          headers: Array.from({ length: 90 }, (_, i) => `/h${i}\n  X-A: ${'"'.repeat(1900)}`).join("\n"),
        },
      },
    });
    expect(big.status).toBe(413);
    expect((await big.json<ErrorBody>()).error.field).toMatch(/^config\.(redirects|headers)$/);

    const vars = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`V${i}`, "\u0001".repeat(5000)]));
    const hugeVars = await api("POST", `/api/projects/${project}/deploys`, {
      body: { server: { bundle: { hash: "ab".repeat(32), size: 10 }, vars } },
    });
    expect([hugeVars.status, (await hugeVars.json<ErrorBody>()).error.field]).toEqual([413, "server.vars"]);
  });

  it("refuses part numbers not written plainly, and JSON that is not UTF-8", async ({ expect }) => {
    const project = uniqueProject("strict");
    await createProject(project);
    const bytes = new Uint8Array(8 * MIB + 1);
    const hash = await contentHash(bytes);
    await apiJson("POST", `/api/projects/${project}/uploads`, {
      body: { hash, size: bytes.length, partSize: 8 * MIB },
    });
    for (const part of ["1e0", "0x1", "01", "+1", "1.0", " 1"]) {
      const res = await api("PUT", `/api/projects/${project}/uploads/${hash}/parts/${encodeURIComponent(part)}`, {
        body: bytes.subarray(0, 8 * MIB),
        headers: { "x-part-hash": await contentHash(bytes.subarray(0, 8 * MIB)) },
      });
      expect([res.status, (await res.json<ErrorBody>()).error.field], part).toEqual([400, "part"]);
    }
    const latin1 = new Uint8Array([...bytesOf('{"message": "caf'), 0xe9, ...bytesOf('"}')]);
    const res = await api("POST", `/api/projects/${project}/deploys`, { body: latin1 });
    expect([res.status, (await res.json<ErrorBody>()).error.code]).toEqual([400, "invalid_body"]);
  });
});

describe("cookies", () => {
  it("stay with the host that set them, whether _headers or server code sets them", async ({ expect }) => {
    const project = uniqueProject("cookies");
    await createProject(project);
    const headers = [
      "/page.html",
      "  Set-Cookie: wide=1; Domain=localhost; Path=/",
      "/own.html",
      `  Set-Cookie: own=1; domain=.${project}.localhost`,
    ].join("\n");
    await deploy(project, { "/page.html": "p", "/own.html": "o" }, { config: { headers, html_handling: "none" } });
    expect((await site(project, "/page.html")).headers.getSetCookie()).toEqual(["wide=1; Path=/"]);
    expect((await site(project, "/own.html")).headers.getSetCookie()).toEqual([`own=1; domain=.${project}.localhost`]);

    const code = `export default { fetch() {
      const headers = new Headers();
      headers.append("set-cookie", "session=abc; Domain=LOCALHOST; HttpOnly");
      headers.append("set-cookie", "plain=1");
      return new Response("hi", { headers });
    } };`;
    await deploy(
      project,
      { "/index.html": "x" },
      {
        server: { entry: "index.ts", files: { "index.ts": code } },
        config: { run_worker_first: true },
      },
    );
    expect((await site(project, "/")).headers.getSetCookie()).toEqual(["session=abc; HttpOnly", "plain=1"]);
  });
});

describe("quotas", () => {
  it("cap open deploys and multipart uploads per project, with settings an admin can raise", async ({ expect }) => {
    const project = uniqueProject("quota");
    await createProject(project);
    await apiJson("PATCH", `/api/projects/${project}`, {
      body: { quotas: { openDeploys: 2, openUploads: 1, uploadBytes: 100 * MIB } },
    });
    await apiJson("POST", `/api/projects/${project}/deploys`, { status: 201 });
    await apiJson("POST", `/api/projects/${project}/deploys`, { status: 201 });
    const third = await api("POST", `/api/projects/${project}/deploys`);
    expect([third.status, (await third.json<ErrorBody>()).error.code]).toEqual([429, "quota_exceeded"]);

    const upload = (size: number, seed: string): Promise<Response> =>
      api("POST", `/api/projects/${project}/uploads`, { body: { hash: seed.repeat(64), size, partSize: 8 * MIB } });
    const tooBig = await upload(101 * MIB, "a");
    expect([tooBig.status, (await tooBig.json<ErrorBody>()).error.field]).toEqual([413, "size"]);
    expect((await upload(90 * MIB, "b")).status).toBe(201);
    const second = await upload(9 * MIB, "c");
    expect([second.status, (await second.json<ErrorBody>()).error.code]).toEqual([429, "quota_exceeded"]);

    await apiJson("PATCH", `/api/projects/${project}`, { body: { quotas: { openDeploys: 3 } } });
    await apiJson("POST", `/api/projects/${project}/deploys`, { status: 201 });
    const info = await apiJson<{ quotas: Record<string, number> }>("GET", `/api/projects/${project}`);
    expect(info.quotas).toEqual({
      openDeploys: 3,
      openUploads: 1,
      uploadBytes: 100 * MIB,
      storedBytes: 1024 * 1024 * MIB,
    });
  });
});

describe("deploy token scopes", () => {
  async function tokenFor(project: string, scope?: string): Promise<{ token: string; scope: string }> {
    return apiJson<{ token: string; scope: string }>("POST", `/api/projects/${project}/tokens`, {
      body: scope === undefined ? {} : { scope },
      status: 201,
    });
  }

  it("limit each token to what it was created for, on every route", async ({ expect }) => {
    const project = uniqueProject("scopes");
    await createProject(project);
    const v1 = await deploy(project, { "/index.html": "one" });
    const [deployOnly, activator, manager] = (
      await Promise.all([tokenFor(project, "deploy"), tokenFor(project), tokenFor(project, "manage")])
    ).map((created) => created.token) as [string, string, string];
    // Created without a scope, a token may deploy and activate.
    expect((await tokenFor(project)).scope).toBe("activate");

    // deploy: uploads and stages, and no more.
    const staged = await deploy(project, { "/index.html": "two" }, { token: deployOnly, activate: false });
    const live = await api(
      "POST",
      `/api/projects/${project}/deploys/${(await deploy(project, { "/a": "a" }, { token: deployOnly, finalize: false })).version}/finalize`,
      {
        token: deployOnly,
      },
    );
    expect(live.status).toBe(403);
    for (const [method, path, body] of [
      ["POST", "activate", { version: staged.version }],
      ["POST", "rollback", {}],
      ["DELETE", `versions/${v1.version}`, undefined],
      ["PUT", `versions/${v1.version}/pin`, undefined],
      ["POST", "gc", undefined],
      ["PATCH", "", { retention: 1 }],
      ["POST", "tokens", {}],
    ] as const) {
      const res = await api(method, `/api/projects/${project}${path ? `/${path}` : ""}`, { token: deployOnly, body });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await api("GET", `/api/projects/${project}/versions`, { token: deployOnly })).status).toBe(200);

    // activate: also makes versions live and rolls back, and no more.
    await apiJson("POST", `/api/projects/${project}/activate`, { token: activator, body: { version: staged.version } });
    await apiJson("POST", `/api/projects/${project}/rollback`, { token: activator });
    expect((await api("POST", `/api/projects/${project}/gc`, { token: activator })).status).toBe(403);
    expect(
      (await api("DELETE", `/api/projects/${project}/versions/${staged.version}`, { token: activator })).status,
    ).toBe(403);

    // manage: everything a project owner does; tokens and quotas stay the admin's.
    await apiJson("POST", `/api/projects/${project}/gc`, { token: manager });
    await apiJson("PATCH", `/api/projects/${project}`, { token: manager, body: { retention: 5 } });
    expect(
      (await api("PATCH", `/api/projects/${project}`, { token: manager, body: { quotas: { openDeploys: 99 } } }))
        .status,
    ).toBe(403);
    expect((await api("POST", `/api/projects/${project}/tokens`, { token: manager, body: {} })).status).toBe(403);

    const listed = await apiJson<{ tokens: { scope: string }[] }>("GET", `/api/projects/${project}/tokens`);
    expect(listed.tokens.map((token) => token.scope).sort()).toEqual(["activate", "activate", "deploy", "manage"]);
    const bad = await api("POST", `/api/projects/${project}/tokens`, { body: { scope: "root" } });
    expect([bad.status, (await bad.json<ErrorBody>()).error.field]).toEqual([400, "scope"]);
  });
});

describe("garbage collection and server bundles", () => {
  it("can never take a bundle a deploy names, even one stored before the deploy started", async ({ expect }) => {
    const project = uniqueProject("bundle-race");
    await createProject(project);
    const code = {
      entry: "index.ts",
      files: { "index.ts": 'export default { fetch() { return new Response("kept"); } };' },
    };
    // The bundle is stored, then left unreferenced when its version is deleted.
    const first = await deploy(project, { "/a": "a" }, { server: code, config: { run_worker_first: true } });
    await deploy(project, { "/b": "b" });
    await apiJson("DELETE", `/api/projects/${project}/versions/${first.version}`);

    // A new deploy names the same bundle (it is stored, so nothing is uploaded)...
    const staged = await deploy(
      project,
      { "/c": "c" },
      { server: code, config: { run_worker_first: true }, finalize: false },
    );
    // ...and a collection runs to the end before the deploy finalizes.
    const gc = await apiJson<{ blobs: string[] }>("POST", `/api/projects/${project}/gc`);
    const stub = env.MANIFEST.getByName(project);
    const bundle = await runInDurableObject(stub, (_instance, state) =>
      new Db(state.storage).first<{ bundle_hash: string }>(
        "SELECT bundle_hash FROM version_server WHERE version_id = ?",
        staged.version,
      ),
    );
    expect(gc.blobs).not.toContain(bundle?.bundle_hash);
    expect(await env.BLOBS.head(new BlobStore(env.BLOBS, project).key(bundle?.bundle_hash ?? ""))).not.toBeNull();
    await apiJson("POST", `/api/projects/${project}/deploys/${staged.version}/finalize`);
    expect(await (await site(project, "/")).text()).toBe("kept");
  });

  it("makes a deploy upload a bundle again when a collection has claimed it", async ({ expect }) => {
    const project = uniqueProject("bundle-claim");
    await createProject(project);
    const code = {
      entry: "index.ts",
      files: { "index.ts": 'export default { fetch() { return new Response("again"); } };' },
    };
    const first = await deploy(project, { "/a": "a" }, { server: code, config: { run_worker_first: true } });
    await deploy(project, { "/b": "b" });
    await apiJson("DELETE", `/api/projects/${project}/versions/${first.version}`);
    const stub = env.MANIFEST.getByName(project);
    const hash = await runInDurableObject(stub, (_instance, state) => {
      // A collection has claimed the bundle and not yet deleted it.
      const db = new Db(state.storage);
      const row = db.first<{ hash: string }>("SELECT hash FROM blobs WHERE hash NOT IN (SELECT hash FROM files)");
      db.run("UPDATE blobs SET deleting = 1 WHERE hash = ?", row?.hash ?? "");
      return row?.hash ?? "";
    });
    const started = await apiJson<{ missing: string[] }>("POST", `/api/projects/${project}/deploys`, {
      body: { server: { bundle: { hash, size: 10 } } },
      status: 201,
    });
    expect(started.missing).toEqual([hash]);
  });
});
