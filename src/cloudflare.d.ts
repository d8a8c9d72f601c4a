/**
 * Types `env` imported from "cloudflare:workers" and `ctx.exports` from the
 * main module's exports. Kept apart from env.ts, which every part imports,
 * so that no module's types depend on worker.ts, the top of the layers.
 */
import type { Env as PlatformEnv } from "./env.ts";
import type * as MainModule from "./worker.ts";

declare global {
  namespace Cloudflare {
    interface Env extends PlatformEnv {}
    interface GlobalProps {
      mainModule: typeof MainModule;
      durableNamespaces: "ProjectManifest" | "ProjectRegistry" | "ProjectAnalytics";
    }
  }
}
