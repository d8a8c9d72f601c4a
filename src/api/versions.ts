/** Version endpoints: list, activate, roll back, pin, delete, collect garbage. */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import { MAX_JSON_BODY_BYTES } from "../shared/limits.ts";
import { isVersionId } from "../shared/names.ts";
import { badField, optionalString, readJson } from "./body.ts";
import { openProject, siteUrl, type ApiContext } from "./context.ts";

/** GET /api/projects/:project/versions: finalized versions, newest first. */
export async function listVersions(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "list versions");
  return Response.json({ project: scope.name, versions: unwrap(await scope.manifest.listVersions()) });
}

/** POST /api/projects/:project/activate: `{"version"}` */
export async function activateVersion(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "activate", "activate versions");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const version = optionalString(body, "version", 64);
  if (version === undefined) {
    throw badField("version", "is required");
  }
  const result = unwrap(await scope.manifest.activate(scope.authority, version));
  return Response.json({ project: scope.name, ...result, url: siteUrl(request, ctx.env, scope.name) });
}

/** POST /api/projects/:project/rollback: `{"to"?}`; without `to`, back to the previous live version. */
export async function rollbackVersion(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "activate", "roll back");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const to = optionalString(body, "to", 64) ?? null;
  const result = unwrap(await scope.manifest.rollback(scope.authority, to));
  return Response.json({ project: scope.name, ...result, url: siteUrl(request, ctx.env, scope.name) });
}

/** DELETE /api/projects/:project/versions/:version */
export async function deleteVersion(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "manage", "delete versions");
  const result = unwrap(await scope.manifest.deleteVersion(scope.authority, versionParam(request)));
  return Response.json({ project: scope.name, deleted: result.version });
}

/** PUT (pin) or DELETE (unpin) /api/projects/:project/versions/:version/pin */
export async function pinVersion(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "manage", "pin versions");
  const pinned = request.method === "PUT";
  return Response.json({
    project: scope.name,
    ...unwrap(await scope.manifest.setPinned(scope.authority, versionParam(request), pinned)),
  });
}

/** POST /api/projects/:project/gc: deletes blobs no retained version or open deploy uses. */
export async function collectGarbage(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "manage", "collect garbage");
  return Response.json({ project: scope.name, ...unwrap(await scope.manifest.collectGarbage(scope.authority)) });
}

function versionParam(request: IRequest): string {
  const version = request.params.version ?? "";
  if (!isVersionId(version)) {
    throw new AppError("version_not_found", `version ${version} does not exist`);
  }
  return version;
}
