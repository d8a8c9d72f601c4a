/** Project endpoints: create, inspect, settings, deploy tokens. */
import type { IRequest } from "itty-router";
import { unwrap } from "../errors.ts";
import { MAX_JSON_BODY_BYTES } from "../shared/limits.ts";
import { newDeployToken, requireAdmin } from "./auth.ts";
import { optionalInteger, readJson } from "./body.ts";
import { openProject, settle, siteUrl, type ApiContext } from "./context.ts";

/** PUT /api/projects/:project: creates the project (admin only). 201 if new, 200 if it existed. */
export async function createProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  requireAdmin(scope.principal, "create projects");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const retention = optionalInteger(body, "retention");
  const { created, project } = unwrap(await scope.manifest.createProject(scope.name, retention));
  return Response.json({ ...project, url: siteUrl(request, ctx.env, scope.name) }, { status: created ? 201 : 200 });
}

/** GET /api/projects/:project */
export async function getProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  const project = unwrap(await scope.manifest.getProject());
  return Response.json({ ...project, url: siteUrl(request, ctx.env, scope.name) });
}

/** PATCH /api/projects/:project: `{"retention": n}` */
export async function updateProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const retention = optionalInteger(body, "retention");
  if (retention === undefined) {
    const project = unwrap(await scope.manifest.getProject());
    return Response.json({ ...project, pruned: [], url: siteUrl(request, ctx.env, scope.name) });
  }
  const { project, pruned } = unwrap(await scope.manifest.setRetention(retention));
  if (pruned.length > 0) {
    await settle(ctx.env);
  }
  return Response.json({ ...project, pruned, url: siteUrl(request, ctx.env, scope.name) });
}

/** POST /api/projects/:project/tokens: a new deploy token (admin only), shown once. */
export async function createToken(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  requireAdmin(scope.principal, "create deploy tokens");
  const { token, hash, id } = await newDeployToken(scope.name);
  unwrap(await scope.manifest.addToken(hash, id));
  return Response.json({ project: scope.name, id, token }, { status: 201 });
}

/** GET /api/projects/:project/tokens (admin only) */
export async function listTokens(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  requireAdmin(scope.principal, "list deploy tokens");
  return Response.json({ tokens: unwrap(await scope.manifest.listTokens()) });
}

/** DELETE /api/projects/:project/tokens/:id (admin only) */
export async function revokeToken(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  requireAdmin(scope.principal, "revoke deploy tokens");
  return Response.json(unwrap(await scope.manifest.revokeToken(request.params.id ?? "")));
}
