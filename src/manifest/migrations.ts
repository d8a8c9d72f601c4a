/**
 * Schema migrations of the manifest database, applied in order when a
 * project's Durable Object starts. Each one runs in its own transaction
 * together with the row that records it, so a crash leaves the schema at a
 * clean step. Never edit a migration that has shipped: add a new file.
 */
import init from "../../migrations/project/0001_init.sql";
import deployTokens from "../../migrations/project/0002_deploy_tokens.sql";
import multipartUploads from "../../migrations/project/0003_multipart_uploads.sql";
import serverCode from "../../migrations/project/0004_server_code.sql";
import serverBundles from "../../migrations/project/0005_server_bundles.sql";
import scopesAndQuotas from "../../migrations/project/0006_scopes_and_quotas.sql";
import type { Db } from "./db.ts";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: "init", sql: init },
  { id: 2, name: "deploy_tokens", sql: deployTokens },
  { id: 3, name: "multipart_uploads", sql: multipartUploads },
  { id: 4, name: "server_code", sql: serverCode },
  { id: 5, name: "server_bundles", sql: serverBundles },
  { id: 6, name: "scopes_and_quotas", sql: scopesAndQuotas },
];

/** Whether this database has been set up as a project's manifest. */
export function isInitialized(db: Db): boolean {
  return db.first("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_migrations'") !== null;
}

/** The id of the last migration applied, 0 for none. */
export function schemaVersion(db: Db): number {
  if (!isInitialized(db)) {
    return 0;
  }
  return db.first<{ id: number | null }>("SELECT MAX(id) AS id FROM _migrations")?.id ?? 0;
}

/**
 * Applies the migrations not yet applied.
 *
 * @returns the ids of the migrations it applied
 */
export function applyMigrations(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkOrder(migrations);
  db.run(
    "CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const current = schemaVersion(db);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.id <= current) {
      continue;
    }
    db.transaction(() => {
      db.run(migration.sql);
      db.run(
        "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
        migration.id,
        migration.name,
        Date.now(),
      );
    });
    applied.push(migration.id);
  }
  return applied;
}

function checkOrder(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const { id, name } of migrations) {
    if (!Number.isInteger(id) || id <= previous) {
      throw new Error(`migration ${id} (${name}) is out of order: ids must be positive and increasing`);
    }
    previous = id;
  }
}
