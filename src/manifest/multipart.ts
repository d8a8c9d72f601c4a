/**
 * Multipart uploads of large blobs: resumable, part by part, and verified
 * twice. Each part is checked against the hash its sender declared for it
 * as it streams in (see BlobStore.putPartVerified); on completion the
 * digests of all parts' blocks must give the blob's content hash, or the
 * upload is aborted and nothing is stored.
 */
import { contentHashOf } from "../blob/content-hash.ts";
import type { BlobStore } from "../blob/r2-store.ts";
import { fail, succeed, type Outcome } from "../outcome.ts";
import { joinDigests, splitDigests } from "../shared/blocks.ts";
import { isValidPartSize, MAX_PARTS, MULTIPART_TTL_MS, partCountOf } from "../shared/limits.ts";
import type { BlobLedger } from "./blob-ledger.ts";
import type { UploadSession } from "./contract.ts";
import { checkStoredQuota, quotasOf, requireProject } from "./project.ts";
import type { Db } from "../storage/db.ts";

interface SessionRow extends Record<string, SqlStorageValue> {
  hash: string;
  size: number;
  part_size: number;
  r2_upload_id: string;
  expires_at: number;
}

export class MultipartUploads {
  readonly #db: Db;
  readonly #store: BlobStore;
  readonly #ledger: BlobLedger;
  /** Starts and completions under way, so that concurrent calls share them. */
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(db: Db, store: BlobStore, ledger: BlobLedger) {
    this.#db = db;
    this.#store = store;
    this.#ledger = ledger;
  }

  /**
   * Starts an upload of `hash`, or returns the one already under way (to
   * resume it), or says the blob is already stored.
   */
  start(
    hash: string,
    size: number,
    partSize: number,
    now: number,
  ): Promise<Outcome<{ present: true } | UploadSession>> {
    return this.#once(`start:${hash}`, async () => {
      if (this.#ledger.has(hash)) {
        return succeed({ present: true as const });
      }
      const existing = this.#row(hash);
      if (existing) {
        if (existing.size !== size) {
          return fail(
            "bad_request",
            `size: an upload of ${hash} with ${existing.size} bytes is under way, not ${size}`,
            { field: "size" },
          );
        }
        return succeed(this.#toSession(existing));
      }
      if (!isValidPartSize(partSize)) {
        return fail("bad_request", "partSize: must be a multiple of 4 MiB from 8 to 92 MiB", { field: "partSize" });
      }
      if (partCountOf(size, partSize) > MAX_PARTS) {
        return fail("bad_request", `partSize: ${size} bytes would need more than ${MAX_PARTS} parts`, {
          field: "partSize",
        });
      }
      const quota = this.#ledger.has(hash) ? succeed(null) : this.#withinQuota(size);
      if (!quota.ok) {
        return quota;
      }
      const { present } = await this.#ledger.prepareUpload(hash, now, MULTIPART_TTL_MS);
      if (present) {
        return succeed({ present: true as const });
      }
      const uploadId = await this.#store.createMultipart(hash);
      this.#db.run(
        "INSERT INTO multipart_uploads (hash, size, part_size, r2_upload_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        hash,
        size,
        partSize,
        uploadId,
        now,
        now + MULTIPART_TTL_MS,
      );
      return succeed(this.#toSession(this.#requireRow(hash)));
    });
  }

  /** Whether another upload of `size` bytes fits the project's quotas. */
  #withinQuota(size: number): Outcome<null> {
    const quotas = quotasOf(requireProject(this.#db));
    const open = this.#db.first<{ n: number; bytes: number | null }>(
      "SELECT COUNT(*) AS n, SUM(size) AS bytes FROM multipart_uploads",
    );
    const count = open?.n ?? 0;
    const bytes = open?.bytes ?? 0;
    if (count >= quotas.openUploads) {
      return fail(
        "quota_exceeded",
        `this project has ${count} multipart uploads open, its limit; complete or abort them (idle ones end after 24 hours), or have an admin raise quotas.openUploads`,
        { quota: "openUploads", limit: quotas.openUploads },
      );
    }
    if (bytes + size > quotas.uploadBytes) {
      return fail(
        "payload_too_large",
        `size: the open multipart uploads would declare ${bytes + size} bytes, over this project's limit of ${quotas.uploadBytes}; have an admin raise quotas.uploadBytes`,
        { field: "size", quota: "uploadBytes", limit: quotas.uploadBytes },
      );
    }
    return checkStoredQuota(this.#db, bytes + size);
  }

  /** The upload of `hash` under way, if any. */
  session(hash: string): Outcome<UploadSession> {
    const row = this.#row(hash);
    return row ? succeed(this.#toSession(row)) : fail("not_found", `no upload of ${hash} is under way`);
  }

  /** Records a stored, verified part and keeps the upload alive. */
  recordPart(
    hash: string,
    partNumber: number,
    etag: string,
    blockDigests: Uint8Array[],
    now: number,
  ): Outcome<{ partNumber: number }> {
    const row = this.#row(hash);
    if (!row) {
      return fail("not_found", `no upload of ${hash} is under way`);
    }
    const joined = joinDigests(blockDigests);
    this.#db.run(
      `INSERT INTO multipart_parts (hash, part_number, etag, block_digests) VALUES (?, ?, ?, ?)
       ON CONFLICT (hash, part_number) DO UPDATE SET etag = excluded.etag, block_digests = excluded.block_digests`,
      hash,
      partNumber,
      etag,
      joined.buffer as ArrayBuffer,
    );
    this.#db.run("UPDATE multipart_uploads SET expires_at = ? WHERE hash = ?", now + MULTIPART_TTL_MS, hash);
    this.#ledger.extendLease(hash, now + MULTIPART_TTL_MS);
    return succeed({ partNumber });
  }

  /**
   * Completes the upload once every part is stored and the parts' block
   * digests give `hash`; a mismatch aborts the upload.
   */
  complete(hash: string, now: number): Promise<Outcome<{ hash: string; size: number }>> {
    return this.#once(`complete:${hash}`, async () => {
      const row = this.#row(hash);
      if (!row) {
        // Completed already, perhaps by a concurrent call.
        const size = this.#ledger.sizeOf(hash);
        return size !== null ? succeed({ hash, size }) : fail("not_found", `no upload of ${hash} is under way`);
      }
      const partCount = partCountOf(row.size, row.part_size);
      const parts = this.#db.all<{ part_number: number; etag: string; block_digests: ArrayBuffer }>(
        "SELECT part_number, etag, block_digests FROM multipart_parts WHERE hash = ? ORDER BY part_number",
        hash,
      );
      const missing = partCount - parts.length;
      if (missing > 0) {
        return fail("conflict", `${missing} of ${partCount} parts of ${hash} have not been uploaded`);
      }
      const digests = parts.flatMap((part) => splitDigests(new Uint8Array(part.block_digests)));
      const actual = await contentHashOf(digests);
      if (actual !== hash) {
        await this.#discard(row);
        return fail("bad_request", `the parts hash to ${actual}, not ${hash}; the upload was aborted`, {
          field: "hash",
        });
      }
      await this.#store.completeMultipart(
        hash,
        row.r2_upload_id,
        parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })),
      );
      this.#deleteRows(hash);
      const recorded = this.#ledger.recordUpload(hash, row.size, now);
      if (!recorded.ok) {
        return recorded;
      }
      return succeed({ hash, size: row.size });
    });
  }

  /** Aborts the upload of `hash`. */
  async abort(hash: string): Promise<Outcome<{ hash: string }>> {
    const row = this.#row(hash);
    if (!row) {
      return fail("not_found", `no upload of ${hash} is under way`);
    }
    await this.#discard(row);
    return succeed({ hash });
  }

  /** Aborts uploads idle past their expiry; returns how many. */
  async expire(now: number): Promise<number> {
    const lapsed = this.#db.all<SessionRow>("SELECT * FROM multipart_uploads WHERE expires_at <= ?", now);
    for (const row of lapsed) {
      await this.#discard(row);
    }
    return lapsed.length;
  }

  /** When the next idle upload lapses, if any is under way. */
  nextExpiry(): number | null {
    return this.#db.first<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM multipart_uploads")?.t ?? null;
  }

  async #discard(row: SessionRow): Promise<void> {
    this.#deleteRows(row.hash);
    this.#ledger.releaseUpload(row.hash);
    // R2 also drops incomplete uploads by itself after a week.
    await this.#store.abortMultipart(row.hash, row.r2_upload_id).catch(() => undefined);
  }

  #deleteRows(hash: string): void {
    this.#db.run("DELETE FROM multipart_parts WHERE hash = ?", hash);
    this.#db.run("DELETE FROM multipart_uploads WHERE hash = ?", hash);
  }

  #row(hash: string): SessionRow | null {
    return this.#db.first<SessionRow>("SELECT * FROM multipart_uploads WHERE hash = ?", hash);
  }

  #requireRow(hash: string): SessionRow {
    const row = this.#row(hash);
    if (!row) {
      throw new Error(`upload of ${hash} vanished`);
    }
    return row;
  }

  #toSession(row: SessionRow): UploadSession {
    const uploadedParts = this.#db
      .all<{ part_number: number }>(
        "SELECT part_number FROM multipart_parts WHERE hash = ? ORDER BY part_number",
        row.hash,
      )
      .map((part) => part.part_number);
    return {
      hash: row.hash,
      size: row.size,
      partSize: row.part_size,
      partCount: partCountOf(row.size, row.part_size),
      uploadedParts,
      expiresAt: new Date(row.expires_at).toISOString(),
      r2UploadId: row.r2_upload_id,
    };
  }

  /** Runs `task` once for `key` at a time; concurrent callers share its result. */
  #once<T>(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#pending.get(key) as Promise<T> | undefined;
    if (running) {
      return running;
    }
    const started = task().finally(() => this.#pending.delete(key));
    this.#pending.set(key, started);
    return started;
  }
}
