/**
 * Version rows: how a version is looked up, described and ended. A version
 * is staged while its deploy uploads, ready once finalized, and ends pruned,
 * deleted or expired.
 */
import type { Db } from "../storage/db.ts";
import { requireProject } from "./project.ts";
import type { VersionInfo, VersionState } from "./contract.ts";

export interface VersionRow extends Record<string, SqlStorageValue> {
  id: string;
  state: VersionState;
  created_at: number;
  expires_at: number | null;
  message: string;
  file_count: number;
  total_bytes: number;
  config: string;
  pinned: number;
  /** See migrations/project/0010_snapshots.sql. */
  snapshot_bits: number | null;
  /** See migrations/project/0011_immutable_files.sql. */
  immutable_files: number | null;
  /** See migrations/project/0012_compressed_bytes.sql. */
  compressed_bytes: number | null;
}

export function getVersion(db: Db, id: string): VersionRow | null {
  return db.first<VersionRow>("SELECT * FROM versions WHERE id = ?", id);
}

/** Whether a staged version's upload session has run out of time. */
export function hasLapsed(row: VersionRow, now: number): boolean {
  return row.state === "staged" && row.expires_at !== null && row.expires_at <= now;
}

/** Why `id` cannot be served or activated, or null if it can. */
export function unavailability(row: VersionRow | null, id: string, now: number): string | null {
  if (!row) {
    return `version ${id} does not exist`;
  }
  if (hasLapsed(row, now)) {
    return `version ${id} was never finalized and its deploy has expired`;
  }
  switch (row.state) {
    case "ready":
      return null;
    case "staged":
      return `version ${id} is not finalized yet`;
    case "pruned":
      return `version ${id} was pruned by the retention policy`;
    case "deleted":
      return `version ${id} was deleted`;
    case "expired":
      return `version ${id} was never finalized and its deploy has expired`;
  }
}

/** Moves a version to an end state and drops its files and server code. */
export function endVersion(db: Db, id: string, state: "pruned" | "deleted" | "expired"): void {
  db.run("UPDATE versions SET state = ?, expires_at = NULL WHERE id = ?", state, id);
  db.run("DELETE FROM files WHERE version_id = ?", id);
  db.run("DELETE FROM version_server WHERE version_id = ?", id);
}

/** The aliases that name version `id`. */
export function aliasesOf(db: Db, id: string): string[] {
  return db
    .all<{ name: string }>("SELECT name FROM aliases WHERE version_id = ? ORDER BY name", id)
    .map((row) => row.name);
}

/** Finalized versions, newest first. */
export function listVersions(db: Db): VersionInfo[] {
  const active = requireProject(db).active_version;
  return db.all<VersionRow>("SELECT * FROM versions WHERE state = 'ready' ORDER BY id DESC").map((row) => ({
    version: row.id,
    createdAt: new Date(row.created_at).toISOString(),
    files: row.file_count,
    bytes: row.total_bytes,
    message: row.message,
    active: row.id === active,
    pinned: row.pinned === 1,
    aliases: aliasesOf(db, row.id),
    immutableFiles: row.immutable_files,
    compressedBytes: row.compressed_bytes,
  }));
}
