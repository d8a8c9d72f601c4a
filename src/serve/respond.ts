/**
 * Turns a resolved asset into an HTTP response, streaming its body from R2.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import type { FileRef } from "../manifest/lookup.ts";

/** Names the version a response was served from. */
export const VERSION_HEADER = "x-r2-assets-version";

export interface AssetToSend {
  file: FileRef;
  status: 200 | 404;
  version: string;
}

export async function respondWithAsset(request: Request, store: BlobStore, asset: AssetToSend): Promise<Response> {
  const headers = new Headers({
    "content-type": asset.file.contentType,
    etag: `"${asset.file.hash}"`,
    [VERSION_HEADER]: asset.version,
  });
  const object = await store.get(asset.file.hash);
  if (!object || !("body" in object)) {
    // The manifest lists the file, so its blob must exist.
    throw new Error(`blob ${asset.file.hash} of ${asset.file.path} is missing from R2`);
  }
  headers.set("content-length", String(object.size));
  if (request.method === "HEAD") {
    await object.body.cancel();
    return new Response(null, { status: asset.status, headers });
  }
  return new Response(object.body, { status: asset.status, headers });
}
