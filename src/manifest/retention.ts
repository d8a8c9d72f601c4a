/** Retention, pinning and deletion of finalized versions. */
import { fail, succeed, type Outcome } from "../outcome.ts";
import type { Db } from "../storage/db.ts";
import { allows, type Actor } from "./authority.ts";
import { requireProject } from "./project.ts";
import { aliasesOf, endVersion, getVersion, unavailability } from "./versions.ts";

/**
 * Prunes finalized versions beyond the newest `retention`, keeping the live
 * one, pinned ones and the ones aliases name. Pruned versions lose their
 * files; their blobs are left for garbage collection.
 *
 * Deleting versions is the manage scope's: a caller below it (a CI's deploy
 * or activate token) prunes only versions it created itself and that were
 * never live nor named by an alias, so that it can never take away a
 * rollback target, nor another caller's version. Those stay until a manage
 * caller's deploy or a retention change prunes them.
 *
 * @returns the ids it pruned
 */
export function pruneVersions(db: Db, retention: number, by: Actor): string[] {
  const project = requireProject(db);
  const own = !allows(by.scope, "manage");
  const doomed = db
    .all<{ id: string; created_by: string | null; pointed: number }>(
      `SELECT id, created_by, EXISTS (SELECT 1 FROM activations a WHERE a.version_id = v.id) AS pointed
       FROM versions v WHERE state = 'ready' ORDER BY id DESC LIMIT -1 OFFSET ?`,
      retention,
    )
    .filter((r) => !own || (r.created_by === by.name && r.pointed === 0))
    .map((r) => r.id)
    .filter(
      (id) => id !== project.active_version && getVersion(db, id)?.pinned === 0 && aliasesOf(db, id).length === 0,
    );
  for (const id of doomed) {
    endVersion(db, id, "pruned");
  }
  return doomed;
}

/** Deletes a version (finalized or still staged) unless it is live, pinned or named by an alias. */
export function deleteVersion(db: Db, id: string): Outcome<{ version: string }> {
  return db.atomically(() => {
    const row = getVersion(db, id);
    if (!row || row.state === "pruned" || row.state === "deleted" || row.state === "expired") {
      return fail("version_not_found", unavailability(row, id, Date.now()) ?? `version ${id} does not exist`);
    }
    if (requireProject(db).active_version === id) {
      return fail("conflict", `version ${id} is live; activate another version before deleting it`);
    }
    if (row.pinned === 1) {
      return fail("conflict", `version ${id} is pinned; unpin it before deleting it`);
    }
    const aliases = aliasesOf(db, id);
    if (aliases.length > 0) {
      return fail("conflict", `version ${id} is what ${aliases.join(", ")} names; move or delete the alias first`);
    }
    endVersion(db, id, "deleted");
    return succeed({ version: id });
  });
}

/** Pins or unpins a finalized version. */
export function setPinned(db: Db, id: string, pinned: boolean): Outcome<{ version: string; pinned: boolean }> {
  const row = getVersion(db, id);
  if (row?.state !== "ready") {
    return fail("version_not_found", unavailability(row, id, Date.now()) ?? `version ${id} does not exist`);
  }
  db.run("UPDATE versions SET pinned = ? WHERE id = ?", pinned ? 1 : 0, id);
  return succeed({ version: id, pinned });
}
