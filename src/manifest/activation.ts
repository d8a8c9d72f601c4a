/**
 * Which version is live. Activation and rollback each move one pointer in
 * one transaction; the Durable Object serializes them with the lookups that
 * serve requests, so once a call returns no request is served from the
 * version it replaced.
 */
import { fail, succeed, type Outcome } from "../errors.ts";
import type { Db } from "./db.ts";
import { requireProject } from "./project.ts";
import type { ActivationResult } from "./contract.ts";
import { getVersion, unavailability } from "./versions.ts";

/** Points the project at `id` and records the change. */
export function recordActivation(
  db: Db,
  id: string,
  previous: string | null,
  backTo: string | null,
  now: number,
): void {
  db.run("UPDATE project SET active_version = ? WHERE id = 1", id);
  db.run(
    "INSERT INTO activations (version_id, previous_id, back_to, at) VALUES (?, ?, ?, ?)",
    id,
    previous,
    backTo,
    now,
  );
}

/** Makes a finalized version live. Activating the live version changes nothing. */
export function activate(db: Db, id: string, now: number): Outcome<ActivationResult> {
  return db.atomically(() => {
    const previous = requireProject(db).active_version;
    const problem = unavailability(getVersion(db, id), id, now);
    if (problem) {
      return fail("version_unavailable", `cannot activate: ${problem}`);
    }
    if (previous !== id) {
      recordActivation(db, id, previous, previous, now);
    }
    return succeed({ active: id, previous });
  });
}

/**
 * Makes an earlier version live again. Without a target it goes to the
 * version that was live before the current one; repeated, it keeps walking
 * back through the history rather than toggling between two versions.
 */
export function rollback(db: Db, to: string | null, now: number): Outcome<ActivationResult> {
  if (to !== null) {
    return activate(db, to, now);
  }
  return db.atomically(() => {
    const current = requireProject(db).active_version;
    if (current === null) {
      return fail("version_unavailable", "cannot roll back: no version is live");
    }
    const last = db.first<{ back_to: string | null }>("SELECT back_to FROM activations ORDER BY seq DESC LIMIT 1");
    const target = last?.back_to ?? null;
    if (target === null) {
      return fail("version_unavailable", `cannot roll back: no version was live before ${current}`);
    }
    const problem = unavailability(getVersion(db, target), target, now);
    if (problem) {
      return fail("version_unavailable", `cannot roll back to the previous version: ${problem}`);
    }
    // Where a further rollback goes: wherever one went from the activation
    // that last made `target` live.
    const earlier = db.first<{ back_to: string | null }>(
      "SELECT back_to FROM activations WHERE version_id = ? ORDER BY seq DESC LIMIT 1",
      target,
    );
    recordActivation(db, target, current, earlier?.back_to ?? null, now);
    return succeed({ active: target, previous: current });
  });
}
