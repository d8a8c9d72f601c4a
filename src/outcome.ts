/**
 * Expected failures as values: what pure code and Durable Objects return
 * when an operation cannot be done, because error subclasses and their
 * properties do not survive RPC. src/errors.ts maps them to HTTP. Pure.
 */

/** Every expected failure (errors.ts gives each its HTTP status). */
export type FailureCode =
  | "bad_request"
  | "invalid_body"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "project_not_found"
  | "version_not_found"
  | "method_not_allowed"
  | "conflict"
  | "project_exists"
  | "version_unavailable"
  | "version_immutable"
  | "blobs_missing"
  | "length_required"
  | "payload_too_large"
  | "quota_exceeded"
  | "internal";

/** An expected failure, safe to send across RPC. */
export interface Failure {
  code: FailureCode;
  message: string;
  /** Extra fields for the error body, e.g. `missing` hashes. */
  details?: Record<string, unknown>;
}

/** The result of an operation that can fail in an expected way. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

export function succeed<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function fail(
  code: FailureCode,
  message: string,
  details?: Record<string, unknown>,
): { ok: false; failure: Failure } {
  return { ok: false, failure: details ? { code, message, details } : { code, message } };
}
