/** Project endpoints: create, list, inspect, settings, delete, deploy tokens. */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import type { ProjectInfo } from "../manifest/contract.ts";
import { checkRetention } from "../shared/settings.ts";
import {
  DEFAULT_PROJECTS_PAGE,
  DEFAULT_QUOTAS,
  DEFAULT_RETENTION,
  DEFAULT_TOKEN_SCOPE,
  MAX_JSON_BODY_BYTES,
  MAX_PROJECTS_PAGE,
  TOKEN_SCOPES,
  type TokenScope,
} from "../shared/limits.ts";
import { registryStub } from "../registry/view.ts";
import { newDeployToken, requireAdmin } from "./auth.ts";
import {
  badField,
  isPlainObject,
  optionalBoolean,
  optionalInteger,
  optionalString,
  queryInteger,
  readJson,
} from "./body.ts";
import { isProjectName, isReservedHyphenLabel } from "../shared/names.ts";
import { callerOf, openManifest, openProject, siteUrl, type ApiContext } from "./context.ts";

/** purge() calls one DELETE makes before it answers with its progress. */
const PURGE_CALLS = 5;

/**
 * PUT /api/projects/:project: creates the project (admin only), 201; 200 if
 * it existed. Creating is one row in the registry, so that a project is
 * never served or deployed to without the registry knowing it; the
 * project's own Durable Object sets itself up from that row when the API
 * first opens it (ProjectManifest#open). Creating one again also registers
 * a project made before the registry existed.
 */
export async function createProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "create projects", { exists: false });
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const retention = optionalInteger(body, "retention");
  if (isReservedHyphenLabel(scope.name) && optionalBoolean(body, "allowPunycode") !== true) {
    throw badField(
      "project",
      `${scope.name} has "--" in its third and fourth characters, as punycode names (xn--) do, which browsers show as lookalikes of other names; send "allowPunycode": true to create it anyway`,
    );
  }
  if (retention !== undefined) {
    unwrap(checkRetention(retention));
  }
  const registered = unwrap(await registryStub(ctx.env).register(scope.name, retention ?? null));
  const url = siteUrl(request, ctx.env, scope.name);
  if (registered.created) {
    // Nothing else is set yet: its Durable Object is set up on first use.
    const project: ProjectInfo = {
      name: scope.name,
      createdAt: new Date(registered.createdAt).toISOString(),
      retention: retention ?? DEFAULT_RETENTION,
      activeVersion: null,
      aliases: {},
      quotas: { ...DEFAULT_QUOTAS },
      storedBytes: 0,
    };
    return Response.json({ ...project, url }, { status: 201 });
  }
  await openManifest(scope.manifest, scope.name);
  const project = unwrap(await scope.manifest.getProject());
  // Brings the registry's summary of a project made before summaries existed up to date.
  await scope.manifest.publishSummary();
  return Response.json({ ...project, url }, { status: 200 });
}

/**
 * GET /api/projects?limit=&cursor=&prefix= (admin): a page of projects in
 * name order, each with its live version, aliases, domains, stored bytes
 * and last deploy, answered from the registry alone (each project's
 * Durable Object keeps its summary there). `cursor` is null after the last
 * page.
 */
export async function listProjects(request: IRequest, ctx: ApiContext): Promise<Response> {
  requireAdmin(await callerOf(request, ctx.env, ctx.ctx), "list projects");
  const query = new URL(request.url).searchParams;
  const limit = queryInteger(query, "limit", 1, MAX_PROJECTS_PAGE, DEFAULT_PROJECTS_PAGE);
  const cursor = query.get("cursor");
  if (cursor !== null && !isProjectName(cursor)) {
    throw badField("cursor", "must be the cursor a previous page returned");
  }
  const prefix = query.get("prefix") ?? "";
  if (!/^[a-z0-9-]{0,63}$/.test(prefix)) {
    throw badField("prefix", "must be the start of a project name (a-z, 0-9 and -)");
  }
  const page = await registryStub(ctx.env).listProjects({ limit, cursor, prefix });
  return Response.json({
    projects: page.projects.map((project) => ({ ...project, url: siteUrl(request, ctx.env, project.name) })),
    cursor: page.cursor,
  });
}

/**
 * DELETE /api/projects/:project (admin): removes the project completely:
 * its versions, tokens, upload sessions and every object in R2 under its
 * prefix, a batch at a time. 202 with the progress while it is under way
 * (call again to carry on; it also carries on by itself), 200 once the
 * project is gone and its name free.
 */
export async function deleteProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "delete projects", { exists: false });
  const registry = registryStub(ctx.env);
  const state = await registry.state(scope.name);
  if (state === null) {
    throw new AppError("project_not_found", `project ${scope.name} does not exist`);
  }
  if (state === "active") {
    unwrap(await registry.beginDelete(scope.name));
  }
  let deletedObjects = 0;
  for (let call = 0; call < PURGE_CALLS; call += 1) {
    const progress = unwrap(await scope.manifest.purge());
    deletedObjects += progress.deletedObjects;
    if (progress.state === "purged") {
      // The Durable Object has freed the name; if its last step was taken
      // by its alarm while the registry was out of reach, this does.
      await registry.finishDelete(scope.name);
      return Response.json({ project: scope.name, deleted: true, deletedObjects });
    }
    if (progress.state === "waiting") {
      return Response.json(
        { project: scope.name, deleted: false, state: "waiting", uploads: progress.uploads, deletedObjects },
        { status: 202 },
      );
    }
  }
  return Response.json({ project: scope.name, deleted: false, state: "deleting", deletedObjects }, { status: 202 });
}

/** GET /api/projects/:project */
export async function getProject(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "read the project");
  const project = unwrap(await scope.manifest.getProject());
  // What the caller may do here, so that a client offers only that.
  const access = scope.principal.kind === "admin" ? "admin" : scope.principal.scope;
  return Response.json({ ...project, access, url: siteUrl(request, ctx.env, scope.name) });
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
    unwrap(await scope.manifest.setQuotas(scope.authority, quotas));
  }
  let pruned: string[] = [];
  if (retention !== undefined) {
    pruned = unwrap(await scope.manifest.setRetention(scope.authority, retention)).pruned;
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
  unwrap(await scope.manifest.addToken(scope.authority, hash, id, tokenScope as TokenScope));
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
  return Response.json(unwrap(await scope.manifest.revokeToken(scope.authority, request.params.id ?? "")));
}
