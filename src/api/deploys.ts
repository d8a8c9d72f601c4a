/**
 * The deploy flow: open a deploy, send the manifest in pages (each answered
 * with the blobs to upload), upload those (see blobs.ts), then finalize.
 */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import { contentTypeFor } from "../serve/content-type.ts";
import { buildConfig } from "../serve/config.ts";
import { checkServerSource, type ServerSource } from "../shared/server-code.ts";
import { MAX_JSON_BODY_BYTES, MAX_MESSAGE_LENGTH } from "../shared/limits.ts";
import { isVersionId } from "../shared/names.ts";
import { badField, isPlainObject, optionalBoolean, optionalString, readJson } from "./body.ts";
import { maxFileBytes, openProject, siteUrl, type ApiContext } from "./context.ts";
import { parseManifestPage } from "./manifest-page.ts";
import { bundleIfNeeded } from "./server-bundle.ts";

/** POST /api/projects/:project/deploys: `{"message"?, "config"?, "server"?}` */
export async function startDeploy(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const message = optionalString(body, "message", MAX_MESSAGE_LENGTH) ?? "";
  const configInput = body.config ?? {};
  if (!isPlainObject(configInput)) {
    throw badField("config", "must be an object");
  }
  const built = buildConfig(configInput);
  if ("problem" in built) {
    throw badField(`config.${built.problem.field}`, built.problem.message);
  }
  let server: ServerSource | null = null;
  if (body.server !== undefined && body.server !== null) {
    const checked = checkServerSource(body.server);
    if ("problem" in checked) {
      throw badField(checked.problem.field, checked.problem.message);
    }
    server = checked.source;
  }
  const started = unwrap(await scope.manifest.startDeploy(message, built.config, server));
  return Response.json({ project: scope.name, ...started, warnings: built.warnings }, { status: 201 });
}

/** POST /api/projects/:project/deploys/:version/files: one manifest page. */
export async function addFiles(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  const version = deployParam(request);
  const page = parseManifestPage(await readJson(request, MAX_JSON_BODY_BYTES), maxFileBytes(ctx.env));
  const entries = await Promise.all(page.map(async (entry) => ({ ...entry, contentType: await contentTypeFor(entry.path) })));
  return Response.json(unwrap(await scope.manifest.addFiles(version, entries)));
}

/** POST /api/projects/:project/deploys/:version/finalize: `{"activate"?: true}` */
export async function finalizeDeploy(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx);
  const version = deployParam(request);
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const activate = optionalBoolean(body, "activate") ?? true;
  await bundleIfNeeded(scope, version);
  const result = unwrap(await scope.manifest.finalize(version, activate));
  return Response.json({
    project: scope.name,
    ...result,
    url: siteUrl(request, ctx.env, scope.name),
    previewUrl: siteUrl(request, ctx.env, scope.name, result.version),
  });
}

function deployParam(request: IRequest): string {
  const version = request.params.version ?? "";
  if (!isVersionId(version)) {
    throw new AppError("version_not_found", `deploy ${version} does not exist`);
  }
  return version;
}
