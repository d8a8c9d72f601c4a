/**
 * Serving one request for a project's assets: ask the project's manifest
 * what the path resolves to, then send that file from R2.
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { AssetBindingProps, Env } from "../env.ts";
import { decodePathname } from "./resolve.ts";
import { respondWithAsset, VERSION_HEADER } from "./respond.ts";

export async function serveAsset(request: Request, env: Env, props: AssetBindingProps): Promise<Response> {
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    return plain(405, "Method Not Allowed", { allow: "GET, HEAD" });
  }
  const pathname = decodePathname(new URL(request.url).pathname);
  const manifest = env.MANIFEST.getByName(props.projectId);
  const resolution = await manifest.resolve({ pathname, version: props.version });
  if (resolution.kind === "unavailable") {
    return plain(404, resolution.reason === "no-project" ? "Project Not Found" : "Not Found");
  }
  const { intent, version, file } = resolution;
  if (intent.kind === "asset" && file) {
    return respondWithAsset(request, new BlobStore(env.BLOBS, props.projectId), { file, status: intent.status, version });
  }
  if (intent.kind === "redirect") {
    return new Response(null, { status: intent.status, headers: { location: intent.location, [VERSION_HEADER]: version } });
  }
  return plain(404, "Not Found", { [VERSION_HEADER]: version });
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
