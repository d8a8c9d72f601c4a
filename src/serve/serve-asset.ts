/**
 * Serving one request for a project's assets: ask the project's manifest
 * what the URL resolves to, then answer: a file from R2, a redirect, or a
 * 404. Only GET and HEAD read files; other methods get 405.
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { AssetBindingProps, Env } from "../env.ts";
import { applyHeaderOps, type HeaderOp } from "./headers.ts";
import { respondWithAsset, VERSION_HEADER } from "./respond.ts";

const READ_METHODS = new Set(["GET", "HEAD"]);

export async function serveAsset(request: Request, env: Env, props: AssetBindingProps): Promise<Response> {
  const manifest = env.MANIFEST.getByName(props.projectId);
  const resolution = await manifest.resolve({ url: request.url, version: props.version });
  const head = request.method === "HEAD";
  if (resolution.kind === "unavailable") {
    return plain(404, resolution.reason === "no-project" ? "Project Not Found" : "Not Found", head);
  }
  const { intent, version, file, headers } = resolution;
  const reading = READ_METHODS.has(request.method);
  const tag = { [VERSION_HEADER]: version };
  switch (intent.kind) {
    case "redirect":
      // `_redirects` rules apply to every method; html_handling only to reads.
      if (!intent.rule && !reading) {
        return withHeaders(plain(405, "Method Not Allowed", head, { allow: "GET, HEAD", ...tag }), headers);
      }
      return withHeaders(new Response(null, { status: intent.status, headers: { location: intent.location, ...tag } }), headers);
    case "asset":
      if (!reading) {
        return withHeaders(plain(405, "Method Not Allowed", head, { allow: "GET, HEAD", ...tag }), headers);
      }
      if (!file) {
        throw new Error(`the manifest resolved ${intent.path} but has no such file`);
      }
      return respondWithAsset(request, new BlobStore(env.BLOBS, props.projectId), {
        file,
        status: intent.status,
        version,
        headerOps: headers,
      });
    case "none":
      return withHeaders(plain(404, "Not Found", head, tag), headers);
  }
}

function plain(status: number, text: string, head: boolean, headers: Record<string, string> = {}): Response {
  return new Response(head ? null : `${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

function withHeaders(response: Response, ops: readonly HeaderOp[]): Response {
  applyHeaderOps(response.headers, ops);
  return response;
}
