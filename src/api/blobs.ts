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
import { hashParam, requiredLength, withClaim } from "./intake.ts";

export async function uploadBlob(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload blobs");
  const hash = hashParam(request);
  const size = requiredLength(request, "the blob's exact size");
  if (size > MAX_SINGLE_UPLOAD_BYTES) {
    throw new AppError(
      "payload_too_large",
      `blob is ${size} bytes; single uploads are limited to ${MAX_SINGLE_UPLOAD_BYTES}, use a multipart upload`,
    );
  }

  // 1. Already stored? Then there is nothing to send.
  const { present } = unwrap(await scope.manifest.prepareUpload(scope.authority, hash, size));
  if (present) {
    await request.body?.cancel();
    return Response.json({ hash, size, stored: true, uploaded: false });
  }

  // 2. Stream, verify and store, under the claim prepareUpload gave.
  return withClaim(
    () => scope.manifest.releaseUpload(hash),
    async () => {
      const body = request.body as ReadableStream<Uint8Array> | null;
      const put = unwrap(await scope.blobs.putVerified(hash, size, body));
      // 3. Record it, so that deploys listing it can be finalized.
      unwrap(await scope.manifest.recordUpload(scope.authority, hash, size));
      return Response.json({ hash, size, stored: true, uploaded: put.written }, { status: 201 });
    },
  );
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
