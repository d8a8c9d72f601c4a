/**
 * Asset responses: the representation (identity, or a precompressed
 * variant chosen by Accept-Encoding), validators, conditional requests,
 * byte ranges (one range as 206, several as multipart/byteranges), HEAD,
 * caching and `_headers`. Bodies stream from R2; nothing is buffered.
 *
 * Each representation has its own strong ETag (its blob's content hash),
 * so conditional requests match per representation. A Range request is
 * answered from identity whatever Accept-Encoding says (ranges are of the
 * representation sent, and identity's offsets are the ones a client can
 * resume or seek with); its 206 says `Content-Encoding: identity`, which
 * keeps any layer on the way (wrangler dev's proxy, say) from compressing
 * it. Variants go out with `encodeBody: "manual"`: already encoded.
 */
import { visitorError } from "../errors.ts";
import type { FileRef, ServedFile } from "../manifest/contract.ts";
import { negotiate, type Encoding } from "../rules/encoding.ts";
import { applyHeaderOps, type HeaderOp } from "../rules/headers.ts";
import {
  cacheControlFor,
  evaluatePreconditions,
  httpDate,
  ifRangeAllows,
  parseRange,
  type ByteRange,
  type Validators,
} from "../rules/http.ts";
import type { Bodies } from "./bodies.ts";

export interface AssetToSend {
  file: ServedFile;
  status: 200 | 404;
  /** Whether its name carries a content fingerprint (rules/fingerprint.ts): then it is immutable. */
  fingerprinted: boolean;
  /** Headers every response about this version carries (its version, where the answer came from). */
  tags: Record<string, string>;
  headerOps: readonly HeaderOp[];
}

export async function respondWithAsset(request: Request, bodies: Bodies, asset: AssetToSend): Promise<Response> {
  const codings = Object.keys(asset.file.encodings ?? {}) as Encoding[];
  const ranged = request.headers.has("range") && asset.status === 200;
  const chosen = ranged || codings.length === 0 ? "identity" : negotiate(clientAcceptEncoding(request), codings);
  // The bytes sent: the file, or its variant.
  const file: FileRef =
    chosen === null || chosen === "identity" ? asset.file : (asset.file.encodings?.[chosen] ?? asset.file);
  const validators: Validators = { etag: file.hash, lastModified: asset.file.storedAt };
  const headers = new Headers({
    etag: `"${file.hash}"`,
    "last-modified": httpDate(asset.file.storedAt),
    ...asset.tags,
  });
  if (codings.length > 0) {
    headers.set("vary", "Accept-Encoding");
  }
  const encoded = chosen !== null && chosen !== "identity";
  if (encoded) {
    headers.set("content-encoding", chosen);
  }
  // As on Cloudflare, an answer to a request with credentials gets no
  // caching default (asset-worker/src/utils/headers.ts): a shared cache
  // must not keep it unless `_headers` says so.
  if (!request.headers.has("authorization")) {
    headers.set("cache-control", cacheControlFor(asset.fingerprinted));
  }
  const head = request.method === "HEAD";
  const finish = (body: BodyInit | null, status: number): Response => {
    applyHeaderOps(headers, asset.headerOps);
    return new Response(head ? null : body, { status, headers, ...(encoded ? { encodeBody: "manual" } : {}) });
  };
  const fail = (status: 406 | 412 | 416): Response => {
    const failure = visitorError(status, { head });
    failure.headers.forEach((value, name) => headers.set(name, value));
    return finish(failure.body, status);
  };

  if (chosen === null) {
    // Identity refused, and no stored coding accepted.
    headers.delete("etag");
    return fail(406);
  }

  // A not-found page is sent whole and unconditionally.
  if (asset.status === 404) {
    headers.set("content-type", file.contentType);
    headers.set("content-length", String(file.size));
    return finish(head ? null : await openBody(bodies, file), 404);
  }

  const precondition = evaluatePreconditions(request.headers, validators);
  if (precondition === "not-modified") {
    return finish(null, 304);
  }
  if (precondition === "failed") {
    return fail(412);
  }

  headers.set("accept-ranges", "bytes");
  const range = ifRangeAllows(request.headers.get("if-range"), validators)
    ? parseRange(request.headers.get("range"), file.size)
    : ({ kind: "whole" } as const);
  if (range.kind === "unsatisfiable") {
    headers.set("content-range", `bytes */${file.size}`);
    return fail(416);
  }
  if (range.kind === "ranges" && range.ranges.length === 1 && range.ranges[0]) {
    const { start, end } = range.ranges[0];
    headers.set("content-type", file.contentType);
    headers.set("content-range", `bytes ${start}-${end}/${file.size}`);
    headers.set("content-length", String(end - start + 1));
    headers.set("content-encoding", "identity");
    return finish(head ? null : await openBody(bodies, file, { start, end }), 206);
  }
  if (range.kind === "ranges") {
    const multipart = multipartRanges(file, range.ranges);
    headers.set("content-type", `multipart/byteranges; boundary=${multipart.boundary}`);
    headers.set("content-length", String(multipart.length));
    headers.set("content-encoding", "identity");
    return finish(head ? null : multipart.stream(bodies), 206);
  }
  headers.set("content-type", file.contentType);
  headers.set("content-length", String(file.size));
  return finish(head ? null : await openBody(bodies, file), 200);
}

/**
 * The Accept-Encoding the client sent. Cloudflare (and wrangler dev) hand
 * a Worker `br, gzip` whatever the client sent, and keep the client's in
 * `cf.clientAcceptEncoding` (empty when it sent none); the runtime then
 * decodes on the way out what the client cannot take.
 */
function clientAcceptEncoding(request: Request): string | null {
  const original = (request.cf as { clientAcceptEncoding?: string } | undefined)?.clientAcceptEncoding;
  if (original !== undefined) {
    return original === "" ? null : original;
  }
  return request.headers.get("accept-encoding");
}

/** The body of a file, or of one byte range of it. */
async function openBody(bodies: Bodies, file: FileRef, range?: ByteRange): Promise<ReadableStream | null> {
  if (file.size === 0) {
    return null;
  }
  return bodies.read(file, range?.start ?? 0, range?.end ?? file.size - 1);
}

/**
 * A multipart/byteranges body (RFC 9110 §14.6): its boundary, its exact
 * length, and a stream that reads each range from R2 in turn.
 */
function multipartRanges(
  file: FileRef,
  ranges: readonly ByteRange[],
): {
  boundary: string;
  length: number;
  stream: (bodies: Bodies) => ReadableStream;
} {
  const boundary = `r2-assets-${crypto.randomUUID()}`;
  const encoder = new TextEncoder();
  const partHeaders = ranges.map(({ start, end }) =>
    encoder.encode(
      `--${boundary}\r\ncontent-type: ${file.contentType}\r\ncontent-range: bytes ${start}-${end}/${file.size}\r\n\r\n`,
    ),
  );
  const lineBreak = encoder.encode("\r\n");
  const closing = encoder.encode(`--${boundary}--\r\n`);
  const length =
    ranges.reduce(
      (sum, { start, end }, i) => sum + (partHeaders[i]?.length ?? 0) + (end - start + 1) + lineBreak.length,
      0,
    ) + closing.length;
  const stream = (bodies: Bodies): ReadableStream => {
    const { readable, writable } = new FixedLengthStream(length);
    const write = async (): Promise<void> => {
      for (const [i, range] of ranges.entries()) {
        const writer = writable.getWriter();
        await writer.write(partHeaders[i] ?? new Uint8Array());
        writer.releaseLock();
        // Each range goes straight into this one stream, window by window.
        await bodies.pipe(file, range.start, range.end, writable);
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
