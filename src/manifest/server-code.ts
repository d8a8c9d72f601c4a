/**
 * The server code of versions: its sources, saved when the deploy starts,
 * and the bundle built from them before the version is finalized.
 */
import { fail, succeed, type Outcome } from "../errors.ts";
import type { ServerSource } from "../shared/server-code.ts";
import type { Db } from "./db.ts";

/** What the platform needs to run a version's server code. */
export interface ServerRef {
  bundleHash: string;
  mainModule: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
}

interface ServerRow extends Record<string, SqlStorageValue> {
  entry: string;
  sources: string;
  compatibility_date: string;
  compatibility_flags: string;
  vars: string;
  bundle_hash: string | null;
  main_module: string | null;
}

export function saveServerSource(db: Db, version: string, source: ServerSource): void {
  db.run(
    `INSERT INTO version_server (version_id, entry, sources, compatibility_date, compatibility_flags, vars)
     VALUES (?, ?, ?, ?, ?, ?)`,
    version,
    source.entry,
    JSON.stringify(source.files),
    source.compatibility_date,
    JSON.stringify(source.compatibility_flags),
    JSON.stringify(source.vars),
  );
}

function serverRow(db: Db, version: string): ServerRow | null {
  return db.first<ServerRow>("SELECT * FROM version_server WHERE version_id = ?", version);
}

/** The sources of a version whose server code has not been bundled yet, or null. */
export function unbundledSource(db: Db, version: string): ServerSource | null {
  const row = serverRow(db, version);
  if (!row || row.bundle_hash !== null) {
    return null;
  }
  return {
    entry: row.entry,
    files: JSON.parse(row.sources) as Record<string, string>,
    vars: JSON.parse(row.vars) as Record<string, string>,
    compatibility_date: row.compatibility_date,
    compatibility_flags: JSON.parse(row.compatibility_flags) as string[],
  };
}

/** Attaches a stored bundle to a staged version's server code. */
export function attachBundle(db: Db, version: string, bundleHash: string, mainModule: string): Outcome<{ version: string }> {
  const row = serverRow(db, version);
  if (!row) {
    return fail("bad_request", `server: version ${version} has no server code to bundle`, { field: "server" });
  }
  db.run("UPDATE version_server SET bundle_hash = ?, main_module = ? WHERE version_id = ?", bundleHash, mainModule, version);
  return succeed({ version });
}

/** Whether a version has server code that still needs its bundle. */
export function needsBundle(db: Db, version: string): boolean {
  const row = serverRow(db, version);
  return row !== null && row.bundle_hash === null;
}

/** How to run a version's server code, or null if it has none. */
export function serverRefOf(db: Db, version: string): ServerRef | null {
  const row = serverRow(db, version);
  if (!row?.bundle_hash || !row.main_module) {
    return null;
  }
  return {
    bundleHash: row.bundle_hash,
    mainModule: row.main_module,
    compatibilityDate: row.compatibility_date,
    compatibilityFlags: JSON.parse(row.compatibility_flags) as string[],
    vars: JSON.parse(row.vars) as Record<string, string>,
  };
}
