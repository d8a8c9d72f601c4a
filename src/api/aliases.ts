/**
 * Aliases and the activation history:
 *   PUT    /api/projects/:p/aliases/:alias   {"version"}   point an alias at a version
 *   DELETE /api/projects/:p/aliases/:alias                remove it
 *   GET    /api/projects/:p/history?limit=n               every move of every pointer, newest first
 */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import { MAX_JSON_BODY_BYTES } from "../shared/limits.ts";
import { isAliasName } from "../shared/names.ts";
import { badField, optionalString, readJson } from "./body.ts";
import { openProject, siteUrl, type ApiContext } from "./context.ts";

/** Moves of pointers one history request returns at most. */
const MAX_HISTORY = 1000;

export async function setAlias(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "activate", "move aliases");
  const alias = aliasParam(request);
  const version = optionalString(await readJson(request, MAX_JSON_BODY_BYTES), "version", 64);
  if (version === undefined) {
    throw badField("version", "is required");
  }
  const result = unwrap(await scope.manifest.setAlias(scope.authority, alias, version));
  return Response.json({ project: scope.name, ...result, url: aliasUrl(request, ctx, scope.name, alias) });
}

export async function deleteAlias(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "activate", "remove aliases");
  const result = unwrap(await scope.manifest.deleteAlias(scope.authority, aliasParam(request)));
  return Response.json({ project: scope.name, ...result });
}

export async function getHistory(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "read the history");
  const limitText = new URL(request.url).searchParams.get("limit") ?? "100";
  const limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_HISTORY)) {
    throw badField("limit", `must be a whole number from 1 to ${MAX_HISTORY}`);
  }
  return Response.json({ project: scope.name, history: unwrap(await scope.manifest.history(limit)) });
}

/** Where an alias is served: `<alias>.<project>.<root>`. */
export function aliasUrl(request: Request, ctx: ApiContext, project: string, alias: string): string {
  return siteUrl(request, ctx.env, project, alias);
}

function aliasParam(request: IRequest): string {
  const alias = request.params.alias ?? "";
  if (!isAliasName(alias)) {
    throw new AppError(
      "bad_request",
      `alias: "${alias}" cannot name an alias (a DNS label that is not a version id, nor live)`,
      {
        field: "alias",
      },
    );
  }
  return alias;
}
