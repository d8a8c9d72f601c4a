/**
 * The server code of versions: the bundle's blob and how to run it, saved
 * when the deploy starts. The deploy lists the bundle as it lists its
 * files, so garbage collection keeps it from that moment on.
 */
import type { ServerRef } from "./contract.ts";
import type { Db } from "../storage/db.ts";

interface ServerRow extends Record<string, SqlStorageValue> {
  bundle_hash: string;
  compatibility_date: string;
  compatibility_flags: string;
  vars: string;
}

export function saveServerRef(db: Db, version: string, server: ServerRef): void {
  db.run(
    `INSERT INTO version_server (version_id, bundle_hash, compatibility_date, compatibility_flags, vars)
     VALUES (?, ?, ?, ?, ?)`,
    version,
    server.bundleHash,
    server.compatibilityDate,
    JSON.stringify(server.compatibilityFlags),
    JSON.stringify(server.vars),
  );
}

/** How to run a version's server code, or null if it has none. */
export function serverRefOf(db: Db, version: string): ServerRef | null {
  const row = db.first<ServerRow>("SELECT * FROM version_server WHERE version_id = ?", version);
  if (!row) {
    return null;
  }
  const stored = db.first<{ size: number; pack: string | null; pack_offset: number | null }>(
    "SELECT size, pack, pack_offset FROM blobs WHERE hash = ? AND deleting = 0",
    row.bundle_hash,
  );
  return {
    bundleHash: row.bundle_hash,
    ...(stored ? { bundle: { size: stored.size, pack: stored.pack, offset: stored.pack_offset } } : {}),
    compatibilityDate: row.compatibility_date,
    compatibilityFlags: JSON.parse(row.compatibility_flags) as string[],
    vars: JSON.parse(row.vars) as Record<string, string>,
  };
}
