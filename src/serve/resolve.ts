/**
 * Routing decisions for asset requests, following Workers Static Assets:
 * `_redirects` first, then html_handling and not_found_handling, then
 * `_headers`. No I/O: files are looked up through the `exists` function the
 * caller passes in.
 *
 * html_handling, not_found_handling and the canonical-encoding redirect are
 * decided by `handleAssetRequest` of @cloudflare/worker-bundler, whose
 * decisions match Workers Static Assets. Where it differs, this module
 * follows Workers Static Assets:
 * - a single-page application gets /index.html for any unmatched path,
 *   not only for requests that accept text/html;
 * - a 200 rewrite in `_redirects` to a path with no file is a 404, never a
 *   fall-through to server code;
 * - `_redirects` and `_headers` support `:placeholders` and `:splat`.
 */
import { handleAssetRequest, type AssetMetadata } from "@cloudflare/worker-bundler";
import type { CompiledConfig } from "./config.ts";
import { matchHeaders, type HeaderOp } from "./headers.ts";
import { matchRedirect, redirectLocation, type RedirectStatus } from "./redirects.ts";

/** Looks a decoded path up in a version's files; returns the file's content hash, or null. */
export type Exists = (path: string) => string | null;

export type Intent =
  /** Serve the file at `path` with `status`. */
  | { kind: "asset"; path: string; status: 200 | 404 }
  /** Redirect; `rule` says whether `_redirects` (true) or html_handling (false) asked for it. */
  | { kind: "redirect"; location: string; status: Exclude<RedirectStatus, 200>; rule: boolean }
  /** Nothing matches. `rewritten` when a 200 rule led here: that is a 404, whoever else could answer. */
  | { kind: "none"; rewritten: boolean };

export interface Routed {
  intent: Intent;
  /** Changes `_headers` makes to the response, whatever it is. */
  headers: HeaderOp[];
}

/**
 * Decides what a request for `url` gets from a version with `compiled`
 * configuration. Without `notFound`, not_found_handling is left out, so
 * that an unmatched request can go to server code instead.
 */
export async function route(url: URL, compiled: CompiledConfig, exists: Exists, { notFound = true } = {}): Promise<Routed> {
  const { config } = compiled;
  const headers = matchHeaders(config.headers, compiled.headerPatterns, url.host, url.pathname);
  let target = url;
  const rule = matchRedirect(config.redirects, compiled.redirectPatterns, url.pathname);
  if (rule && rule.status !== 200) {
    return { intent: { kind: "redirect", location: redirectLocation(rule.to, url), status: rule.status, rule: true }, headers };
  }
  if (rule) {
    target = new URL(url);
    target.pathname = new URL(rule.to, url).pathname;
  }
  return { intent: await routeFile(target, compiled, exists, rule !== null, notFound), headers };
}

/** The html_handling and not_found_handling decision for one path. */
async function routeFile(url: URL, { config }: CompiledConfig, exists: Exists, rewritten: boolean, notFound: boolean): Promise<Intent> {
  let served: string | null = null;
  const storage = {
    get(path: string): Promise<string> {
      served = path;
      return Promise.resolve("");
    },
  };
  // Always "accepts HTML": Workers Static Assets serves a single-page
  // application's index.html whatever the Accept header says.
  const request = new Request(url, { headers: { accept: "text/html" } });
  const response = await handleAssetRequest(request, new ManifestView(exists), storage, {
    html_handling: config.html_handling,
    not_found_handling: notFound ? config.not_found_handling : "none",
  });
  if (!response) {
    return { kind: "none", rewritten };
  }
  const location = response.headers.get("location");
  if (location !== null) {
    return { kind: "redirect", location, status: 307, rule: false };
  }
  if (served === null || (response.status !== 200 && response.status !== 404)) {
    throw new Error(`unexpected asset decision ${response.status} for ${url.pathname}`);
  }
  return { kind: "asset", path: served, status: response.status };
}

/** The version's files as the asset handler's manifest, looked up on demand. */
class ManifestView extends Map<string, AssetMetadata> {
  readonly #exists: Exists;

  constructor(exists: Exists) {
    super();
    this.#exists = exists;
  }

  override get(path: string): AssetMetadata | undefined {
    const hash = this.#exists(path);
    return hash === null ? undefined : { contentType: undefined, etag: hash };
  }

  override has(path: string): boolean {
    return this.#exists(path) !== null;
  }
}
