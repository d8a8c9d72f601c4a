/**
 * html_handling and not_found_handling, as Workers Static Assets decides
 * them (packages/workers-shared/asset-worker/src/handler.ts in
 * cloudflare/workers-sdk). Pure: files are looked up through a `Lookup`.
 *
 * Each mode turns a decoded path into an ordered list of steps: "serve this
 * file if it exists" or "redirect to this URL if that is where this file is
 * served". The first step that applies decides; if none does,
 * not_found_handling does.
 *
 * The serving Worker must learn every file a decision may look at in one
 * round trip to the manifest, so `candidatePaths` lists them: the paths a
 * decision probes when no file exists, which (because a file that exists
 * only ever ends a search early) include every path any decision probes.
 */
import { contentOf, type FileLike, type Intent, type Lookup } from "./decision.ts";

export const HTML_HANDLING_MODES = [
  "auto-trailing-slash",
  "force-trailing-slash",
  "drop-trailing-slash",
  "none",
] as const;
export type HtmlHandling = (typeof HTML_HANDLING_MODES)[number];

export const NOT_FOUND_HANDLING_MODES = ["none", "single-page-application", "404-page"] as const;
export type NotFoundHandling = (typeof NOT_FOUND_HANDLING_MODES)[number];

export type HtmlIntent<F extends FileLike> =
  | Extract<Intent<F>, { kind: "asset" }>
  /** Redirect to the decoded path `location`, where the requested file is served. */
  | { kind: "redirect"; location: string }
  | null;

/** Serve `file` if it exists, or redirect to `to` if `file` is what `to` serves. */
type Step = { serve: string } | { file: string; to: string };

export interface HtmlOptions {
  html: HtmlHandling;
  notFound: NotFoundHandling;
}

/** What a version's files make of the decoded `path`. */
export function htmlIntent<F extends FileLike>(path: string, options: HtmlOptions, lookup: Lookup<F>): HtmlIntent<F> {
  return new Decider(options, lookup, false).decide(path, false);
}

/** Every path `htmlIntent` may look up for `path`, under any of the given options. */
export function candidatePaths(path: string, options: readonly HtmlOptions[]): string[] {
  const probed = new Set<string>();
  const record: Lookup<string> = (probe) => {
    probed.add(probe);
    return null;
  };
  for (const option of options) {
    new Decider(option, record, true).decide(path, false);
  }
  return [...probed];
}

class Decider<F extends FileLike> {
  readonly #options: HtmlOptions;
  readonly #lookup: Lookup<F>;
  /** Listing candidates: follow every branch a present file could open. */
  readonly #exploring: boolean;

  constructor(options: HtmlOptions, lookup: Lookup<F>, exploring: boolean) {
    this.#options = options;
    this.#lookup = lookup;
    this.#exploring = exploring;
  }

  /** `nested` decides a redirect's destination, where redirects are not considered again. */
  decide(path: string, nested: boolean): HtmlIntent<F> {
    for (const step of stepsFor(this.#options.html, path)) {
      if ("serve" in step) {
        const file = this.#lookup(step.serve);
        if (file !== null) {
          return { kind: "asset", file, status: 200 };
        }
      } else if (!nested && this.#servedAt(step.file, step.to)) {
        return { kind: "redirect", location: step.to };
      }
    }
    return this.#notFound(path);
  }

  /**
   * Whether `file` is what a request for `to` would be served, so that a
   * redirect there shows the same content (and can never loop).
   */
  #servedAt(file: string, to: string): boolean {
    const found = this.#lookup(file);
    if (found === null && !this.#exploring) {
      return false;
    }
    if (this.#lookup(to) !== null) {
      return false;
    }
    const there = this.decide(to, true);
    return there?.kind === "asset" && found !== null && contentOf(there.file) === contentOf(found);
  }

  #notFound(path: string): HtmlIntent<F> {
    switch (this.#options.notFound) {
      case "single-page-application": {
        const index = this.#lookup("/index.html");
        return index !== null ? { kind: "asset", file: index, status: 200 } : null;
      }
      case "404-page":
        for (let dir = path.slice(0, path.lastIndexOf("/")); ; dir = dir.slice(0, dir.lastIndexOf("/"))) {
          const page = this.#lookup(`${dir}/404.html`);
          if (page !== null) {
            return { kind: "asset", file: page, status: 404 };
          }
          if (dir === "") {
            return null;
          }
        }
      case "none":
        return null;
    }
  }
}

const serve = (path: string): Step => ({ serve: path });
const redirect = (file: string, to: string): Step => ({ file, to });

/** The steps of `mode` for the decoded path `p`, in order. */
function stepsFor(mode: HtmlHandling, p: string): Step[] {
  switch (mode) {
    case "none":
      return [serve(p)];
    case "auto-trailing-slash":
      return [...autoTrailingSlash(p), serve(p), serve(`${p}.html`), redirect(`${p}/index.html`, `${p}/`)];
    case "force-trailing-slash":
      return [...forceTrailingSlash(p), serve(p), redirect(`${p}.html`, `${p}/`), redirect(`${p}/index.html`, `${p}/`)];
    case "drop-trailing-slash":
      return [...dropTrailingSlash(p), serve(p), serve(`${p}.html`), serve(`${p}/index.html`)];
  }
}

// In the three modes below, `dir` is the path without its last segment's
// suffix: "/a/index" → "/a", "/a/index.html" → "/a", "/a/" → "/a",
// "/a.html" → "/a".

/** `/a.html` is served at `/a`, `/a/index.html` at `/a/`. */
function autoTrailingSlash(p: string): Step[] {
  if (p.endsWith("/index")) {
    const dir = p.slice(0, -"/index".length);
    return [serve(p), redirect(`${p}.html`, `${dir}/`), redirect(`${dir}.html`, dir)];
  }
  if (p.endsWith("/index.html")) {
    const dir = p.slice(0, -"/index.html".length);
    return [redirect(p, `${dir}/`), redirect(`${dir}.html`, dir)];
  }
  if (p.endsWith("/")) {
    const dir = p.slice(0, -1);
    return [serve(`${p}index.html`), redirect(`${dir}.html`, dir)];
  }
  if (p.endsWith(".html")) {
    const dir = p.slice(0, -".html".length);
    return [redirect(p, dir), redirect(`${dir}/index.html`, `${dir}/`)];
  }
  return [];
}

/** Every page is served at a path ending in `/`. */
function forceTrailingSlash(p: string): Step[] {
  if (p.endsWith("/index")) {
    const dir = p.slice(0, -"/index".length);
    return [serve(p), redirect(`${p}.html`, `${dir}/`), redirect(`${dir}.html`, `${dir}/`)];
  }
  if (p.endsWith("/index.html")) {
    const dir = p.slice(0, -"/index.html".length);
    return [redirect(p, `${dir}/`), redirect(`${dir}.html`, `${dir}/`)];
  }
  if (p.endsWith("/")) {
    const dir = p.slice(0, -1);
    return [serve(`${p}index.html`), serve(`${dir}.html`)];
  }
  if (p.endsWith(".html")) {
    const dir = p.slice(0, -".html".length);
    // With both /a.html and /a/index.html, /a.html stays at /a.html.
    return [redirect(p, `${dir}/`), serve(p), redirect(`${dir}/index.html`, `${dir}/`)];
  }
  return [];
}

/** Every page is served at a path without a trailing `/` (but `/`). */
function dropTrailingSlash(p: string): Step[] {
  if (p.endsWith("/index")) {
    const dir = p.slice(0, -"/index".length);
    return p === "/index"
      ? [serve(p), redirect("/index.html", "/")]
      : [serve(p), redirect(`${dir}.html`, dir), redirect(`${p}.html`, dir)];
  }
  if (p.endsWith("/index.html")) {
    const dir = p.slice(0, -"/index.html".length);
    // With both /a.html and /a/index.html, /a/index.html stays where it is.
    return p === "/index.html" ? [redirect(p, "/")] : [redirect(p, dir), serve(p), redirect(`${dir}.html`, dir)];
  }
  if (p.endsWith("/")) {
    const dir = p.slice(0, -1);
    return p === "/" ? [serve("/index.html")] : [redirect(`${dir}.html`, dir), redirect(`${dir}/index.html`, dir)];
  }
  if (p.endsWith(".html")) {
    const dir = p.slice(0, -".html".length);
    return [redirect(p, dir), redirect(`${dir}/index.html`, dir)];
  }
  return [];
}
