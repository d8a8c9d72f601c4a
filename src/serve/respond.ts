/**
 * Asset responses: validators, conditional requests, byte ranges (one range
 * as 206, several as multipart/byteranges), HEAD, caching and `_headers`.
 * Bodies stream from R2; nothing is buffered.
 */
import type { BlobStore } from "../blob/r2-store.ts";
import type { FileRef } from "../manifest/lookup.ts";
import { applyHeaderOps, type HeaderOp } from "./headers.ts";
import {
  cacheControlFor,
  evaluatePreconditions,
  httpDate,
  ifRangeAllows,
  parseRange,
  type ByteRange,
  type Validators,
} from "./http.ts";

/** Names the version a response was served from. */
export const VERSION_HEADER = "x-r2-assets-version";

export interface AssetToSend {
  file: FileRef;
  status: 200 | 404;
  version: string;
  headerOps: readonly HeaderOp[];
}

export async function respondWithAsset(request: Request, store: BlobStore, asset: AssetToSend): Promise<Response> {
  const { file } = asset;
  const validators: Validators = { etag: file.hash, lastModified: file.storedAt };
  const headers = new Headers({
    etag: `"${file.hash}"`,
    "last-modified": httpDate(file.storedAt),
    "cache-control": cacheControlFor(file.path),
    [VERSION_HEADER]: asset.version,
  });
  const head = request.method === "HEAD";
  const finish = (body: BodyInit | null, status: number): Response => {
    applyHeaderOps(headers, asset.headerOps);
    return new Response(head ? null : body, { status, headers });
  };

  // A not-found page is sent whole and unconditionally.
  if (asset.status === 404) {
    headers.set("content-type", file.contentType);
    headers.set("content-length", String(file.size));
    return finish(head ? null : await openBody(store, file), 404);
  }

  const precondition = evaluatePreconditions(request.headers, validators);
  if (precondition === "not-modified") {
    return finish(null, 304);
  }
  if (precondition === "failed") {
    headers.set("content-type", "text/plain; charset=utf-8");
    return finish("Precondition Failed\n", 412);
  }

  headers.set("accept-ranges", "bytes");
  const range = ifRangeAllows(request.headers.get("if-range"), validators)
    ? parseRange(request.headers.get("range"), file.size)
    : ({ kind: "whole" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${file.size}`);
    headers.set("content-type", "text/plain; charset=utf-8");
    return finish("Range Not Satisfiable\n", 416);
  }
  if (range.kind === "ranges" && range.ranges.length === 1 && range.ranges[0]) {
    const { start, end } = range.ranges[0];
    headers.set("content-type", file.contentType);
    headers.set("content-range", `bytes ${start}-${end}/${file.size}`);
    headers.set("content-length", String(end - start + 1));
    return finish(head ? null : await openBody(store, file, { start, end }), 206);
  }
  if (range.kind === "ranges") {
    const multipart = multipartRanges(file, range.ranges);
    headers.set("content-type", `multipart/byteranges; boundary=${multipart.boundary}`);
    headers.set("content-length", String(multipart.length));
    return finish(head ? null : multipart.stream(store), 206);
  }
  headers.set("content-type", file.contentType);
  headers.set("content-length", String(file.size));
  return finish(head ? null : await openBody(store, file), 200);
}

/** The body of a file, or of one byte range of it, streaming from R2. */
async function openBody(store: BlobStore, file: FileRef, range?: ByteRange): Promise<ReadableStream | null> {
  if (file.size === 0) {
    return null;
  }
  const body = await store.read(file.hash, range?.start ?? 0, range?.end ?? file.size - 1);
  if (!body) {
    // The manifest lists the file, so its blob must be stored.
    throw new Error(`blob ${file.hash} of ${file.path} is missing from R2`);
  }
  return body;
}

/**
 * A multipart/byteranges body (RFC 9110 §14.6): its boundary, its exact
 * length, and a stream that reads each range from R2 in turn.
 */
function multipartRanges(file: FileRef, ranges: readonly ByteRange[]): {
  boundary: string;
  length: number;
  stream: (store: BlobStore) => ReadableStream;
} {
  const boundary = `r2-assets-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const partHeaders = ranges.map(({ start, end }) =>
    encoder.encode(`--${boundary}\r\ncontent-type: ${file.contentType}\r\ncontent-range: bytes ${start}-${end}/${file.size}\r\n\r\n`),
  );
  const lineBreak = encoder.encode("\r\n");
  const closing = encoder.encode(`--${boundary}--\r\n`);
  const length =
    ranges.reduce((sum, { start, end }, i) => sum + (partHeaders[i]?.length ?? 0) + (end - start + 1) + lineBreak.length, 0) +
    closing.length;
  const stream = (store: BlobStore): ReadableStream => {
    const { readable, writable } = new FixedLengthStream(length);
    const write = async (): Promise<void> => {
      for (const [i, range] of ranges.entries()) {
        const writer = writable.getWriter();
        await writer.write(partHeaders[i] ?? new Uint8Array());
        writer.releaseLock();
        await (await openBody(store, file, range))?.pipeTo(writable, { preventClose: true });
        const after = writable.getWriter();
        await after.write(lineBreak);
        after.releaseLock();
      }
      const writer = writable.getWriter();
      await writer.write(closing);
      await writer.close();
    };
    write().catch((error: unknown) => writable.abort(error).catch(() => undefined));
    return readable;
  };
  return { boundary, length, stream };
}
