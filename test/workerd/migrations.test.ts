/**
 * Schema migrations of the manifest database.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { Db } from "../../src/storage/db.ts";
import { applyMigrations, isInitialized, MIGRATIONS, schemaVersion } from "../../src/manifest/migrations.ts";
import { api, apiJson, createProject, deploy, site, uniqueProject } from "./helpers.ts";

describe("migrations", () => {
  it("leaves the database of an unknown project empty", async ({ expect }) => {
    const stub = env.MANIFEST.getByName(uniqueProject("never-created"));
    expect((await stub.getProject()).ok).toBe(false);
    expect(await runInDurableObject(stub, (_instance, state) => isInitialized(new Db(state.storage)))).toBe(false);
  });

  it("creates a project as its registry row alone, and applies every migration on first use, each once", async ({
    expect,
  }) => {
    const project = uniqueProject("fresh");
    const created = await apiJson("PUT", `/api/projects/${project}`, {
      body: { retention: 4 },
      status: 201,
    });
    const stub = env.MANIFEST.getByName(project);
    expect(await runInDurableObject(stub, (_instance, state) => isInitialized(new Db(state.storage)))).toBe(false);
    // The first call sets it up from the registry: what it shows is what creating it answered.
    expect(await apiJson("GET", `/api/projects/${project}`)).toEqual({ ...created, access: "admin" });
    const rows = await runInDurableObject(env.MANIFEST.getByName(project), (_instance, state) =>
      new Db(state.storage).all<{ id: number; name: string }>("SELECT id, name FROM _migrations ORDER BY id"),
    );
    expect(rows).toEqual(MIGRATIONS.map(({ id, name }) => ({ id, name })));
  });

  it("serves nothing for a project never used, without setting it up, and deletes it", async ({ expect }) => {
    const project = uniqueProject("unused");
    await createProject(project);
    const stub = env.MANIFEST.getByName(project);
    expect((await site(project, "/")).status).toBe(404);
    expect(await runInDurableObject(stub, (_instance, state) => isInitialized(new Db(state.storage)))).toBe(false);
    expect(await apiJson("DELETE", `/api/projects/${project}`)).toMatchObject({ deleted: true });
    expect((await api("GET", `/api/projects/${project}`)).status).toBe(404);
    // The name is free again.
    await apiJson("PUT", `/api/projects/${project}`, { status: 201 });
  });

  it("upgrades a database created at an older migration, keeping its data", async ({ expect }) => {
    const project = uniqueProject("upgrade");
    const stub = env.MANIFEST.getByName(project);
    // Build the database as the first release of the schema left it.
    await runInDurableObject(stub, (_instance, state) => {
      const db = new Db(state.storage);
      applyMigrations(db, MIGRATIONS.slice(0, 1));
      const now = Date.now();
      db.run(
        "INSERT INTO project (id, name, created_at, retention, active_version) VALUES (1, ?, ?, 10, NULL)",
        project,
        now,
      );
      expect(schemaVersion(db)).toBe(1);
      expect(db.first("SELECT name FROM sqlite_master WHERE name = 'tokens'")).toBeNull();
    });
    // A restart runs the remaining migrations. Projects made before the
    // registry existed are registered by creating them again (#13).
    await evictDurableObject(stub);
    await createProject(project);
    await deploy(project, { "/a.txt": "after upgrade" });
    expect(await (await site(project, "/a.txt")).text()).toBe("after upgrade");
    const version = await runInDurableObject(stub, (_instance, state) => schemaVersion(new Db(state.storage)));
    expect(version).toBe(MIGRATIONS.at(-1)?.id);
    // The tables of later migrations work.
    const { token } = await apiJson<{ token: string }>("POST", `/api/projects/${project}/tokens`, { status: 201 });
    expect(token).toMatch(/^r2a_/);
  });

  it("rolls back a migration that fails, and keeps the ones before it", async ({ expect }) => {
    const stub = env.MANIFEST.getByName(uniqueProject("broken"));
    await runInDurableObject(stub, (_instance, state) => {
      const db = new Db(state.storage);
      const broken = [
        { id: 1, name: "ok", sql: "CREATE TABLE t1 (x INTEGER)" },
        { id: 2, name: "broken", sql: "CREATE TABLE t2 (x INTEGER); INSERT INTO nowhere VALUES (1)" },
      ];
      expect(() => applyMigrations(db, broken)).toThrow(/nowhere/);
      expect(schemaVersion(db)).toBe(1);
      expect(db.first("SELECT name FROM sqlite_master WHERE name = 't2'")).toBeNull();
    });
  });

  it("rejects a migration list that is out of order", async ({ expect }) => {
    const stub = env.MANIFEST.getByName(uniqueProject("order"));
    await runInDurableObject(stub, (_instance, state) => {
      const db = new Db(state.storage);
      const sql = "SELECT 1";
      expect(() =>
        applyMigrations(db, [
          { id: 2, name: "b", sql },
          { id: 1, name: "a", sql },
        ]),
      ).toThrow(/out of order/);
      expect(() =>
        applyMigrations(db, [
          { id: 1, name: "a", sql },
          { id: 1, name: "b", sql },
        ]),
      ).toThrow(/out of order/);
      expect(() => applyMigrations(db, [{ id: 0, name: "a", sql }])).toThrow(/out of order/);
    });
  });
});
