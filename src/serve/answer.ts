/**
 * Answering a request the resolver gave to the assets: a file, a redirect
 * or a 404, each naming the version it came from and whether the decision
 * came from the isolate's cache (server code's requests never get here).
 * Only GET and HEAD read files; other methods get 405 (`_redirects` rules
 * apply to every method).
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { Env } from "../env.ts";
import { visitorError } from "../errors.ts";
import { confineCookies } from "../rules/cookies.ts";
import { isFingerprinted } from "../rules/fingerprint.ts";
import { applyHeaderOps, type HeaderOp } from "../rules/headers.ts";
import { CACHE_HEADER, VERSION_HEADER } from "../rules/http.ts";
import { addQuery } from "../rules/redirects.ts";
import { Bodies, type BodyNote } from "./bodies.ts";
import type { Answer, Resolution } from "./resolver.ts";
import { respondWithAsset } from "./respond.ts";

const READ_METHODS = new Set(["GET", "HEAD"]);

/** A resolution the assets answer. */
export type AssetsResolution = Resolution<Extract<Answer, { kind: "assets" }>>;
const ALLOW = { allow: "GET, HEAD" };

/** The headers that say which version answered and whether its routing answer was cached. */
export function tagsOf(resolution: Extract<Resolution, { kind: "resolved" }>): Record<string, string> {
  return { [VERSION_HEADER]: resolution.version, [CACHE_HEADER]: resolution.cache };
}

/** Answers from a resolution that does not involve server code; cookies set by `_headers` stay with the request's host. */
export async function answer(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  project: string,
  resolution: AssetsResolution,
  note?: BodyNote,
): Promise<Response> {
  const response = await respond(request, env, ctx, project, resolution, note);
  confineCookies(response.headers, new URL(request.url).hostname);
  return response;
}

async function respond(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  project: string,
  resolution: AssetsResolution,
  note: BodyNote | undefined,
): Promise<Response> {
  const head = request.method === "HEAD";
  if (resolution.kind === "unavailable") {
    return visitorError(404, { head, detail: resolution.reason === "no-project" ? "no such project" : undefined });
  }
  const { intent: decided, headers } = resolution.answer;
  const reading = READ_METHODS.has(request.method);
  const tags = tagsOf(resolution);
  switch (decided.kind) {
    case "redirect": {
      if (!decided.rule && !reading) {
        return withHeaders(visitorError(405, { head, headers: { ...ALLOW, ...tags } }), headers);
      }
      const location = addQuery(decided.location, new URL(request.url).search);
      return withHeaders(
        new Response(null, { status: decided.status, headers: { location, "content-length": "0", ...tags } }),
        headers,
      );
    }
    case "asset": {
      if (!reading) {
        return withHeaders(visitorError(405, { head, headers: { ...ALLOW, ...tags } }), headers);
      }
      const bodies = new Bodies(new BlobStore(env.BLOBS, project), project, (promise) => ctx.waitUntil(promise), note);
      return respondWithAsset(request, bodies, {
        file: decided.file,
        status: decided.status,
        fingerprinted: isFingerprinted(decided.file.path, resolution.routing.compiled.hashed),
        tags,
        headerOps: headers,
      });
    }
    case "none":
      return withHeaders(visitorError(404, { head, headers: tags }), headers);
  }
}

function withHeaders(response: Response, ops: readonly HeaderOp[]): Response {
  applyHeaderOps(response.headers, ops);
  return response;
}
