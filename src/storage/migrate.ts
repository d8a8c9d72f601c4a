/**
 * Schema migrations of a Durable Object's SQLite database, applied in
 * order when the object starts. Each one runs in its own transaction
 * together with the row that records it, so a crash leaves the schema at a
 * clean step. Never edit a migration that has shipped: add a new file.
 */
import type { Db } from "./db.ts";

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

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
export function applyMigrations(db: Db, migrations: readonly Migration[]): number[] {
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
