/**
 * Blob uploads: PUT /api/projects/:project/blobs/:hash with the raw bytes.
 * The body streams into R2 while it is hashed, and is stored only if it
 * matches the hash in the URL and its Content-Length.
 */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import { MAX_JSON_BODY_BYTES, MAX_PAGE_ENTRIES, MAX_SINGLE_UPLOAD_BYTES } from "../shared/limits.ts";
import { badField, readJson } from "./body.ts";
import { isContentHash } from "../shared/names.ts";
import { openProject, type ApiContext } from "./context.ts";

export async function uploadBlob(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload blobs");
  const hash = request.params.hash ?? "";
  if (!isContentHash(hash)) {
    throw new AppError("bad_request", "hash: must be 64 lowercase hex digits", { field: "hash" });
  }
  const size = declaredLength(request);

  // 1. Already stored? Then there is nothing to send.
  const { present } = unwrap(await scope.manifest.prepareUpload(scope.authority, hash, size));
  if (present) {
    await request.body?.cancel();
    return Response.json({ hash, size, stored: true, uploaded: false });
  }

  // 2. Stream, verify and store. prepareUpload leased the hash; give the
  //    lease back if the upload does not get recorded.
  let recorded = false;
  try {
    const put = unwrap(await scope.blobs.putVerified(hash, size, request.body as ReadableStream<Uint8Array> | null));
    // 3. Record it, so that deploys listing it can be finalized.
    unwrap(await scope.manifest.recordUpload(scope.authority, hash, size));
    recorded = true;
    return Response.json({ hash, size, stored: true, uploaded: put.written }, { status: 201 });
  } finally {
    if (!recorded) {
      await scope.manifest.releaseUpload(hash);
    }
  }
}

/**
 * POST /api/projects/:project/blobs/missing: `{"hashes": [...]}` (at most a
 * manifest page's worth) → `{"missing": [...]}`, the ones the project does
 * not have. Changes nothing: `deploy --dry-run` asks it.
 */
export async function missingBlobs(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "ask which blobs are stored");
  const { hashes } = await readJson(request, MAX_JSON_BODY_BYTES);
  if (
    !Array.isArray(hashes) ||
    hashes.length > MAX_PAGE_ENTRIES ||
    !hashes.every((hash) => typeof hash === "string" && isContentHash(hash))
  ) {
    throw badField("hashes", `must be a list of at most ${MAX_PAGE_ENTRIES} content hashes (64 lowercase hex digits)`);
  }
  return Response.json({ missing: unwrap(await scope.manifest.missingOf(hashes as string[])) });
}

function declaredLength(request: Request): number {
  const header = request.headers.get("content-length");
  if (header === null) {
    throw new AppError("length_required", "Content-Length is required: send the blob's exact size");
  }
  const size = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(size)) {
    throw new AppError("bad_request", "Content-Length must be a whole number", { field: "content-length" });
  }
  if (size > MAX_SINGLE_UPLOAD_BYTES) {
    throw new AppError(
      "payload_too_large",
      `blob is ${size} bytes; single uploads are limited to ${MAX_SINGLE_UPLOAD_BYTES}, use a multipart upload`,
    );
  }
  return size;
}
