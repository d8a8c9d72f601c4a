/**
 * The platform Worker. Dispatches on the hostname: the bare root domain is
 * the control plane (the API, and the web console at /), `<project>.<root>`
 * serves a project (its assets and server code), `<version>.<project>.<root>`
 * one version of it, `<alias>.<project>.<root>` the version an alias names,
 * and a custom domain what it is mapped to. Hosts that name no project are
 * answered from this isolate's filter of every host (src/registry/view.ts),
 * with no call.
 */
import { handleApi } from "./api/router.ts";
import { serveConsole } from "./console/serve.ts";
import type { Env } from "./env.ts";
import { AppError, toErrorResponse, toVisitorFailure, visitorError } from "./errors.ts";
import { canonicalHostname, routeHost, type HostRoute } from "./hosts.ts";
import type { Target } from "./manifest/contract.ts";
import { domainOf, mayServe, registryStats, type WaitUntil } from "./registry/view.ts";
import { serveProject } from "./serve/serve-project.ts";
import { stats } from "./serve/stats.ts";
import { recorderStats } from "./analytics/recorder.ts";

export { ProjectAnalytics } from "./analytics/project-analytics.ts";
export { LogTail } from "./analytics/log-tail.ts";
export { ProjectManifest } from "./manifest/project-manifest.ts";
export { ProjectRegistry } from "./registry/project-registry.ts";
export { AssetBinding } from "./serve/asset-binding.ts";

export default {
  async fetch(original, env, ctx): Promise<Response> {
    const url = new URL(original.url);
    const hostname = canonicalHostname(url, original.headers.get("host"));
    if (hostname === null) {
      const message = "the Host header carries userinfo (user@host), which names no host";
      return url.pathname.startsWith("/api")
        ? toErrorResponse(new AppError("bad_request", message))
        : visitorError(400, { head: original.method === "HEAD", detail: message });
    }
    let request = original;
    if (hostname !== url.hostname) {
      url.hostname = hostname;
      request = new Request(url, original);
    }
    const route = routeHost(hostname, env.ROOT_DOMAIN);
    if (route.kind === "control") {
      return url.pathname === "/api" || url.pathname.startsWith("/api/")
        ? handleApi(request, { env, ctx, stats: { ...stats, ...registryStats, ...recorderStats } })
        : serveConsole(request);
    }
    const head = request.method === "HEAD";
    try {
      const site = route.kind === "unknown" ? null : await siteOf(route, env, (promise) => ctx.waitUntil(promise));
      if (!site) {
        return visitorError(404, { head, detail: `no project is served at ${url.hostname}` });
      }
      return await serveProject(request, env, ctx, site.project, site.target);
    } catch (error) {
      return toVisitorFailure(error, request);
    }
  },
} satisfies ExportedHandler<Env>;

/** The project and target a host serves, or null if it serves none. */
async function siteOf(
  route: Exclude<HostRoute, { kind: "control" | "unknown" }>,
  env: Env,
  waitUntil: WaitUntil,
): Promise<{ project: string; target: Target } | null> {
  // A host the filter does not hold names nothing: no Durable Object is asked.
  if (route.kind === "domain") {
    const mapped = (await mayServe(env, route.hostname, waitUntil))
      ? await domainOf(env, route.hostname, waitUntil)
      : null;
    return mapped ? { project: mapped.project, target: { pointer: mapped.alias ?? "live" } } : null;
  }
  // The project's Durable Object says whether a project the filter may hold exists.
  if (!(await mayServe(env, route.project, waitUntil))) {
    return null;
  }
  const target: Target = route.version ? { version: route.version } : { pointer: route.alias ?? "live" };
  return { project: route.project, target };
}
