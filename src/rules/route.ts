/**
 * The routing decision for one request to a version, following Workers
 * Static Assets: `_redirects` first, then html_handling and
 * not_found_handling, then `_headers`; with server code, the order of
 * Workers with assets decides who answers. Pure: files are looked up
 * through a `Lookup`, and nothing here waits on I/O.
 */
import type { CompiledConfig } from "./config.ts";
import type { AssetsDecision, Decision, FileLike, Lookup } from "./decision.ts";
import { matchHeaders } from "./headers.ts";
import { candidatePaths, htmlIntent, type HtmlOptions, type NotFoundHandling } from "./html-handling.ts";
import { addQuery, matchRedirect, redirectLocation, type RedirectStatus } from "./redirects.ts";
import { workerFirst } from "./worker-first.ts";

/**
 * Decides what a request for `url` gets from a version with `compiled`
 * configuration. Without `notFound`, not_found_handling is left out, so
 * that an unmatched request can go to server code instead. Redirect
 * locations keep `url`'s query unless the rule gives its own.
 */
export function route<F extends FileLike>(
  url: URL,
  compiled: CompiledConfig,
  lookup: Lookup<F>,
  { notFound = true } = {},
): AssetsDecision<F> {
  const { config } = compiled;
  const headers = matchHeaders(config.headers, compiled.headerPatterns, url.hostname, url.pathname);
  const assets = (intent: AssetsDecision<F>["intent"]): AssetsDecision<F> => ({ kind: "assets", intent, headers });
  const redirected = applyRedirects(url, compiled);
  if (redirected.kind === "redirect") {
    return assets({ ...redirected, rule: true });
  }
  if (redirected.kind === "broken") {
    // What this request filled a rule's placeholders with makes no URL: nothing matches.
    return assets({ kind: "none", rewritten: true });
  }
  const { pathname, rewritten } = redirected;
  const decoded = decodePath(pathname);
  const intent = htmlIntent(decoded, options(compiled, notFound), lookup);
  if (!intent) {
    return assets({ kind: "none", rewritten });
  }
  // A file is served at its canonical encoding; any other encoding, and any
  // html_handling redirect, goes there in one hop.
  const destination = encodePath(intent.kind === "redirect" ? intent.location : decoded);
  if (intent.kind === "redirect" || destination !== pathname) {
    return assets({ kind: "redirect", location: addQuery(destination, url.search), status: 307, rule: false });
  }
  return assets(intent);
}

/**
 * Every file `route` may look up for `url`. Without a configuration (it is
 * not known yet), the union over every html_handling and
 * not_found_handling mode, and no `_redirects` rewrite.
 */
export function lookupsFor(url: URL, compiled: CompiledConfig | null): string[] {
  if (!compiled) {
    return candidatePaths(decodePath(url.pathname), ALL_OPTIONS);
  }
  const redirected = applyRedirects(url, compiled);
  return redirected.kind === "path" ? candidatePaths(decodePath(redirected.pathname), [options(compiled, true)]) : [];
}

type Redirected =
  | { kind: "redirect"; location: string; status: Exclude<RedirectStatus, 200> }
  | { kind: "path"; pathname: string; rewritten: boolean }
  | { kind: "broken" };

/** What `_redirects` makes of a request: a redirect, the path to serve (rewritten by a 200 rule or not), or nothing. */
function applyRedirects(url: URL, { config, redirectPatterns }: CompiledConfig): Redirected {
  const rule = matchRedirect(config.redirects, redirectPatterns, url.pathname);
  if (!rule) {
    return { kind: "path", pathname: url.pathname, rewritten: false };
  }
  const location = redirectLocation(rule.to, url);
  if (location === null) {
    return { kind: "broken" };
  }
  if (rule.status !== 200) {
    return { kind: "redirect", location, status: rule.status };
  }
  return { kind: "path", pathname: new URL(location, url).pathname, rewritten: true };
}

/** What a version's server code runs with that routing depends on. */
export interface ServerCompatibility {
  compatibilityDate: string;
  compatibilityFlags: readonly string[];
}

export interface RequestShape<S extends ServerCompatibility = ServerCompatibility> {
  /** The version's server code, when the request came to the project's site (not through its ASSETS binding). */
  server: S | null;
  /** `Sec-Fetch-Mode: navigate`. */
  navigate: boolean;
}

/**
 * Who answers a request to a version, in the order of Workers with assets
 * (router-worker/src/worker.ts and asset-worker/src/handler.ts in
 * cloudflare/workers-sdk; see README, "Routing order"):
 * 1. `run_worker_first: true`, or a request matching one of its patterns,
 *    goes to the server code; one matching a `!/` exclusion is answered by
 *    the assets alone, not_found_handling included;
 * 2. else a file (after html_handling), or a `_redirects` rule, answers
 *    without waking the server code; so does not_found_handling when
 *    `run_worker_first` is a list of patterns, or for a navigation request
 *    when the navigation preference is on;
 * 3. else the server code answers; with no server code, not_found_handling.
 */
export function routeRequest<F extends FileLike, S extends ServerCompatibility>(
  url: URL,
  compiled: CompiledConfig,
  lookup: Lookup<F>,
  shape: RequestShape<S>,
): Decision<F, S> {
  const { server } = shape;
  if (!server) {
    return route(url, compiled, lookup);
  }
  const first = workerFirst(compiled.workerFirst, url.pathname);
  if (first === "server") {
    return { kind: "server", server };
  }
  if (first === "assets") {
    return route(url, compiled, lookup);
  }
  const staticRouting = Array.isArray(compiled.config.run_worker_first);
  const keepNotFound = staticRouting || (shape.navigate && navigationPrefersAssets(server));
  const routed = route(url, compiled, lookup, { notFound: keepNotFound });
  return routed.intent.kind === "none" && !routed.intent.rewritten ? { kind: "server", server } : routed;
}

/** Compatibility flags of the navigation preference (asset-worker/src/compatibility-flags.ts). */
const PREFERS_ASSETS = {
  enable: "assets_navigation_prefers_asset_serving",
  disable: "assets_navigation_has_no_effect",
  since: "2025-04-01",
};

/**
 * Whether a navigation request (`Sec-Fetch-Mode: navigate`) that matches no
 * file gets not_found_handling rather than the server code: on from
 * compatibility date 2025-04-01, or with its flag; off with the opt-out flag.
 */
export function navigationPrefersAssets({ compatibilityDate, compatibilityFlags }: ServerCompatibility): boolean {
  if (compatibilityFlags.includes(PREFERS_ASSETS.enable)) {
    return true;
  }
  return compatibilityDate >= PREFERS_ASSETS.since && !compatibilityFlags.includes(PREFERS_ASSETS.disable);
}

/** Whether the answer to a request can depend on `Sec-Fetch-Mode: navigate`. */
export function dependsOnNavigation(compiled: CompiledConfig, server: ServerCompatibility | null): boolean {
  return (
    server !== null &&
    compiled.config.run_worker_first === false &&
    compiled.config.not_found_handling !== "none" &&
    navigationPrefersAssets(server)
  );
}

const ALL_OPTIONS: HtmlOptions[] = (
  ["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"] as const
).flatMap((html) =>
  (["single-page-application", "404-page"] as NotFoundHandling[]).map((notFound) => ({ html, notFound })),
);

function options({ config }: CompiledConfig, notFound: boolean): HtmlOptions {
  return { html: config.html_handling, notFound: notFound ? config.not_found_handling : "none" };
}

/**
 * Decodes each segment once (an invalid escape is kept as it is) and folds
 * repeated slashes, which could otherwise make a redirect leave the site.
 */
export function decodePath(pathname: string): string {
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/")
    .replace(/\/+/g, "/");
}

/** The canonical encoding of a decoded path. */
export function encodePath(pathname: string): string {
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return encodeURIComponent(segment);
      } catch {
        // A lone surrogate cannot be encoded; it can never be a file either.
        return segment;
      }
    })
    .join("/");
}
