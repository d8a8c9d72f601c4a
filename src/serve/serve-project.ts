/**
 * Requests to a project's own host: the manifest decides (see dispatch.ts)
 * whether the version's server code or its assets answer, and the server
 * code runs pinned to the same version as the assets it is handed.
 */
import type { Env } from "../env.ts";
import { runServerCode } from "../loader/dynamic-worker.ts";
import { answer } from "./serve-asset.ts";

export async function serveProject(request: Request, env: Env, ctx: ExecutionContext, projectId: string, version?: string): Promise<Response> {
  const navigate = request.headers.get("sec-fetch-mode") === "navigate";
  const resolution = await env.MANIFEST.getByName(projectId).resolve({ url: request.url, version, routing: { navigate } });
  if (resolution.kind === "server") {
    return runServerCode(request, env, ctx, { projectId, version: resolution.version, server: resolution.server });
  }
  return answer(request, env, projectId, resolution);
}
