/**
 * html_handling and not_found_handling, as Workers Static Assets decides
 * them (packages/workers-shared/asset-worker/src/handler.ts in
 * cloudflare/workers-sdk). Pure: files are looked up through `exists`.
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
import type { HtmlHandling, NotFoundHandling } from "./config.ts";

/** Looks a decoded path up in a version's files; returns the file's content hash, or null. */
export type Exists = (path: string) => string | null;

export type HtmlIntent =
  /** Serve the file at `path`. */
  | { kind: "asset"; path: string; status: 200 | 404 }
  /** Redirect to the decoded path `to`, where the requested file is served. */
  | { kind: "redirect"; to: string }
  | null;

/** Serve `file` if it exists, or redirect to `to` if `file` is what `to` serves. */
type Step = { serve: string } | { file: string; to: string };

export interface HtmlOptions {
  html: HtmlHandling;
  notFound: NotFoundHandling;
}

/** What a version's files make of the decoded `path`. */
export function htmlIntent(path: string, options: HtmlOptions, exists: Exists): HtmlIntent {
  return new Decider(options, exists, false).decide(path, false);
}

/** Every path `htmlIntent` may look up for `path`, under any of the given options. */
export function candidatePaths(path: string, options: readonly HtmlOptions[]): string[] {
  const probed = new Set<string>();
  const record: Exists = (probe) => {
    probed.add(probe);
    return null;
  };
  for (const option of options) {
    new Decider(option, record, true).decide(path, false);
  }
  return [...probed];
}

class Decider {
  readonly #options: HtmlOptions;
  readonly #exists: Exists;
  /** Listing candidates: follow every branch a present file could open. */
  readonly #exploring: boolean;

  constructor(options: HtmlOptions, exists: Exists, exploring: boolean) {
    this.#options = options;
    this.#exists = exists;
    this.#exploring = exploring;
  }

  /** `nested` decides a redirect's destination, where redirects are not considered again. */
  decide(path: string, nested: boolean): HtmlIntent {
    for (const step of stepsFor(this.#options.html, path)) {
      if ("serve" in step) {
        if (this.#exists(step.serve) !== null) {
          return { kind: "asset", path: step.serve, status: 200 };
        }
      } else if (!nested && this.#servedAt(step.file, step.to)) {
        return { kind: "redirect", to: step.to };
      }
    }
    return this.#notFound(path);
  }

  /**
   * Whether `file` is what a request for `to` would be served, so that a
   * redirect there shows the same content (and can never loop).
   */
  #servedAt(file: string, to: string): boolean {
    const hash = this.#exists(file);
    if (hash === null && !this.#exploring) {
      return false;
    }
    if (this.#exists(to) !== null) {
      return false;
    }
    const there = this.decide(to, true);
    return there?.kind === "asset" && hash !== null && this.#exists(there.path) === hash;
  }

  #notFound(path: string): HtmlIntent {
    switch (this.#options.notFound) {
      case "single-page-application":
        return this.#exists("/index.html") !== null ? { kind: "asset", path: "/index.html", status: 200 } : null;
      case "404-page":
        for (let dir = path.slice(0, path.lastIndexOf("/")); ; dir = dir.slice(0, dir.lastIndexOf("/"))) {
          const page = `${dir}/404.html`;
          if (this.#exists(page) !== null) {
            return { kind: "asset", path: page, status: 404 };
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
