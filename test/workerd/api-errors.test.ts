/**
 * Authentication, and every kind of bad input: each gets the right status
 * and a JSON error naming the problem, and none changes stored data.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it, type ExpectStatic } from "vitest";
import { Db } from "../../src/storage/db.ts";
import { MAX_FILES_PER_VERSION, MAX_PAGE_ENTRIES } from "../../src/shared/limits.ts";
import {
  api,
  apiJson,
  bytesOf,
  contentHash,
  createProject,
  deploy,
  site,
  uniqueProject,
  type CallOptions,
} from "./helpers.ts";

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

async function expectError(
  expect: ExpectStatic,
  response: Response,
  status: number,
  match: { code?: string; field?: string; message?: RegExp } = {},
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/application\/json/);
  const { error } = await response.json<ErrorBody>();
  expect(typeof error.message).toBe("string");
  if (match.code) {
    expect(error.code).toBe(match.code);
  }
  if (match.field) {
    expect(error.field).toBe(match.field);
  }
  if (match.message) {
    expect(error.message).toMatch(match.message);
  }
}

describe("authentication", () => {
  it("needs a valid bearer token", async ({ expect }) => {
    const project = uniqueProject("auth");
    await createProject(project);
    const missing = await api("GET", `/api/projects/${project}`, { token: null });
    await expectError(expect, missing, 401, { code: "unauthorized" });
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await expectError(expect, await api("GET", `/api/projects/${project}`, { token: "wrong" }), 401);
    await expectError(
      expect,
      await api("GET", `/api/projects/${project}`, { token: `r2a_${project}_${"x".repeat(43)}` }),
      401,
    );
  });

  it("scopes deploy tokens to their project", async ({ expect }) => {
    const mine = uniqueProject("tok-a");
    const theirs = uniqueProject("tok-b");
    await createProject(mine);
    await createProject(theirs);
    const { token, id } = await apiJson<{ token: string; id: string }>("POST", `/api/projects/${mine}/tokens`, {
      status: 201,
    });
    expect(token).toMatch(new RegExp(`^r2a_${mine}_`));
    const v = await deploy(mine, { "/a.txt": "mine" }, { token });
    expect(v.active).toBe(true);
    await expectError(expect, await api("GET", `/api/projects/${theirs}/versions`, { token }), 403, {
      code: "forbidden",
      message: new RegExp(mine),
    });
    await expectError(expect, await api("POST", `/api/projects/${theirs}/deploys`, { token }), 403);
    // Only the admin creates projects and tokens.
    await expectError(expect, await api("PUT", `/api/projects/${mine}`, { token }), 403);
    await expectError(expect, await api("POST", `/api/projects/${mine}/tokens`, { token }), 403);
    // Revoked tokens stop working.
    await apiJson("DELETE", `/api/projects/${mine}/tokens/${id}`);
    await expectError(expect, await api("GET", `/api/projects/${mine}/versions`, { token }), 401);
  });

  it("keeps only a hash of each deploy token", async ({ expect }) => {
    const project = uniqueProject("tok-hash");
    await createProject(project);
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${project}/tokens`, { status: 201 });
    const { tokens } = await apiJson<{ tokens: Record<string, unknown>[] }>("GET", `/api/projects/${project}/tokens`);
    expect(JSON.stringify(tokens)).not.toContain(token.slice(-20));
  });
});

describe("bad input", () => {
  const hash = "a".repeat(64);

  it("404s unknown projects and versions", async ({ expect }) => {
    const ghost = uniqueProject("ghost");
    await expectError(expect, await api("GET", `/api/projects/${ghost}`), 404, { code: "project_not_found" });
    await expectError(expect, await api("POST", `/api/projects/${ghost}/deploys`), 404, { code: "project_not_found" });
    const project = uniqueProject("known");
    await createProject(project);
    await expectError(expect, await api("DELETE", `/api/projects/${project}/versions/20200101-000000-000`), 404);
    await expectError(expect, await api("POST", `/api/projects/${project}/deploys/nope/finalize`), 404);
    await expectError(
      expect,
      await api("POST", `/api/projects/${project}/deploys/20200101-000000-000/files`, {
        body: { files: { "/a": { hash, size: 1 } } },
      }),
      404,
    );
    expect((await site(ghost, "/")).status).toBe(404);
  });

  it("rejects invalid project names", async ({ expect }) => {
    for (const name of ["Upper", "-dash", "under_score", "a".repeat(64)]) {
      await expectError(expect, await api("PUT", `/api/projects/${name}`), 400, { field: "project" });
    }
  });

  it("rejects malformed manifests, naming the field", async ({ expect }) => {
    const project = uniqueProject("bad-manifest");
    await createProject(project);
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const path = `/api/projects/${project}/deploys/${version}/files`;
    const entry = { hash, size: 1 };
    const cases: [CallOptions["body"], string][] = [
      ["{not json", ""],
      ["[1,2]", ""],
      [{}, "files"],
      [{ files: [] }, "files"],
      [{ files: {} }, "files"],
      [{ files: { "a.txt": entry } }, 'files["a.txt"]'],
      [{ files: { "/a/../b": entry } }, 'files["/a/../b"]'],
      [{ files: { "/a/./b": entry } }, 'files["/a/./b"]'],
      [{ files: { "/a//b": entry } }, 'files["/a//b"]'],
      [{ files: { "/dir/": entry } }, 'files["/dir/"]'],
      [{ files: { "/a\u0000b": entry } }, 'files["/a\\u0000b"]'],
      [{ files: { "/a\nb": entry } }, 'files["/a\\nb"]'],
      [{ files: { [`/${"x".repeat(1024)}`]: entry } }, `files["/${"x".repeat(1024)}"]`],
      [{ files: { "/a": { hash: "A".repeat(64), size: 1 } } }, 'files["/a"].hash'],
      [{ files: { "/a": { hash: "a".repeat(63), size: 1 } } }, 'files["/a"].hash'],
      [{ files: { "/a": { hash, size: -1 } } }, 'files["/a"].size'],
      [{ files: { "/a": { hash, size: 1.5 } } }, 'files["/a"].size'],
      [{ files: { "/a": { hash, size: "1" } } }, 'files["/a"].size'],
      [{ files: { "/a": { hash } } }, 'files["/a"].size'],
      [{ files: { "/a": "x" } }, 'files["/a"]'],
    ];
    for (const [body, field] of cases) {
      const res = await api("POST", path, { body });
      if (field) {
        await expectError(expect, res, 400, { field });
      } else {
        await expectError(expect, res, 400, { code: "invalid_body" });
      }
    }
    const tooMany = Object.fromEntries(Array.from({ length: MAX_PAGE_ENTRIES + 1 }, (_, i) => [`/f${i}`, entry]));
    await expectError(expect, await api("POST", path, { body: { files: tooMany } }), 400, { field: "files" });
    // Nothing was recorded by any of it.
    expect(await apiJson("POST", path, { body: { files: { "/ok": entry } } })).toEqual({ missing: [hash], files: 1 });
  });

  it("rejects bad deploy options and bad uploads", async ({ expect }) => {
    const project = uniqueProject("bad-upload");
    await createProject(project);
    const deploys = `/api/projects/${project}/deploys`;
    await expectError(expect, await api("POST", deploys, { body: { config: { html_handling: "sometimes" } } }), 400, {
      field: "config.html_handling",
    });
    await expectError(expect, await api("POST", deploys, { body: { config: { not_found_handling: 1 } } }), 400, {
      field: "config.not_found_handling",
    });
    await expectError(expect, await api("POST", deploys, { body: { message: 42 } }), 400, { field: "message" });
    await expectError(expect, await api("POST", deploys, { body: { message: "x".repeat(1001) } }), 400, {
      field: "message",
    });
    await expectError(expect, await api("PUT", `/api/projects/${project}/blobs/xyz`, { body: bytesOf("x") }), 400, {
      field: "hash",
    });
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(bytesOf("streamed without a length"));
        controller.close();
      },
    });
    await expectError(expect, await api("PUT", `/api/projects/${project}/blobs/${hash}`, { body: chunked }), 411);
    await expectError(
      expect,
      await api("PUT", `/api/projects/${project}/blobs/${hash}`, {
        headers: { "content-length": String(200 * 1024 * 1024) },
        body: "x",
      }),
      413,
    );
    await expectError(expect, await api("PATCH", `/api/projects/${project}`, { body: { retention: 0 } }), 400, {
      field: "retention",
    });
    const { version } = await apiJson<{ version: string }>("POST", deploys);
    await expectError(expect, await api("POST", `${deploys}/${version}/finalize`), 400, { field: "files" });
    await expectError(expect, await api("POST", `${deploys}/${version}/finalize`, { body: { activate: "yes" } }), 400, {
      field: "activate",
    });
  });

  it("answers unknown routes with 404 and wrong methods with 405", async ({ expect }) => {
    await expectError(expect, await api("GET", "/api/nothing-here"), 404, { code: "not_found" });
    const res = await api("DELETE", `/api/projects/${uniqueProject("m")}/gc`);
    await expectError(expect, res, 405, { code: "method_not_allowed" });
    expect(res.headers.get("allow")).toBe("POST");
  });

  it(`refuses a version over ${MAX_FILES_PER_VERSION} files, keeping the files it has`, async ({ expect }) => {
    const project = uniqueProject("too-many");
    await createProject(project);
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const path = `/api/projects/${project}/deploys/${version}/files`;
    await apiJson("POST", path, { body: { files: { "/first": { hash, size: 1 } } } });
    // Sending a million entries takes minutes; start the count near the limit instead.
    await runInDurableObject(env.MANIFEST.getByName(project), (_instance, state) => {
      new Db(state.storage).run("UPDATE versions SET file_count = ? WHERE id = ?", MAX_FILES_PER_VERSION - 1, version);
    });
    const res = await api("POST", path, {
      body: { files: { "/second": { hash, size: 1 }, "/third": { hash, size: 1 } } },
    });
    await expectError(expect, res, 400, { field: "files", message: /at most 1000000 files/ });
    const ok = await apiJson<{ files: number }>("POST", path, { body: { files: { "/second": { hash, size: 1 } } } });
    expect(ok.files).toBe(MAX_FILES_PER_VERSION);
  });

  it("rejects a manifest entry whose size disagrees with the stored blob", async ({ expect }) => {
    const project = uniqueProject("bad-size");
    await createProject(project);
    await deploy(project, { "/a.txt": "four" });
    const { version } = await apiJson<{ version: string }>("POST", `/api/projects/${project}/deploys`);
    const res = await api("POST", `/api/projects/${project}/deploys/${version}/files`, {
      body: { files: { "/b.txt": { hash: await contentHash(bytesOf("four")), size: 5 } } },
    });
    await expectError(expect, res, 400, { field: 'files["/b.txt"].size' });
  });
});
