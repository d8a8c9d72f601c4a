/**
 * Serving lookups: which version a target names, that version's
 * configuration, and which of a list of paths it has, answered from the
 * manifest in one synchronous step. The serving Worker decides what to do
 * with the answer (see src/serve/resolver.ts); this module only looks up.
 */
import type { ServingConfig } from "../rules/config.ts";
import type { FileRef, LookupAnswer, LookupQuery, Unavailable } from "./contract.ts";
import type { Db } from "../storage/db.ts";
import type { ProjectRow } from "./project.ts";
import { aliasTarget, LIVE } from "./pointers.ts";
import { serverRefOf } from "./server-code.ts";
import { getVersion, unavailability } from "./versions.ts";

/** SQLite binds at most 100 parameters per statement on Cloudflare. */
const PATHS_PER_QUERY = 90;

export function lookup(db: Db, project: ProjectRow, query: LookupQuery, now: number): LookupAnswer {
  const { target } = query;
  const versionId =
    "version" in target
      ? target.version
      : target.pointer === LIVE
        ? project.active_version
        : aliasTarget(db, target.pointer);
  if (versionId === null) {
    return "pointer" in target && target.pointer !== LIVE
      ? unavailable("no-such-alias", `project ${project.name} has no alias ${target.pointer}`)
      : unavailable("no-live-version", `project ${project.name} has no live version`);
  }
  const row = getVersion(db, versionId);
  const problem = unavailability(row, versionId, now);
  if (!row || problem) {
    return unavailable("no-such-version", problem ?? `version ${versionId} does not exist`);
  }
  const files: FileRef[] = [];
  const paths = [...new Set(query.paths)];
  for (let start = 0; start < paths.length; start += PATHS_PER_QUERY) {
    const chunk = paths.slice(start, start + PATHS_PER_QUERY);
    files.push(
      ...db.all<FileRef & Record<string, SqlStorageValue>>(
        `SELECT f.path, f.hash, f.size, f.content_type AS contentType, b.stored_at AS storedAt, b.pack, b.pack_offset AS offset
         FROM files f JOIN blobs b ON b.hash = f.hash
         WHERE f.version_id = ? AND f.path IN (${chunk.map(() => "?").join(", ")})`,
        versionId,
        ...chunk,
      ),
    );
  }
  const config = query.known.includes(versionId)
    ? undefined
    : { serving: JSON.parse(row.config) as ServingConfig, server: serverRefOf(db, versionId) };
  const snapshotBits = row.state === "ready" ? row.snapshot_bits : null;
  return {
    ok: true,
    value: config ? { version: versionId, config, files, snapshotBits } : { version: versionId, files, snapshotBits },
  };
}

export function unavailable(reason: Unavailable, message: string): LookupAnswer {
  return { ok: false, reason, message };
}
