/**
 * Answering requests from a project's files: a file from R2, a redirect, or
 * a 404, as the manifest resolved the URL. Only GET and HEAD read files;
 * other methods get 405.
 */
import { BlobStore } from "../blob/r2-store.ts";
import type { AssetBindingProps, Env } from "../env.ts";
import type { Resolution } from "../manifest/lookup.ts";
import { applyHeaderOps, type HeaderOp } from "./headers.ts";
import { respondWithAsset, VERSION_HEADER } from "./respond.ts";

const READ_METHODS = new Set(["GET", "HEAD"]);

/** What AssetBinding does: resolve against the project's manifest, then answer. */
export async function serveAsset(request: Request, env: Env, props: AssetBindingProps): Promise<Response> {
  const manifest = env.MANIFEST.getByName(props.projectId);
  const resolution = await manifest.resolve({ url: request.url, version: props.version });
  return answer(request, env, props.projectId, resolution);
}

/** Answers from a resolution that does not involve server code. */
export async function answer(request: Request, env: Env, projectId: string, resolution: Resolution): Promise<Response> {
  const head = request.method === "HEAD";
  if (resolution.kind === "unavailable") {
    return plain(404, resolution.reason === "no-project" ? "Project Not Found" : "Not Found", head);
  }
  if (resolution.kind === "server") {
    throw new Error("a request for server code reached the asset responder");
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
      return respondWithAsset(request, new BlobStore(env.BLOBS, projectId), { file, status: intent.status, version, headerOps: headers });
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
