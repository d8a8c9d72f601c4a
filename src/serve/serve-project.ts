/**
 * Requests to a project's own hosts: the resolver decides whether the
 * version's server code or its assets answer, and the server code runs
 * pinned to the same version as the assets it is handed. Each answered
 * request is counted for the project's analytics (in this isolate; see
 * analytics/recorder.ts).
 */
import { recordResponse, recording } from "../analytics/recorder.ts";
import type { Env } from "../env.ts";
import { runServerCode } from "../loader/dynamic-worker.ts";
import type { Target } from "../manifest/contract.ts";
import { answer, tagsOf } from "./answer.ts";
import type { BodyNote } from "./bodies.ts";
import { resolve } from "./resolver.ts";

export async function serveProject(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  project: string,
  target: Target,
): Promise<Response> {
  const url = new URL(request.url);
  const navigate = request.headers.get("sec-fetch-mode") === "navigate";
  const waitUntil = (promise: Promise<unknown>): void => ctx.waitUntil(promise);
  const resolution = await resolve(env, { project, target, via: "site", url, navigate }, waitUntil);
  if (resolution.kind === "unavailable") {
    // Nothing is counted for a project that does not exist (or serves nothing).
    return answer(request, env, ctx, project, resolution);
  }
  const { answer: decided } = resolution;
  const note: BodyNote = { r2Reads: 0 };
  const response =
    decided.kind === "assets"
      ? await answer(request, env, ctx, project, { ...resolution, answer: decided }, note)
      : await runServerCode(request, env, ctx, {
          projectId: project,
          version: resolution.version,
          server: decided.server,
          tags: tagsOf(resolution),
        });
  if (!recording(env)) {
    return response;
  }
  const server = decided.kind !== "assets";
  const hit = {
    at: Date.now(),
    version: resolution.version,
    server,
    cacheHit: !server && resolution.cache === "hit" && note.r2Reads === 0,
    path: url.pathname,
  };
  return recordResponse(env, project, hit, response, request.method === "HEAD", waitUntil);
}
