/**
 * Requests to a project's own hosts: the resolver decides whether the
 * version's server code or its assets answer, and the server code runs
 * pinned to the same version as the assets it is handed.
 */
import type { Env } from "../env.ts";
import { runServerCode } from "../loader/dynamic-worker.ts";
import type { Target } from "../manifest/contract.ts";
import { answer, tagsOf } from "./answer.ts";
import { resolve } from "./resolver.ts";

export async function serveProject(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  project: string,
  target: Target,
): Promise<Response> {
  const navigate = request.headers.get("sec-fetch-mode") === "navigate";
  const resolution = await resolve(
    env,
    { project, target, via: "site", url: new URL(request.url), navigate },
    (promise) => ctx.waitUntil(promise),
  );
  if (resolution.kind === "unavailable") {
    return answer(request, env, ctx, project, resolution);
  }
  const { answer: decided } = resolution;
  if (decided.kind === "assets") {
    return answer(request, env, ctx, project, { ...resolution, answer: decided });
  }
  return runServerCode(request, env, ctx, {
    projectId: project,
    version: resolution.version,
    server: decided.server,
    tags: tagsOf(resolution),
  });
}
