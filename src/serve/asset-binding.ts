/**
 * AssetBinding: the `ASSETS` binding of a project. Created with
 * `ctx.exports.AssetBinding({ props: { projectId, version? } })`; the
 * platform alone sets the props, so code holding the binding can read its
 * own project's files and no one else's.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { AssetBindingProps, Env } from "../env.ts";
import { answer } from "./answer.ts";
import { resolve } from "./resolver.ts";

export class AssetBinding extends WorkerEntrypoint<Env, AssetBindingProps> {
  override async fetch(request: Request): Promise<Response> {
    const { projectId, version } = this.ctx.props;
    const resolution = await resolve(
      this.env,
      {
        project: projectId,
        target: version === undefined ? { pointer: "live" } : { version },
        via: "assets",
        url: new URL(request.url),
        navigate: request.headers.get("sec-fetch-mode") === "navigate",
      },
      (promise) => this.ctx.waitUntil(promise),
    );
    return answer(request, this.env, this.ctx, projectId, resolution);
  }
}
