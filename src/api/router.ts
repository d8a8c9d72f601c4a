/**
 * The control-plane route table. Built once per isolate; handlers live in
 * their own modules and throw AppError for anything expected to fail.
 */
import { Router, type IRequest } from "itty-router";
import { AppError, toErrorResponse } from "../errors.ts";
import { getAnalytics, getLogs } from "./analytics.ts";
import { uploadBatch } from "./batch.ts";
import { missingBlobs, uploadBlob } from "./blobs.ts";
import { callerOf, type ApiContext } from "./context.ts";
import { requireAdmin } from "./auth.ts";
import { addFiles, finalizeDeploy, startDeploy } from "./deploys.ts";
import { deleteAlias, getHistory, setAlias } from "./aliases.ts";
import { addDomain, listDomains, removeDomain } from "./domains.ts";
import {
  createProject,
  createToken,
  deleteProject,
  getProject,
  listProjects,
  listTokens,
  revokeToken,
  updateProject,
} from "./projects.ts";
import { abortUpload, completeUpload, getUpload, startUpload, uploadPart } from "./uploads.ts";
import {
  activateVersion,
  collectGarbage,
  deleteVersion,
  listVersions,
  pinVersion,
  rollbackVersion,
} from "./versions.ts";

const P = "/api/projects/:project";

const router = Router<IRequest, [ApiContext]>({
  catch: (error: unknown, _request: IRequest, ctx: ApiContext) =>
    toErrorResponse(error, ctx.env.ENVIRONMENT === "development"),
});

router
  .get("/api", apiIndex)
  .get("/api/", apiIndex)
  .get("/api/health", () => Response.json({ ok: true }))
  .get("/api/stats", serviceStats)
  .get("/api/projects", listProjects)
  .put(P, createProject)
  .delete(P, deleteProject)
  .get(P, getProject)
  .patch(P, updateProject)
  .post(`${P}/tokens`, createToken)
  .get(`${P}/tokens`, listTokens)
  .delete(`${P}/tokens/:id`, revokeToken)
  .post(`${P}/deploys`, startDeploy)
  .post(`${P}/deploys/:version/files`, addFiles)
  .post(`${P}/deploys/:version/finalize`, finalizeDeploy)
  .put(`${P}/blobs/:hash`, uploadBlob)
  .post(`${P}/uploads`, startUpload)
  .get(`${P}/uploads/:hash`, getUpload)
  .delete(`${P}/uploads/:hash`, abortUpload)
  .put(`${P}/uploads/:hash/parts/:part`, uploadPart)
  .post(`${P}/uploads/:hash/complete`, completeUpload)
  .get(`${P}/versions`, listVersions)
  .delete(`${P}/versions/:version`, deleteVersion)
  .put(`${P}/versions/:version/pin`, pinVersion)
  .delete(`${P}/versions/:version/pin`, pinVersion)
  .post(`${P}/activate`, activateVersion)
  .post(`${P}/rollback`, rollbackVersion)
  .post(`${P}/gc`, collectGarbage)
  .get(`${P}/history`, getHistory)
  .get(`${P}/analytics`, getAnalytics)
  .get(`${P}/logs`, getLogs)
  .put(`${P}/aliases/:alias`, setAlias)
  .delete(`${P}/aliases/:alias`, deleteAlias)
  .get(`${P}/domains`, listDomains)
  .put(`${P}/domains/:hostname`, addDomain)
  .delete(`${P}/domains/:hostname`, removeDomain)
  .post(`${P}/blobs/missing`, missingBlobs)
  .post(`${P}/blobs/batch`, uploadBatch)
  .all("*", (request: IRequest) => {
    throw unmatched(request);
  });

/** The API's version: it changes only with a change a client must know of. */
const API_VERSION = 1;

/** GET /api/: what this API is, and its routes (the README's API table describes each). */
function apiIndex(): Response {
  return Response.json({
    name: "r2-assets",
    version: API_VERSION,
    docs: "README.md, section API",
    auth: "Authorization: Bearer <token> (a project's token, or the admin token)",
    routes: apiRoutes(),
  });
}

/** GET /api/stats (admin): what this isolate's serving caches have done since it started. */
async function serviceStats(request: IRequest, { env, ctx, stats }: ApiContext): Promise<Response> {
  requireAdmin(await callerOf(request, env, ctx), "read the platform's statistics");
  return Response.json(stats);
}

/** 405 with Allow when the path exists under other methods, else 404. */
function unmatched(request: IRequest): AppError {
  const { pathname } = new URL(request.url);
  const allowed = router.routes
    .filter(([method, pattern]) => method !== "ALL" && pattern.test(pathname))
    .map(([method]) => method);
  if (allowed.length > 0) {
    return new AppError("method_not_allowed", `${request.method} is not allowed on ${pathname}`, {
      allow: [...new Set(allowed)],
    });
  }
  return new AppError("not_found", `no API route ${request.method} ${pathname}`);
}

/** Every route, as `METHOD /path` (for the test that checks which of them wait out the lease). */
export function apiRoutes(): string[] {
  return router.routes.filter(([method]) => method !== "ALL").map(([method, , , path]) => `${method} ${path ?? ""}`);
}

export function handleApi(request: Request, ctx: ApiContext): Promise<Response> {
  return router.fetch(request, ctx);
}
