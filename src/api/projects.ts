/** Project endpoints: create, inspect, settings, deploy tokens. */
import type { IRequest } from "itty-router";
import { unwrap } from "../errors.ts";
import { DEFAULT_TOKEN_SCOPE, MAX_JSON_BODY_BYTES, TOKEN_SCOPES, type TokenScope } from "../shared/limits.ts";
import { newDeployToken } from "./auth.ts";
import { badField, isPlainObject, optionalInteger, optionalString, readJson } from "./body.ts";
import { openProject, settle, siteUrl, type ApiContext } from "./context.ts";

/** PUT /api/projects/:project: creates the project (admin only). 201 if new, 200 if it existed. */
export async function createProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "create projects");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const retention = optionalInteger(body, "retention");
  const { created, project } = unwrap(await scope.manifest.createProject(scope.name, retention));
  return Response.json({ ...project, url: siteUrl(request, ctx.env, scope.name) }, { status: created ? 201 : 200 });
}

/** GET /api/projects/:project */
export async function getProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "read the project");
  const project = unwrap(await scope.manifest.getProject());
  return Response.json({ ...project, url: siteUrl(request, ctx.env, scope.name) });
}

/**
 * PATCH /api/projects/:project: `{"retention"?: n, "quotas"?: {"openDeploys"?, "openUploads"?, "uploadBytes"?}}`.
 * Retention needs the manage scope, quotas the admin token.
 */
export async function updateProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const retention = optionalInteger(body, "retention");
  const quotas = body.quotas;
  if (quotas !== undefined && !isPlainObject(quotas)) {
    throw badField("quotas", "must be an object");
  }
  const scope = await openProject(request, ctx, quotas === undefined ? "manage" : "admin", "change settings");
  if (quotas !== undefined) {
    unwrap(await scope.manifest.setQuotas(quotas));
  }
  let pruned: string[] = [];
  if (retention !== undefined) {
    pruned = unwrap(await scope.manifest.setRetention(retention)).pruned;
    if (pruned.length > 0) {
      await settle(ctx.env);
    }
  }
  const project = unwrap(await scope.manifest.getProject());
  return Response.json({ ...project, pruned, url: siteUrl(request, ctx.env, scope.name) });
}

/** POST /api/projects/:project/tokens: `{"scope"?}`, a new deploy token (admin only), shown once. */
export async function createToken(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "create deploy tokens");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const tokenScope = optionalString(body, "scope", 20) ?? DEFAULT_TOKEN_SCOPE;
  if (!(TOKEN_SCOPES as readonly string[]).includes(tokenScope)) {
    throw badField("scope", `must be one of ${TOKEN_SCOPES.join(", ")}`);
  }
  const { token, hash, id } = await newDeployToken(scope.name);
  unwrap(await scope.manifest.addToken(hash, id, tokenScope as TokenScope));
  return Response.json({ project: scope.name, id, token, scope: tokenScope }, { status: 201 });
}

/** GET /api/projects/:project/tokens (admin only) */
export async function listTokens(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "list deploy tokens");
  return Response.json({ tokens: unwrap(await scope.manifest.listTokens()) });
}

/** DELETE /api/projects/:project/tokens/:id (admin only) */
export async function revokeToken(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "revoke deploy tokens");
  return Response.json(unwrap(await scope.manifest.revokeToken(request.params.id ?? "")));
}
