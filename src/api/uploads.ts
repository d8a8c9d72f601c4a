/**
 * Multipart uploads of large blobs, resumable part by part:
 *   POST   /api/projects/:p/uploads                       {"hash","size","partSize"?}
 *   GET    /api/projects/:p/uploads/:hash                 what has arrived
 *   PUT    /api/projects/:p/uploads/:hash/parts/:n        one part (x-part-hash: its content hash)
 *   POST   /api/projects/:p/uploads/:hash/complete
 *   DELETE /api/projects/:p/uploads/:hash                 abort
 */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import type { UploadSession } from "../manifest/contract.ts";
import { choosePartSize, MAX_JSON_BODY_BYTES, partLength } from "../shared/limits.ts";
import { isContentHash } from "../shared/names.ts";
import { badField, optionalInteger, readJson } from "./body.ts";
import { maxFileBytes, openProject, type ApiContext } from "./context.ts";
import { hashParam, requiredLength } from "./intake.ts";

export async function startUpload(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload files in parts");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const hash = body.hash;
  if (typeof hash !== "string" || !isContentHash(hash)) {
    throw badField("hash", "must be 64 lowercase hex digits");
  }
  const size = optionalInteger(body, "size");
  if (size === undefined || size < 1) {
    throw badField("size", "must be a whole number of bytes, 1 or more");
  }
  const limit = maxFileBytes(ctx.env);
  if (size > limit) {
    throw new AppError(
      "payload_too_large",
      `size: ${size} bytes is over this platform's limit of ${limit} bytes per file`,
      { field: "size" },
    );
  }
  const partSize = optionalInteger(body, "partSize") ?? choosePartSize(size);
  if (partSize === null) {
    throw badField("size", "is too large to upload in parts");
  }
  const started = unwrap(await scope.manifest.startUpload(scope.authority, hash, size, partSize));
  if ("present" in started) {
    return Response.json({ hash, size, present: true });
  }
  return Response.json({ ...publicSession(started), present: false }, { status: 201 });
}

export async function getUpload(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload files in parts");
  return Response.json(publicSession(unwrap(await scope.manifest.uploadSession(hashParam(request)))));
}

export async function uploadPart(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload files in parts");
  const hash = hashParam(request);
  const session = unwrap(await scope.manifest.uploadSession(hash));
  // Written plainly: 1e0, 0x1 and 01 are not part numbers.
  const partText = request.params.part ?? "";
  const partNumber = /^[1-9]\d{0,4}$/.test(partText) ? Number(partText) : Number.NaN;
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > session.partCount) {
    throw new AppError("bad_request", `part: must be a whole number from 1 to ${session.partCount}`, { field: "part" });
  }
  const partHash = request.headers.get("x-part-hash") ?? "";
  if (!isContentHash(partHash)) {
    throw new AppError("bad_request", "x-part-hash: must be the part's content hash, 64 lowercase hex digits", {
      field: "x-part-hash",
    });
  }
  const expected = partLength(session.size, session.partSize, partNumber);
  const declared = requiredLength(request, `part ${partNumber}'s exact size, ${expected} bytes`);
  if (declared !== expected) {
    throw new AppError("bad_request", `content-length: part ${partNumber} is ${expected} bytes, not ${declared}`, {
      field: "content-length",
    });
  }
  const put = unwrap(
    await scope.blobs.putPartVerified(
      hash,
      session.r2UploadId,
      partNumber,
      partHash,
      expected,
      request.body as ReadableStream<Uint8Array> | null,
    ),
  );
  unwrap(await scope.manifest.recordPart(scope.authority, hash, partNumber, put.part.etag, put.blockDigests));
  return Response.json({ hash, partNumber, size: expected }, { status: 201 });
}

export async function completeUpload(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload files in parts");
  const result = unwrap(await scope.manifest.completeUpload(scope.authority, hashParam(request)));
  return Response.json({ ...result, stored: true });
}

export async function abortUpload(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "upload files in parts");
  return Response.json({
    ...unwrap(await scope.manifest.abortUpload(scope.authority, hashParam(request))),
    aborted: true,
  });
}

function publicSession({ r2UploadId: _, ...session }: UploadSession): Omit<UploadSession, "r2UploadId"> {
  return session;
}
