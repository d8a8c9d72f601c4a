/**
 * What every upload route checks the same way: the Content-Length it
 * declares (digits only: `1e3`, `0x10` and `+5` are not lengths), the
 * content hash in its path, and the claim on blobs the project's Durable
 * Object gives an upload, returned whatever happens unless the upload was
 * recorded.
 */
import type { IRequest } from "itty-router";
import { AppError } from "../errors.ts";
import { isContentHash } from "../shared/names.ts";

/** The request's Content-Length, or null when it sends none. */
export function declaredLength(request: Request): number | null {
  const header = request.headers.get("content-length");
  if (header === null) {
    return null;
  }
  const length = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(length)) {
    throw new AppError("bad_request", "Content-Length must be a whole number", { field: "content-length" });
  }
  return length;
}

/** The request's Content-Length, which it must send: `what` says what it measures. */
export function requiredLength(request: Request, what: string): number {
  const length = declaredLength(request);
  if (length === null) {
    throw new AppError("length_required", `Content-Length is required: send ${what}`);
  }
  return length;
}

/** The content hash a route's path names (`:hash`). */
export function hashParam(request: IRequest): string {
  const hash = request.params.hash ?? "";
  if (!isContentHash(hash)) {
    throw new AppError("bad_request", "hash: must be 64 lowercase hex digits", { field: "hash" });
  }
  return hash;
}

/**
 * Runs an upload that holds a claim: `release` gives the claim back if the
 * upload throws before it is recorded (when `work` returns, it was).
 */
export async function withClaim<T>(release: () => Promise<unknown>, work: () => Promise<T>): Promise<T> {
  let recorded = false;
  try {
    const result = await work();
    recorded = true;
    return result;
  } finally {
    if (!recorded) {
      await release();
    }
  }
}
