/**
 * Batched uploads of small blobs: POST /api/projects/:project/blobs/batch.
 *
 * The body is one line of JSON, `{"blobs": [{"hash", "size"}, …]}`, then
 * "\n", then the blobs' bytes one after the other in that order, and its
 * Content-Length is exact. At most BATCH_MAX_BLOBS blobs of at most
 * BATCH_MAX_BLOB_BYTES each, BATCH_MAX_BYTES in all.
 *
 * One call to the project's Durable Object claims the batch (blobs already
 * stored are skipped, the rest leased); each blob is checked against its
 * hash; the ones that pass are written to R2 together, as one pack, and one
 * more call records them. A batch is at most BATCH_MAX_BYTES, so it is read
 * whole before anything is claimed. A blob that fails its check is
 * reported by hash and not stored; a body cut short stores nothing.
 */
import type { IRequest } from "itty-router";
import { contentHashOfBytes } from "../blob/content-hash.ts";
import { AppError, unwrap } from "../errors.ts";
import { BATCH_MAX_BLOB_BYTES, BATCH_MAX_BLOBS, BATCH_MAX_BYTES } from "../shared/limits.ts";
import { isContentHash } from "../shared/names.ts";
import { badField, isPlainObject } from "./body.ts";
import { openProject, type ApiContext } from "./context.ts";
import { requiredLength, withClaim } from "./intake.ts";

/** The JSON line names at most this many bytes. */
const MAX_HEADER_BYTES = 256 * 1024;

interface Declared {
  hash: string;
  size: number;
}

export async function uploadBatch(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload blobs");
  const declaredLength = requiredLength(request, "the batch's exact size");
  if (declaredLength > MAX_HEADER_BYTES + 1 + BATCH_MAX_BYTES) {
    throw new AppError("payload_too_large", `a batch is at most ${BATCH_MAX_BYTES} bytes of blobs`);
  }
  // A batch is small enough to hold whole; a body cut short fails here, before anything is claimed.
  const body = new Uint8Array(
    await request.arrayBuffer().catch(() => {
      throw badField("body", "ended before the last blob; nothing was stored");
    }),
  );
  const newline = body.subarray(0, MAX_HEADER_BYTES + 1).indexOf(10);
  if (newline === -1) {
    throw badField("body", 'the first line must be JSON naming the blobs: {"blobs": [{"hash", "size"}, ...]}');
  }
  const blobs = parseHeader(body.subarray(0, newline));
  const total = blobs.reduce((sum, blob) => sum + blob.size, 0);
  if (body.byteLength !== newline + 1 + total) {
    throw new AppError(
      "bad_request",
      `content-length: the batch is ${newline + 1 + total} bytes, not ${body.byteLength}`,
      {
        field: "content-length",
      },
    );
  }

  // 1. Claim: what is stored already is skipped; the rest is leased.
  const { present } = unwrap(
    await scope.manifest.prepareBatch(
      scope.authority,
      blobs.map(({ hash, size }) => ({ hash, size })),
    ),
  );
  const stored = new Set(present);
  const leased = [...new Set(blobs.map((blob) => blob.hash).filter((hash) => !stored.has(hash)))];
  return withClaim(
    () => scope.manifest.releaseBatch(leased),
    async () => {
      // 2. Check each blob; the ones that pass go into the pack.
      const pieces: Uint8Array[] = [];
      const packed: (Declared & { offset: number })[] = [];
      const packing = new Set<string>();
      const failed: { hash: string; problem: string }[] = [];
      let start = newline + 1;
      let offset = 0;
      for (const blob of blobs) {
        const bytes = body.subarray(start, start + blob.size);
        start += blob.size;
        if (stored.has(blob.hash) || packing.has(blob.hash)) {
          continue;
        }
        const actual = await contentHashOfBytes(bytes);
        if (actual !== blob.hash) {
          failed.push({ hash: blob.hash, problem: `its bytes hash to ${actual}` });
          continue;
        }
        pieces.push(bytes);
        packing.add(blob.hash);
        packed.push({ ...blob, offset });
        offset += blob.size;
      }
      // 3. Store the pack, then record it and its blobs.
      if (packed.length > 0) {
        const id = `${Date.now().toString(36)}-${crypto.randomUUID()}`;
        await scope.blobs.putPack(id, pieces);
        unwrap(await scope.manifest.recordBatch(scope.authority, { id, size: offset }, packed, leased));
      } else {
        await scope.manifest.releaseBatch(leased);
      }
      return Response.json({ stored: packed.map((entry) => entry.hash), present, failed });
    },
  );
}

/** The batch's first line, checked. */
function parseHeader(line: Uint8Array): Declared[] {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(line));
  } catch {
    throw badField("body", 'the first line must be JSON: {"blobs": [{"hash", "size"}, ...]}');
  }
  const blobs = isPlainObject(value) ? value.blobs : undefined;
  if (!Array.isArray(blobs) || blobs.length === 0 || blobs.length > BATCH_MAX_BLOBS) {
    throw badField("blobs", `must list 1 to ${BATCH_MAX_BLOBS} blobs`);
  }
  let total = 0;
  return blobs.map((entry: unknown, index) => {
    const field = `blobs[${index}]`;
    if (!isPlainObject(entry) || typeof entry.hash !== "string" || !isContentHash(entry.hash)) {
      throw badField(`${field}.hash`, "must be 64 lowercase hex digits");
    }
    const { size } = entry;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0 || size > BATCH_MAX_BLOB_BYTES) {
      throw badField(
        `${field}.size`,
        `must be a whole number of bytes from 0 to ${BATCH_MAX_BLOB_BYTES}; larger blobs are uploaded alone`,
      );
    }
    total += size;
    if (total > BATCH_MAX_BYTES) {
      throw new AppError("payload_too_large", `blobs: a batch holds at most ${BATCH_MAX_BYTES} bytes`, {
        field: "blobs",
      });
    }
    return { hash: entry.hash, size };
  });
}
