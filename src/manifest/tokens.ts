/** Deploy tokens of a project, stored as SHA-256 hashes, each with its scope. */
import { fail, succeed, type Outcome } from "../outcome.ts";
import type { TokenScope } from "../shared/limits.ts";
import type { TokenInfo } from "./contract.ts";
import type { Db } from "../storage/db.ts";

export function addToken(db: Db, hash: string, id: string, scope: TokenScope, now: number): void {
  db.run("INSERT INTO tokens (hash, id, created_at, scope) VALUES (?, ?, ?, ?)", hash, id, now, scope);
}

export function tokenOf(db: Db, hash: string): { id: string; scope: TokenScope } | null {
  return db.first<{ id: string; scope: TokenScope }>("SELECT id, scope FROM tokens WHERE hash = ?", hash);
}

export function listTokens(db: Db): TokenInfo[] {
  return db
    .all<{ id: string; created_at: number; scope: TokenScope }>(
      "SELECT id, created_at, scope FROM tokens ORDER BY created_at",
    )
    .map((row) => ({ id: row.id, createdAt: new Date(row.created_at).toISOString(), scope: row.scope }));
}

export function revokeToken(db: Db, id: string): Outcome<{ id: string }> {
  if (db.run("DELETE FROM tokens WHERE id = ?", id) === 0) {
    return fail("not_found", `token ${id} does not exist`);
  }
  return succeed({ id });
}
