/**
 * The routing decision for one request to a version, following Workers
 * Static Assets: `_redirects` first, then html_handling and
 * not_found_handling, then `_headers`; with server code, the order of
 * Workers with assets decides who answers. Pure: files are looked up
 * through `exists`, and nothing here waits on I/O.
 */
import type { CompiledConfig, NotFoundHandling } from "./config.ts";
import { matchHeaders, type HeaderOp } from "./headers.ts";
import { candidatePaths, htmlIntent, type Exists, type HtmlOptions } from "./html-handling.ts";
import { addQuery, matchRedirect, redirectLocation, type RedirectStatus } from "./redirects.ts";

export type { Exists } from "./html-handling.ts";

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
 * that an unmatched request can go to server code instead. Redirect
 * locations keep `url`'s query unless the rule gives its own.
 */
export function route(url: URL, compiled: CompiledConfig, exists: Exists, { notFound = true } = {}): Routed {
  const { config } = compiled;
  const headers = matchHeaders(config.headers, compiled.headerPatterns, url.hostname, url.pathname);
  const redirected = applyRedirects(url, compiled);
  if (redirected.kind === "redirect") {
    return { intent: { ...redirected, rule: true }, headers };
  }
  if (redirected.kind === "broken") {
    // What this request filled a rule's placeholders with makes no URL: nothing matches.
    return { intent: { kind: "none", rewritten: true }, headers };
  }
  const { pathname, rewritten } = redirected;
  const decoded = decodePath(pathname);
  const intent = htmlIntent(decoded, options(compiled, notFound), exists);
  if (!intent) {
    return { intent: { kind: "none", rewritten }, headers };
  }
  // A file is served at its canonical encoding; any other encoding, and any
  // html_handling redirect, goes there in one hop.
  const destination = encodePath(intent.kind === "redirect" ? intent.to : decoded);
  if (intent.kind === "redirect" || destination !== pathname) {
    return {
      intent: { kind: "redirect", location: addQuery(destination, url.search), status: 307, rule: false },
      headers,
    };
  }
  return { intent, headers };
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

/** The decision for one request: the version's server code answers, or the assets do as `route` says. */
export type Decision = { kind: "server" } | ({ kind: "assets" } & Routed);

/** What a version's server code runs with that routing depends on. */
export interface ServerCompatibility {
  compatibilityDate: string;
  compatibilityFlags: readonly string[];
}

export interface RequestShape {
  /** The version's server code, when the request came to the project's site (not through its ASSETS binding). */
  server: ServerCompatibility | null;
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
export function routeRequest(url: URL, compiled: CompiledConfig, exists: Exists, shape: RequestShape): Decision {
  const { server } = shape;
  if (!server) {
    return { kind: "assets", ...route(url, compiled, exists) };
  }
  const rules = compiled.workerFirst;
  if (rules.always) {
    return { kind: "server" };
  }
  const staticRouting = Array.isArray(compiled.config.run_worker_first);
  if (staticRouting && rules.exclude.some((pattern) => pattern.match(url.pathname))) {
    return { kind: "assets", ...route(url, compiled, exists) };
  }
  if (staticRouting && rules.include.some((pattern) => pattern.match(url.pathname))) {
    return { kind: "server" };
  }
  const keepNotFound = staticRouting || (shape.navigate && navigationPrefersAssets(server));
  const routed = route(url, compiled, exists, { notFound: keepNotFound });
  if (routed.intent.kind === "none" && !routed.intent.rewritten) {
    return { kind: "server" };
  }
  return { kind: "assets", ...routed };
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
