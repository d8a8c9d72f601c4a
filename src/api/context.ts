/**
 * What every control-plane handler gets: the bindings, and helpers to open
 * a project's manifest and blob store and to authenticate the caller.
 */
import type { IRequest } from "itty-router";
import { BlobStore } from "../blob/r2-store.ts";
import type { Env, ManifestStub } from "../env.ts";
import type { Authority } from "../manifest/contract.ts";
import type { ServingStats } from "../serve/stats.ts";
import { AppError } from "../errors.ts";
import { DEFAULT_MAX_FILE_BYTES, type TokenScope } from "../shared/limits.ts";
import { isProjectName } from "../shared/names.ts";
import { projectMayExist } from "../registry/view.ts";
import { authenticate, authorize, requireAdmin, requireScope, type Principal } from "./auth.ts";

export interface ApiContext {
  env: Env;
  ctx: ExecutionContext;
  /** What this isolate's serving caches have done. */
  stats: Readonly<ServingStats>;
}

export function manifestOf(env: Env, project: string): ManifestStub {
  return env.MANIFEST.getByName(project);
}

/** The project a request is about, once the caller is allowed to act on it. */
export interface ProjectScope {
  name: string;
  principal: Principal;
  /** What the Durable Object checks again where each change commits. */
  authority: Authority;
  manifest: ManifestStub;
  blobs: BlobStore;
}

/**
 * What a route needs of its caller, besides acting on this project: any of
 * its tokens (`read`), a token scope, or the admin token.
 */
export type Need = "read" | TokenScope | "admin";

/**
 * Checks the :project parameter, that the caller's token may `action` (as
 * `need` says), and that the project exists (unless `exists` is false: it
 * is being created). This isolate's host filter answers that (or the
 * registry, for a project newer than the filter), so that no token,
 * however shaped, starts a Durable Object for a project that does not
 * exist.
 */
export async function openProject(
  request: IRequest,
  { env, ctx }: ApiContext,
  need: Need,
  action: string,
  { exists = true } = {},
): Promise<ProjectScope> {
  const name = request.params.project ?? "";
  if (!isProjectName(name)) {
    throw new AppError("bad_request", `project: "${name}" is not a valid project name (a DNS label: a-z, 0-9 and -)`, {
      field: "project",
    });
  }
  const principal = await callerOf(request, env, ctx);
  authorize(principal, name);
  if (need === "admin") {
    requireAdmin(principal, action);
  } else if (need !== "read") {
    requireScope(principal, need, action);
  }
  if (exists && !(await projectMayExist(env, name, (promise) => ctx.waitUntil(promise)))) {
    throw new AppError("project_not_found", `project does not exist: ${name}`);
  }
  const manifest = manifestOf(env, name);
  let authority: Authority = { incarnation: "", token: null };
  if (principal.kind === "project") {
    authority = { incarnation: principal.incarnation, token: principal.hash };
  } else if (exists) {
    authority = { incarnation: await openManifest(manifest, name), token: null };
  }
  return { name, principal, authority, manifest, blobs: new BlobStore(env.BLOBS, name) };
}

/**
 * Opens a project's Durable Object for the admin (the first call sets a
 * new project's up from the registry): its incarnation, or 404.
 */
export async function openManifest(manifest: ManifestStub, name: string): Promise<string> {
  const incarnation = await manifest.open(name);
  if (incarnation === null) {
    throw new AppError("project_not_found", `project does not exist: ${name}`);
  }
  return incarnation;
}

/** Who is calling: the admin, or a deploy token of a project that exists. */
export function callerOf(request: Request, env: Env, ctx: ExecutionContext): Promise<Principal> {
  return authenticate(request, env.ADMIN_TOKEN, async (project, hash) =>
    (await projectMayExist(env, project, (promise) => ctx.waitUntil(promise)))
      ? manifestOf(env, project).tokenOf(hash)
      : null,
  );
}

/** Where a project (or one version of it) is served, on the host this request came to. */
export function siteUrl(request: Request, env: Env, project: string, version?: string): string {
  const url = new URL(request.url);
  const host = version ? `${version}.${project}` : project;
  return `${url.protocol}//${host}.${env.ROOT_DOMAIN}${url.port ? `:${url.port}` : ""}/`;
}

/** The largest file this platform accepts (the MAX_FILE_BYTES variable). */
export function maxFileBytes(env: Env): number {
  const configured = Number(env.MAX_FILE_BYTES);
  return env.MAX_FILE_BYTES && Number.isSafeInteger(configured) && configured > 0 ? configured : DEFAULT_MAX_FILE_BYTES;
}
