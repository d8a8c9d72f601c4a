/**
 * Authority is checked where a change commits (#19): a request whose body
 * stalls after it was authenticated changes nothing once its token is
 * revoked or its project deleted and created again; a token below manage
 * never prunes a version it did not make or that was ever live.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { api, apiJson, batchBody, bytesOf, contentHash, createProject, deploy, uniqueProject } from "./helpers.ts";

/** A request body that sends `first` at once and the rest only when told. */
function stalledBody(first: string | Uint8Array): {
  body: ReadableStream<Uint8Array>;
  finish(rest: string | Uint8Array): Promise<void>;
} {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  void writer.write(bytesOf(first));
  return {
    body: readable,
    finish: async (rest) => {
      await writer.write(bytesOf(rest));
      await writer.close();
    },
  };
}

/** Long enough for a request to be authenticated and to wait on its body. */
const AUTHENTICATED = 300;

async function token(project: string, scope: string): Promise<{ id: string; token: string }> {
  return apiJson("POST", `/api/projects/${project}/tokens`, { body: { scope }, status: 201 });
}

async function liveOf(project: string): Promise<string | null> {
  return (await apiJson<{ activeVersion: string | null }>("GET", `/api/projects/${project}`)).activeVersion;
}

async function deleteProject(project: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if ((await api("DELETE", `/api/projects/${project}`)).status === 200) {
      return;
    }
    await scheduler.wait(100);
  }
  throw new Error(`${project} was not deleted`);
}

describe("authority checked where a change commits", () => {
  it("refuses a stalled rollback whose token was revoked while it waited (401), and moves nothing", async ({
    expect,
  }) => {
    const project = uniqueProject("revoked");
    await createProject(project);
    await deploy(project, { "/index.html": "one" });
    const { version: second } = await deploy(project, { "/index.html": "two" });
    const { id, token: secret } = await token(project, "activate");
    const stalled = stalledBody('{"to":');
    const rollback = api("POST", `/api/projects/${project}/rollback`, { token: secret, body: stalled.body });
    await scheduler.wait(AUTHENTICATED);
    await apiJson("DELETE", `/api/projects/${project}/tokens/${id}`);
    await stalled.finish("null}");
    const response = await rollback;
    expect([response.status, (await response.json<{ error: { code: string } }>()).error.code]).toEqual([
      401,
      "unauthorized",
    ]);
    expect(await liveOf(project)).toBe(second);
    const { history } = await apiJson<{ history: { actor: string | null }[] }>(
      "GET",
      `/api/projects/${project}/history`,
    );
    expect(history.map((entry) => entry.actor)).not.toContain(id);
  });

  it("refuses a stalled admin rollback once the project was deleted and created again (409)", async ({ expect }) => {
    const project = uniqueProject("reborn");
    await createProject(project);
    await deploy(project, { "/index.html": "old one" });
    await deploy(project, { "/index.html": "old two" });
    const stalled = stalledBody("{");
    const rollback = api("POST", `/api/projects/${project}/rollback`, { body: stalled.body });
    await scheduler.wait(AUTHENTICATED);
    await deleteProject(project);
    await createProject(project);
    await deploy(project, { "/index.html": "new one" });
    const { version: newLive } = await deploy(project, { "/index.html": "new two" });
    await stalled.finish("}");
    const response = await rollback;
    expect(response.status).toBe(409);
    expect(await response.text()).toMatch(/deleted and created again/);
    expect(await liveOf(project)).toBe(newLive);
  });

  it("records nothing in a re-created project from an old token's stalled batch", async ({ expect }) => {
    const project = uniqueProject("oldbatch");
    await createProject(project);
    const { token: secret } = await token(project, "deploy");
    const bytes = bytesOf("a blob sent by an old token");
    const hash = await contentHash(bytes);
    const whole = batchBody([{ hash, bytes }]);
    const stalled = stalledBody(whole.slice(0, 10));
    const upload = api("POST", `/api/projects/${project}/blobs/batch`, {
      token: secret,
      body: stalled.body,
      headers: { "content-length": String(whole.length) },
    });
    await scheduler.wait(AUTHENTICATED);
    await deleteProject(project);
    await createProject(project);
    await stalled.finish(whole.slice(10));
    const response = await upload;
    // 404: the new project's Durable Object is not set up until the admin
    // opens it, and an old token's change cannot set it up.
    expect([401, 404, 409]).toContain(response.status);
    const info = await apiJson<{ storedBytes: number }>("GET", `/api/projects/${project}`);
    expect(info.storedBytes).toBe(0);
    const manifest = env.MANIFEST.getByName(project);
    expect(await manifest.missingOf([hash])).toEqual({ ok: true, value: [hash] });
  });

  it("refuses a change the token's scope does not allow even when the API is bypassed", async ({ expect }) => {
    const project = uniqueProject("bypass");
    await createProject(project);
    await deploy(project, { "/index.html": "one" });
    const { token: secret } = await token(project, "deploy");
    const digest = await crypto.subtle.digest("SHA-256", bytesOf(secret));
    const hash = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const manifest = env.MANIFEST.getByName(project);
    const incarnation = (await manifest.open(project)) ?? "";
    const rolled = await manifest.rollback({ incarnation, token: hash }, null);
    expect(JSON.stringify(rolled)).toMatch(/"code":"forbidden"/);
    const deleted = await manifest.collectGarbage({ incarnation, token: hash });
    expect(JSON.stringify(deleted)).toMatch(/"code":"forbidden"/);
  });
});

describe("pruning by scope", () => {
  it("lets a deploy token prune only its own never-live versions, never a rollback target", async ({ expect }) => {
    const project = uniqueProject("prune");
    await createProject(project, 3);
    const { version: first } = await deploy(project, { "/index.html": "a" });
    const { version: second } = await deploy(project, { "/index.html": "b" });
    const { token: secret } = await token(project, "deploy");
    const staged: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      staged.push((await deploy(project, { "/index.html": `ci ${i}` }, { token: secret, activate: false })).version);
    }
    const { versions } = await apiJson<{ versions: { version: string }[] }>("GET", `/api/projects/${project}/versions`);
    const kept = versions.map((v) => v.version);
    // The first version was live once: it stays a rollback target.
    expect(kept).toContain(first);
    expect(kept).toContain(second);
    // The token's own oldest staged version fell out of the window.
    expect(kept).not.toContain(staged[0]);
    expect(kept).toEqual(expect.arrayContaining(staged.slice(1)));
    // A manage caller's deploy applies the window to everything.
    await deploy(project, { "/index.html": "admin" });
    const after = (
      await apiJson<{ versions: { version: string }[] }>("GET", `/api/projects/${project}/versions`)
    ).versions.map((v) => v.version);
    expect(after).toHaveLength(3);
  });
});
