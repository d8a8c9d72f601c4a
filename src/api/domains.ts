/**
 * Custom domains: hostnames outside the platform's root domain that serve a
 * project (its live version, or an alias). A hostname serves one project;
 * the admin maps them, as they must also be routed to the Worker on
 * Cloudflare (see README, "Custom domains").
 *   GET    /api/projects/:p/domains
 *   PUT    /api/projects/:p/domains/:hostname   {"alias"?}
 *   DELETE /api/projects/:p/domains/:hostname
 */
import type { IRequest } from "itty-router";
import { AppError, unwrap } from "../errors.ts";
import { registryStub } from "../registry/view.ts";
import { MAX_JSON_BODY_BYTES } from "../shared/limits.ts";
import { isAliasName, isDomainName } from "../shared/names.ts";
import { badField, optionalString, readJson } from "./body.ts";
import { openProject, type ApiContext } from "./context.ts";

export async function listDomains(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "read", "list domains");
  return Response.json({ project: scope.name, domains: await registryStub(ctx.env).domainsOf(scope.name) });
}

export async function addDomain(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "map domains");
  const hostname = hostnameParam(request, ctx);
  const alias = optionalString(await readJson(request, MAX_JSON_BODY_BYTES), "alias", 63) ?? null;
  if (alias !== null && !isAliasName(alias)) {
    throw badField("alias", `"${alias}" cannot name an alias`);
  }
  const domain = unwrap(await registryStub(ctx.env).addDomain(hostname, scope.name, alias));
  return Response.json(domain, { status: 201 });
}

export async function removeDomain(request: IRequest, ctx: ApiContext): Promise<Response> {
  const scope = await openProject(request, ctx, "admin", "unmap domains");
  const removed = unwrap(await registryStub(ctx.env).removeDomain(hostnameParam(request, ctx), scope.name));
  return Response.json({ project: scope.name, removed: removed.hostname });
}

/** The :hostname parameter, checked: a DNS name outside the platform's own domain. */
function hostnameParam(request: IRequest, ctx: ApiContext): string {
  const hostname = decodeURIComponent(request.params.hostname ?? "")
    .toLowerCase()
    .replace(/\.$/, "");
  const root = ctx.env.ROOT_DOMAIN.toLowerCase();
  if (!isDomainName(hostname)) {
    throw new AppError(
      "bad_request",
      `hostname: "${hostname}" is not a hostname (DNS labels, such as www.example.com)`,
      {
        field: "hostname",
      },
    );
  }
  if (hostname === root || hostname.endsWith(`.${root}`)) {
    throw new AppError("bad_request", `hostname: ${hostname} is under the platform's own domain ${root}`, {
      field: "hostname",
    });
  }
  return hostname;
}
