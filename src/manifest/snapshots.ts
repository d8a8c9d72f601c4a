/**
 * Writing and dropping finalized versions' manifest snapshots (the format
 * is src/shared/snapshot.ts): the Durable Object stays the single writer
 * and source of truth, and the edge reads an immutable copy of what it
 * wrote, a page at a time.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import { encodePage, pageBitsFor, pageRange, pathHash, type SnapshotFile } from "../shared/snapshot.ts";
import type { Db } from "../storage/db.ts";
import { getVersion } from "./versions.ts";

/** Rows given their path hash per statement, for files listed before hashes were kept. */
const BACKFILL_BATCH = 1000;

/**
 * Writes the snapshot of a finalized version, page by page, then records
 * how it is split. Writing it again is harmless (the pages are the same).
 *
 * @returns its page bits, or null if the version is not finalized
 */
export async function writeSnapshot(db: Db, store: BlobStore, version: string): Promise<number | null> {
  const row = getVersion(db, version);
  if (row?.state !== "ready") {
    return null;
  }
  backfillPathHashes(db, version);
  const bits = pageBitsFor(row.file_count);
  for (let page = 0; page < 2 ** bits; page += 1) {
    const { from, to } = pageRange(page, bits);
    const files = db
      .rows<[string, string, number, string, number, string | null, number | null]>(
        `SELECT f.path, f.hash, f.size, f.content_type, b.stored_at, b.pack, b.pack_offset
         FROM files f JOIN blobs b ON b.hash = f.hash
         WHERE f.version_id = ? AND f.path_hash >= ? AND f.path_hash < ?`,
        version,
        from,
        to,
      )
      .map(([path, hash, size, contentType, storedAt, pack, offset]): SnapshotFile => ({
        path,
        hash,
        size,
        contentType,
        storedAt,
        pack,
        offset,
      }));
    await store.putSnapshotPage(version, page, encodePage(files));
  }
  // The version may have been deleted while the pages were written: then it keeps no snapshot.
  if (getVersion(db, version)?.state !== "ready") {
    await store.deleteSnapshot(version, 2 ** bits);
    return null;
  }
  db.run("UPDATE versions SET snapshot_bits = ? WHERE id = ?", bits, version);
  return bits;
}

/** Deletes the snapshots of versions that have ended (pruned or deleted). */
export async function dropSnapshots(db: Db, store: BlobStore, versions: readonly string[]): Promise<void> {
  for (const version of versions) {
    const row = db.first<{ bits: number | null; state: string }>(
      "SELECT snapshot_bits AS bits, state FROM versions WHERE id = ?",
      version,
    );
    if (row && row.bits !== null && row.state !== "ready") {
      db.run("UPDATE versions SET snapshot_bits = NULL WHERE id = ?", version);
      await store.deleteSnapshot(version, 2 ** row.bits);
    }
  }
}

/** Gives files listed before path hashes were kept their hash. */
function backfillPathHashes(db: Db, version: string): void {
  for (;;) {
    const rows = db.all<{ path: string }>(
      "SELECT path FROM files WHERE version_id = ? AND path_hash IS NULL LIMIT ?",
      version,
      BACKFILL_BATCH,
    );
    if (rows.length === 0) {
      return;
    }
    db.transaction(() => {
      for (const { path } of rows) {
        db.run("UPDATE files SET path_hash = ? WHERE version_id = ? AND path = ?", pathHash(path), version, path);
      }
    });
  }
}
