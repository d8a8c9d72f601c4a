/** Deploy tokens of a project, stored as SHA-256 hashes. */
import { fail, succeed, type Outcome } from "../errors.ts";
import type { Db } from "./db.ts";

export function addToken(db: Db, hash: string, id: string, now: number): void {
  db.run("INSERT INTO tokens (hash, id, created_at) VALUES (?, ?, ?)", hash, id, now);
}

export function hasToken(db: Db, hash: string): boolean {
  return db.first("SELECT 1 AS found FROM tokens WHERE hash = ?", hash) !== null;
}

export function listTokens(db: Db): { id: string; createdAt: string }[] {
  return db
    .all<{ id: string; created_at: number }>("SELECT id, created_at FROM tokens ORDER BY created_at")
    .map((row) => ({ id: row.id, createdAt: new Date(row.created_at).toISOString() }));
}

export function revokeToken(db: Db, id: string): Outcome<{ id: string }> {
  if (db.run("DELETE FROM tokens WHERE id = ?", id) === 0) {
    return fail("not_found", `token ${id} does not exist`);
  }
  return succeed({ id });
}
