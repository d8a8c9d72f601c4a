/**
 * The simulation's front Worker: the platform itself (its control plane
 * and its Durable Objects), and a router that hands a request marked
 * `x-sim-isolate: N` to the serving isolate EDGE_N (see edge.ts).
 */
import platform from "../../../src/worker.ts";
import type { Env } from "../../../src/env.ts";

export { AssetBinding, LogTail, ProjectAnalytics, ProjectManifest, ProjectRegistry } from "../../../src/worker.ts";

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const isolate = request.headers.get("x-sim-isolate");
    if (isolate === null) {
      return platform.fetch(request, env, ctx);
    }
    const edge = (env as unknown as Record<string, Fetcher | undefined>)[`EDGE_${isolate}`];
    return edge ? edge.fetch(request) : new Response(`no isolate ${isolate}\n`, { status: 400 });
  },
} satisfies ExportedHandler<Env>;
