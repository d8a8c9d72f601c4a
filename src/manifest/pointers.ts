/**
 * Pointers: which version is live, and which versions aliases name. Every
 * move of one is a single step of the Durable Object, recorded in the
 * activation history with what moved it and who. Serving isolates lease
 * what a pointer names (see src/shared/lease.ts), and the API returns from a
 * move only after that lease, so once it returns no request anywhere
 * starts on the version it replaced.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { isAliasName } from "../shared/names.ts";
import type { Db } from "../storage/db.ts";
import type { ActivationResult, AliasResult, HistoryEntry, MoveKind } from "./contract.ts";
import { requireProject } from "./project.ts";
import { getVersion, unavailability } from "./versions.ts";

/** The pointer that names the live version. */
export const LIVE = "live";

/** Moves `pointer` to `to` (null: an alias removed) and records the move. */
function move(
  db: Db,
  pointer: string,
  change: { to: string | null; from: string | null; backTo?: string | null; kind: MoveKind; actor: string },
  now: number,
): void {
  if (pointer === LIVE) {
    db.run("UPDATE project SET active_version = ? WHERE id = 1", change.to);
  } else if (change.to === null) {
    db.run("DELETE FROM aliases WHERE name = ?", pointer);
  } else {
    db.run(
      `INSERT INTO aliases (name, version_id, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version_id = excluded.version_id, updated_at = excluded.updated_at`,
      pointer,
      change.to,
      now,
    );
  }
  db.run(
    `INSERT INTO activations (version_id, previous_id, back_to, at, pointer, kind, actor)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    // An alias removed points nowhere: recorded as an empty version.
    change.to ?? "",
    change.from,
    change.backTo ?? null,
    now,
    pointer,
    change.kind,
    change.actor,
  );
}

/** Makes `id` live as a deploy finalizes it, and records that. */
export function deployLive(db: Db, id: string, actor: string, now: number): string | null {
  const previous = requireProject(db).active_version;
  move(db, LIVE, { to: id, from: previous, backTo: previous, kind: "deploy", actor }, now);
  return previous;
}

/** Makes a finalized version live. Activating the live version changes nothing. */
export function activate(db: Db, id: string, actor: string, now: number): Outcome<ActivationResult> {
  return db.atomically(() => {
    const previous = requireProject(db).active_version;
    const problem = unavailability(getVersion(db, id), id, now);
    if (problem) {
      return fail("version_unavailable", `cannot activate: ${problem}`);
    }
    if (previous !== id) {
      move(db, LIVE, { to: id, from: previous, backTo: previous, kind: "activate", actor }, now);
    }
    return succeed({ active: id, previous });
  });
}

/**
 * Makes an earlier version live again. Without a target it goes to the
 * version that was live before the current one; repeated, it keeps walking
 * back through the history rather than toggling between two versions.
 */
export function rollback(db: Db, to: string | null, actor: string, now: number): Outcome<ActivationResult> {
  return db.atomically(() => {
    const current = requireProject(db).active_version;
    if (current === null) {
      return fail("version_unavailable", "cannot roll back: no version is live");
    }
    const last = db.first<{ back_to: string | null }>(
      "SELECT back_to FROM activations WHERE pointer = ? ORDER BY seq DESC LIMIT 1",
      LIVE,
    );
    const target = to ?? last?.back_to ?? null;
    if (target === null) {
      return fail("version_unavailable", `cannot roll back: no version was live before ${current}`);
    }
    const problem = unavailability(getVersion(db, target), target, now);
    if (problem) {
      return fail(
        "version_unavailable",
        `cannot roll back to ${to === null ? "the previous version" : target}: ${problem}`,
      );
    }
    if (target === current) {
      return succeed({ active: target, previous: current });
    }
    // Where a further rollback goes: wherever one went from the move that
    // last made `target` live; after a rollback to a named version, back to
    // the one it replaced.
    const earlier = db.first<{ back_to: string | null }>(
      "SELECT back_to FROM activations WHERE pointer = ? AND version_id = ? ORDER BY seq DESC LIMIT 1",
      LIVE,
      target,
    );
    const backTo = to === null ? (earlier?.back_to ?? null) : current;
    move(db, LIVE, { to: target, from: current, backTo, kind: "rollback", actor }, now);
    return succeed({ active: target, previous: current });
  });
}

/** Points alias `name` at a finalized version, creating the alias if need be. */
export function setAlias(db: Db, name: string, id: string, actor: string, now: number): Outcome<AliasResult> {
  if (!isAliasName(name)) {
    return fail(
      "bad_request",
      `alias: "${name}" cannot name an alias (a DNS label that is not a version id, nor live)`,
      {
        field: "alias",
      },
    );
  }
  return db.atomically(() => {
    const problem = unavailability(getVersion(db, id), id, now);
    if (problem) {
      return fail("version_unavailable", `cannot point ${name} there: ${problem}`);
    }
    const previous = aliasTarget(db, name);
    if (previous !== id) {
      move(db, name, { to: id, from: previous, kind: "alias", actor }, now);
    }
    return succeed({ alias: name, version: id, previous });
  });
}

/** Removes alias `name`. */
export function deleteAlias(db: Db, name: string, actor: string, now: number): Outcome<AliasResult> {
  const previous = aliasTarget(db, name);
  if (previous === null) {
    return fail("not_found", `alias ${name} does not exist`, { field: "alias" });
  }
  move(db, name, { to: null, from: previous, kind: "unalias", actor }, now);
  return succeed({ alias: name, version: null, previous });
}

/** The version alias `name` names, or null. */
export function aliasTarget(db: Db, name: string): string | null {
  return db.first<{ version_id: string }>("SELECT version_id FROM aliases WHERE name = ?", name)?.version_id ?? null;
}

/** The activation history, newest first. */
export function history(db: Db, limit: number): HistoryEntry[] {
  return db
    .all<{
      seq: number;
      version_id: string;
      previous_id: string | null;
      at: number;
      pointer: string;
      kind: MoveKind;
      actor: string | null;
    }>(
      "SELECT seq, version_id, previous_id, at, pointer, kind, actor FROM activations ORDER BY seq DESC LIMIT ?",
      limit,
    )
    .map((row) => ({
      at: new Date(row.at).toISOString(),
      pointer: row.pointer,
      kind: row.kind,
      from: row.previous_id,
      to: row.version_id === "" ? null : row.version_id,
      actor: row.actor,
    }));
}
