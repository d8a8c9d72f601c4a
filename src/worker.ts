/**
 * The platform Worker. Dispatches on the hostname: the bare root domain is
 * the control-plane API, `<project>.<root>` serves a project (its assets and
 * server code), `<version>.<project>.<root>` one version of it.
 */
import { handleApi } from "./api/router.ts";
import type { Env } from "./env.ts";
import { toVisitorFailure, visitorError } from "./errors.ts";
import { routeHost } from "./hosts.ts";
import { serveProject } from "./serve/serve-project.ts";
import { stats } from "./serve/stats.ts";

export { ProjectManifest } from "./manifest/project-manifest.ts";
export { AssetBinding } from "./serve/asset-binding.ts";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    const route = routeHost(url.hostname, env.ROOT_DOMAIN);
    switch (route.kind) {
      case "control":
        if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
          return handleApi(request, { env, ctx, stats });
        }
        return Response.json({ service: "r2-assets", api: `${url.origin}/api/` });
      case "project":
        try {
          return await serveProject(
            request,
            env,
            ctx,
            route.project,
            route.version ? { version: route.version } : { pointer: "live" },
          );
        } catch (error) {
          return toVisitorFailure(error, request);
        }
      case "unknown":
        return visitorError(404, {
          head: request.method === "HEAD",
          detail: `unknown host; projects are served at <project>.${env.ROOT_DOMAIN}`,
        });
    }
  },
} satisfies ExportedHandler<Env>;
