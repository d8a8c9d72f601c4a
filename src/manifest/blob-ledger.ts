/**
 * The manifest's record of which blobs are in R2, and the garbage collector
 * that removes the ones nothing needs.
 *
 * Safety rests on three rules, each enforced in a synchronous step of the
 * Durable Object so that no request can interleave with it:
 * - a blob listed by any staged or finalized version (as a file, or as its
 *   server code's bundle) is never collected; a deploy lists a blob in the
 *   same step that tells it the blob is stored;
 * - an upload holds a lease on its hash until it is recorded, and leased
 *   hashes are never collected;
 * - an upload of a hash being collected waits until the collection is done.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import { fail, succeed, type Outcome } from "../outcome.ts";
import { SESSION_TTL_MS } from "../shared/limits.ts";
import type { Db } from "../storage/db.ts";
import { expireDeploys } from "./deploys.ts";
import type { GcResult } from "./contract.ts";

/** How long an upload may take before its lease lapses. */
const LEASE_MS = 60 * 60 * 1000;

/** Blobs deleted per round of collection. */
const COLLECT_BATCH = 1000;

interface BlobRow extends Record<string, SqlStorageValue> {
  hash: string;
  size: number;
  deleting: number;
  /** The pack that holds it, or null for an object of its own. */
  pack: string | null;
}

/** A small blob of a batch, where its pack holds it. */
export interface PackedBlob {
  hash: string;
  size: number;
  offset: number;
}

export class BlobLedger {
  readonly #db: Db;
  readonly #store: BlobStore;
  /** The collection under way; a second request joins it. */
  #collection: Promise<GcResult> | null = null;

  constructor(db: Db, store: BlobStore) {
    this.#db = db;
    this.#store = store;
  }

  /**
   * Called before a blob is uploaded. If it is already stored, says so;
   * otherwise leases the hash so that collection leaves it alone until
   * `recordUpload` or `releaseUpload`.
   */
  async prepareUpload(hash: string, now: number, leaseMs: number = LEASE_MS): Promise<{ present: boolean }> {
    for (let attempt = 0; ; attempt += 1) {
      const row = this.#blob(hash);
      if (row?.deleting !== 1) {
        if (row) {
          return { present: true };
        }
        this.#lease([hash], now + leaseMs);
        return { present: false };
      }
      if (attempt === 3) {
        throw new Error(`blob ${hash} is stuck in garbage collection`);
      }
      // Claimed by a collection: wait for it (or, if the one that claimed
      // it was interrupted, run one) so that its deletion cannot land after
      // this upload.
      await this.collect(now).catch(() => undefined);
    }
  }

  /**
   * Called before a batch of small blobs is uploaded: says which are stored
   * already and leases the rest, all in one step (after waiting for a
   * collection that has claimed any of them). `admit` is asked first
   * whether the bytes not stored yet may come in (the stored-bytes quota);
   * if not, nothing is leased and its failure is returned.
   */
  async prepareBatch(
    blobs: readonly { hash: string; size: number }[],
    now: number,
    admit: (incoming: number) => Outcome<null>,
  ): Promise<Outcome<{ present: string[] }>> {
    // Each step is one statement over the whole batch (see #lease).
    const sizes = new Map(blobs.map((blob) => [blob.hash, blob.size]));
    const list = JSON.stringify([...sizes.keys()]);
    let present: string[];
    for (let attempt = 0; ; attempt += 1) {
      // The batch's stored blobs, in its order, and whether a collection has claimed any.
      const rows = this.#db.all<{ hash: string; deleting: number }>(
        `SELECT j.value AS hash, b.deleting FROM json_each(?) j JOIN blobs b ON b.hash = j.value ORDER BY j.key`,
        list,
      );
      if (!rows.some((row) => row.deleting === 1)) {
        present = rows.map((row) => row.hash);
        break;
      }
      if (attempt === 3) {
        throw new Error("blobs of this batch are stuck in garbage collection");
      }
      await this.collect(now).catch(() => undefined);
    }
    const stored = new Set(present);
    const incoming = [...sizes].filter(([hash]) => !stored.has(hash));
    const fits = admit(incoming.reduce((sum, [, size]) => sum + size, 0));
    if (!fits.ok) {
      return fits;
    }
    this.#lease(
      incoming.map(([hash]) => hash),
      now + LEASE_MS,
    );
    return succeed({ present });
  }

  /**
   * Records a pack R2 now holds and the blobs in it, and releases the
   * batch's leases (`leased`), in one step. A blob another upload stored
   * meanwhile keeps its own copy; this one's bytes are left in the pack.
   */
  recordBatch(
    pack: { id: string; size: number },
    blobs: readonly PackedBlob[],
    leased: readonly string[],
    now: number,
  ): { recorded: string[] } {
    return this.#db.transaction(() => {
      this.#db.run("INSERT INTO packs (id, size, created_at) VALUES (?, ?, ?)", pack.id, pack.size, now);
      // A blob stored meanwhile (by another upload) keeps its row.
      const recorded = this.#db
        .all<{ hash: string }>(
          `INSERT INTO blobs (hash, size, stored_at, pack, pack_offset)
           SELECT value ->> 'hash', value ->> 'size', ?2, ?3, value ->> 'offset' FROM jsonb_each(?1) WHERE true
           ON CONFLICT (hash) DO NOTHING RETURNING hash`,
          JSON.stringify(blobs),
          now,
          pack.id,
        )
        .map((row) => row.hash);
      this.#release(leased);
      return { recorded };
    });
  }

  /** Releases the leases of a batch that failed. */
  releaseBatch(hashes: readonly string[]): void {
    this.#release(hashes);
  }

  /** Records a blob that R2 now holds, and releases the upload's lease. */
  recordUpload(hash: string, size: number, now: number): Outcome<{ hash: string; size: number }> {
    return this.#db.atomically(() => {
      this.#release([hash]);
      const row = this.#blob(hash);
      if (row?.deleting === 1) {
        // Only possible once a lease has lapsed.
        return fail("conflict", `blob ${hash} was garbage-collected during the upload; upload it again`);
      }
      if (!row) {
        this.#db.run("INSERT INTO blobs (hash, size, stored_at) VALUES (?, ?, ?)", hash, size, now);
      }
      return succeed({ hash, size });
    });
  }

  /** Keeps an upload's lease until at least `until`. */
  extendLease(hash: string, until: number): void {
    this.#db.run("UPDATE upload_leases SET expires_at = MAX(expires_at, ?) WHERE hash = ?", until, hash);
  }

  /** Releases the lease of an upload that failed. */
  releaseUpload(hash: string): void {
    this.#release([hash]);
  }

  /** How many uploads hold a lease at `now`: they may still be writing to R2. */
  activeLeases(now: number): number {
    return (
      this.#db.first<{ n: number }>("SELECT COUNT(*) AS n FROM upload_leases WHERE holders > 0 AND expires_at > ?", now)
        ?.n ?? 0
    );
  }

  /** Whether the ledger lists `hash` as stored. */
  has(hash: string): boolean {
    return this.sizeOf(hash) !== null;
  }

  /** The size of a stored blob, or null if it is not stored. */
  sizeOf(hash: string): number | null {
    const row = this.#blob(hash);
    return row?.deleting === 0 ? row.size : null;
  }

  /**
   * Deletes every blob that no version or open deploy lists, then objects in
   * R2 that the ledger never recorded (left by failed uploads) once they are
   * older than any upload could be.
   */
  collect(now: number): Promise<GcResult> {
    this.#collection ??= this.#collect(now).finally(() => {
      this.#collection = null;
    });
    return this.#collection;
  }

  async #collect(now: number): Promise<GcResult> {
    expireDeploys(this.#db, now);
    const result: GcResult = { deleted: 0, bytesFreed: 0, blobs: [] };
    for (let batch = this.#claimUnreferenced(now); batch.length > 0; batch = this.#claimUnreferenced(now)) {
      await this.#deleteClaimed(batch, result);
    }
    for (let packs = this.#claimEmptyPacks(); packs.length > 0; packs = this.#claimEmptyPacks()) {
      await this.#store.deletePacks(packs);
      for (const id of packs) {
        this.#db.run("DELETE FROM packs WHERE id = ? AND deleting = 1", id);
      }
    }
    await this.#collectStrays(now, result);
    await this.#collectStrayPacks(now);
    return result;
  }

  /** Deletes claimed blobs from R2 (those in packs go with their pack), then from the ledger. */
  async #deleteClaimed(claimed: readonly BlobRow[], result: GcResult): Promise<void> {
    await this.#store.delete(claimed.filter((row) => row.pack === null).map((row) => row.hash));
    for (const { hash } of claimed) {
      this.#db.run("DELETE FROM blobs WHERE hash = ? AND deleting = 1", hash);
    }
    for (const row of claimed) {
      result.deleted += 1;
      result.bytesFreed += row.size;
      result.blobs.push(row.hash);
    }
  }

  /** Marks a batch of unreferenced, unleased blobs as being deleted. */
  #claimUnreferenced(now: number): BlobRow[] {
    return this.#db.transaction(() => {
      const rows = this.#db.all<BlobRow>(
        `SELECT hash, size, deleting, pack FROM blobs b
         WHERE deleting = 1
            OR (NOT EXISTS (SELECT 1 FROM files f WHERE f.hash = b.hash)
                AND NOT EXISTS (SELECT 1 FROM version_server s WHERE s.bundle_hash = b.hash)
                AND NOT EXISTS (SELECT 1 FROM upload_leases l WHERE l.hash = b.hash AND l.expires_at > ?))
         LIMIT ?`,
        now,
        COLLECT_BATCH,
      );
      for (const row of rows) {
        this.#db.run("UPDATE blobs SET deleting = 1 WHERE hash = ?", row.hash);
      }
      return rows;
    });
  }

  /** Marks a batch of packs that hold no blob the ledger keeps as being deleted. */
  #claimEmptyPacks(): string[] {
    return this.#db.transaction(() => {
      const ids = this.#db
        .all<{ id: string }>(
          `SELECT id FROM packs p WHERE deleting = 1 OR NOT EXISTS (SELECT 1 FROM blobs b WHERE b.pack = p.id) LIMIT ?`,
          COLLECT_BATCH,
        )
        .map((row) => row.id);
      for (const id of ids) {
        this.#db.run("UPDATE packs SET deleting = 1 WHERE id = ?", id);
      }
      return ids;
    });
  }

  /** Packs in R2 that the ledger never recorded (a batch that failed after writing), once they are old. */
  async #collectStrayPacks(now: number): Promise<void> {
    const strays: string[] = [];
    for await (const pack of this.#store.listPacks()) {
      const known = this.#db.first("SELECT 1 AS known FROM packs WHERE id = ?", pack.id) !== null;
      if (!known && pack.uploaded.getTime() < now - SESSION_TTL_MS) {
        strays.push(pack.id);
      }
    }
    await this.#store.deletePacks(strays);
  }

  /**
   * Objects in R2 that the ledger never recorded are left by uploads that
   * failed after writing; they are claimed in the ledger like any other blob
   * before deletion, so an upload of the same content waits for it.
   */
  async #collectStrays(now: number, result: GcResult): Promise<void> {
    let claimed: BlobRow[] = [];
    for await (const object of this.#store.list()) {
      const old = object.uploaded.getTime() < now - SESSION_TTL_MS;
      if (old && !this.#blob(object.hash) && !this.#leased(object.hash, now)) {
        this.#db.run(
          "INSERT INTO blobs (hash, size, stored_at, deleting) VALUES (?, ?, ?, 1)",
          object.hash,
          object.size,
          object.uploaded.getTime(),
        );
        claimed.push({ hash: object.hash, size: object.size, deleting: 1, pack: null });
      }
      if (claimed.length >= COLLECT_BATCH) {
        await this.#deleteClaimed(claimed, result);
        claimed = [];
      }
    }
    if (claimed.length > 0) {
      await this.#deleteClaimed(claimed, result);
    }
  }

  #blob(hash: string): BlobRow | null {
    return this.#db.first<BlobRow>("SELECT hash, size, deleting, pack FROM blobs WHERE hash = ?", hash);
  }

  #leased(hash: string, now: number): boolean {
    return (
      this.#db.first("SELECT 1 AS leased FROM upload_leases WHERE hash = ? AND expires_at > ?", hash, now) !== null
    );
  }

  /**
   * Takes one hold on each of `hashes` (distinct) until at least `until`.
   * One statement for a whole batch, as a JSON array: a statement per blob
   * cost more than the rest of a batch's work.
   */
  #lease(hashes: readonly string[], until: number): void {
    this.#db.run(
      `INSERT INTO upload_leases (hash, holders, expires_at) SELECT value, 1, ?2 FROM json_each(?1) WHERE true
       ON CONFLICT (hash) DO UPDATE SET holders = holders + 1, expires_at = MAX(expires_at, excluded.expires_at)`,
      JSON.stringify(hashes),
      until,
    );
  }

  /** Releases one hold on each of `hashes` (distinct). */
  #release(hashes: readonly string[]): void {
    const list = JSON.stringify(hashes);
    // The last hold of each is deleted; only a hash another upload holds too is written twice.
    const deleted = this.#db.all(
      `DELETE FROM upload_leases WHERE holders <= 1 AND hash IN (SELECT value FROM json_each(?)) RETURNING hash`,
      list,
    ).length;
    if (deleted < hashes.length) {
      this.#db.run(
        `UPDATE upload_leases SET holders = holders - 1 WHERE hash IN (SELECT value FROM json_each(?))`,
        list,
      );
    }
  }
}
