/**
 * The deploy flow: open a deploy, send the manifest in pages (each answered
 * with the blobs to upload), upload those (see blobs.ts and uploads.ts),
 * then finalize.
 */
import type { IRequest } from "itty-router";
import { checkServerCode } from "../loader/dynamic-worker.ts";
import type { ServerRef } from "../manifest/contract.ts";
import { AppError, unwrap } from "../errors.ts";
import { buildConfig } from "../rules/config.ts";
import { MAX_JSON_BODY_BYTES, MAX_MESSAGE_LENGTH } from "../shared/limits.ts";
import { isAliasName, isVersionId } from "../shared/names.ts";
import { checkServerDeploy } from "../shared/server-code.ts";
import { badField, isPlainObject, optionalBoolean, optionalString, readJson, unwrapField } from "./body.ts";
import { requireScope } from "./auth.ts";
import { maxFileBytes, openProject, siteUrl, type ApiContext } from "./context.ts";
import { parseManifestPage } from "./manifest-page.ts";

/** POST /api/projects/:project/deploys: `{"message"?, "config"?, "server"?}` */
export async function startDeploy(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "start deploys");
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const message = optionalString(body, "message", MAX_MESSAGE_LENGTH) ?? "";
  const configInput = body.config ?? {};
  if (!isPlainObject(configInput)) {
    throw badField("config", "must be an object");
  }
  const { config, warnings } = unwrapField(buildConfig(configInput), "config.");
  let server: ServerRef | null = null;
  if (body.server !== undefined && body.server !== null) {
    const checked = unwrapField(checkServerDeploy(body.server));
    server = { bundleHash: checked.bundle.hash, ...checked.settings };
  }
  const started = unwrap(await scope.manifest.startDeploy(scope.authority, message, config, server));
  return Response.json({ project: scope.name, ...started, warnings }, { status: 201 });
}

/** POST /api/projects/:project/deploys/:version/files: one manifest page. */
export async function addFiles(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "list a deploy's files");
  const version = deployParam(request);
  const page = parseManifestPage(await readJson(request, MAX_JSON_BODY_BYTES), maxFileBytes(ctx.env));
  return Response.json(unwrap(await scope.manifest.addFiles(scope.authority, version, page)));
}

/**
 * POST /api/projects/:project/deploys/:version/finalize: `{"activate"?, "alias"?, "force"?}`.
 * It goes live unless `activate` is false; with an `alias`, the alias is
 * pointed at it instead, and it goes live only if `activate` is true. A
 * deploy that repeats the version it would replace (see deploys.ts) is
 * answered with that version and `"unchanged": true`, unless `force`.
 */
export async function finalizeDeploy(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "deploy", "finalize deploys");
  const version = deployParam(request);
  const body = await readJson(request, MAX_JSON_BODY_BYTES);
  const alias = optionalString(body, "alias", 63);
  if (alias !== undefined && !isAliasName(alias)) {
    throw badField("alias", `"${alias}" cannot name an alias (a DNS label that is not a version id, nor live)`);
  }
  const activate = optionalBoolean(body, "activate") ?? alias === undefined;
  if (activate || alias !== undefined) {
    requireScope(
      scope.principal,
      "activate",
      "make a deploy live or move an alias (finalize it with activate: false to stage it)",
    );
  }
  // Server code must start before its version can be finalized, as a
  // Worker must when it is uploaded to Cloudflare.
  const server = unwrap(await scope.manifest.stagedServer(version));
  if (server) {
    unwrapField(await checkServerCode(ctx.env, ctx.ctx, scope.name, version, server));
  }
  const result = unwrap(
    await scope.manifest.finalize(scope.authority, version, {
      activate,
      force: optionalBoolean(body, "force") === true,
      ...(alias === undefined ? {} : { alias }),
    }),
  );
  return Response.json({
    project: scope.name,
    ...result,
    url: siteUrl(request, ctx.env, scope.name),
    previewUrl: siteUrl(request, ctx.env, scope.name, result.version),
    ...(result.alias === null ? {} : { aliasUrl: siteUrl(request, ctx.env, scope.name, result.alias) }),
  });
}

function deployParam(request: IRequest): string {
  const version = request.params.version ?? "";
  if (!isVersionId(version)) {
    throw new AppError("version_not_found", `deploy ${version} does not exist`);
  }
  return version;
}
