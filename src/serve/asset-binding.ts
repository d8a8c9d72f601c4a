/**
 * AssetBinding: the `ASSETS` binding of a project. Created with
 * `ctx.exports.AssetBinding({ props: { projectId, version? } })`; the
 * platform alone sets the props, so code holding the binding can read its
 * own project's files and no one else's.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { AssetBindingProps, Env } from "../env.ts";
import { serveAsset } from "./serve-asset.ts";

export class AssetBinding extends WorkerEntrypoint<Env, AssetBindingProps> {
  override async fetch(request: Request): Promise<Response> {
    return serveAsset(request, this.env, this.ctx.props);
  }
}
