/**
 * The one place where failures become HTTP responses: JSON for the API,
 * a short plain body for visitors of a site.
 *
 * Expected failures are values (`Outcome`, src/outcome.ts) wherever they
 * cross an RPC boundary. At the API's edge they are thrown as `AppError`
 * and mapped to a status and a JSON body `{"error": {"code", "message",
 * ...details}}` here.
 */
import type { Failure, FailureCode, Outcome } from "./outcome.ts";

/** The HTTP status of every expected failure. */
const STATUS_BY_CODE: Record<FailureCode, number> = {
  bad_request: 400,
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  project_not_found: 404,
  version_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  project_exists: 409,
  version_unavailable: 409,
  version_immutable: 409,
  blobs_missing: 409,
  length_required: 411,
  payload_too_large: 413,
  quota_exceeded: 429,
  internal: 500,
};

/** A failure thrown at the HTTP edge. */
export class AppError extends Error {
  readonly failure: Failure;

  constructor(code: FailureCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.failure = details ? { code, message, details } : { code, message };
  }

  static from(failure: Failure): AppError {
    return new AppError(failure.code, failure.message, failure.details);
  }

  get status(): number {
    return STATUS_BY_CODE[this.failure.code];
  }
}

/** Returns the value of an outcome, or throws its failure as an AppError. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) {
    throw AppError.from(outcome.failure);
  }
  return outcome.value;
}

/**
 * Maps anything thrown while handling a request to a JSON error response.
 * Unexpected errors become a generic 500; their details are logged, and sent
 * to the client only when `exposeInternals` is set (local development).
 */
export function toErrorResponse(error: unknown, exposeInternals = false): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.failure.code === "unauthorized") {
      headers["www-authenticate"] = 'Bearer realm="r2-assets"';
    }
    const allow = error.failure.details?.allow;
    if (Array.isArray(allow)) {
      headers.allow = allow.join(", ");
    }
    return Response.json(
      { error: { code: error.failure.code, message: error.failure.message, ...error.failure.details } },
      { status: error.status, headers },
    );
  }
  console.error("unhandled error", error);
  const message =
    exposeInternals && error instanceof Error ? `internal error: ${error.stack ?? error.message}` : "internal error";
  return Response.json({ error: { code: "internal", message } }, { status: 500 });
}

/** The words a visitor is told with each status a site can fail with. */
const VISITOR_TEXT = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  412: "Precondition Failed",
  416: "Range Not Satisfiable",
  500: "Internal Server Error",
  503: "Service Unavailable",
} as const;

export type VisitorStatus = keyof typeof VISITOR_TEXT;

/**
 * A failure shown to a visitor of a site: a short plain body that names
 * nothing internal (`detail` adds a few words, e.g. "unknown host").
 * HEAD gets the same status and headers (Content-Length included) and no
 * body.
 */
export function visitorError(
  status: VisitorStatus,
  { head = false, headers = {}, detail }: { head?: boolean; headers?: Record<string, string>; detail?: string } = {},
): Response {
  const text = detail ? `${VISITOR_TEXT[status]}: ${detail}\n` : `${VISITOR_TEXT[status]}\n`;
  const bytes = new TextEncoder().encode(text);
  return new Response(head ? null : bytes, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "content-length": String(bytes.length), ...headers },
  });
}

/** Anything thrown while serving a site, as a visitor sees it: a plain 500; the details are logged. */
export function toVisitorFailure(error: unknown, request: Request): Response {
  console.error(`serving ${request.url} failed:`, error);
  return visitorError(500, { head: request.method === "HEAD" });
}
