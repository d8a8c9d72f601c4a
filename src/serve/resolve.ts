/**
 * Routing decisions for asset requests, as pure functions: given a decoded
 * path, a version's serving configuration and a way to ask whether a file
 * exists, decide what to serve. No I/O happens here.
 */
import type { ServingConfig } from "../shared/config.ts";

/** Looks a path up in a version's files; returns a token for the file (its hash), or null. */
export type Exists = (path: string) => string | null;

export type Intent =
  /** Serve the file at `path` with `status`. */
  | { kind: "asset"; path: string; status: 200 | 404 }
  /** Redirect to `location`. */
  | { kind: "redirect"; location: string; status: 301 | 302 | 303 | 307 | 308 }
  /** Nothing matches. */
  | { kind: "none" };

/** Decides what a request for `pathname` gets. */
export function resolveIntent(pathname: string, _config: ServingConfig, exists: Exists): Intent {
  if (exists(pathname)) {
    return { kind: "asset", path: pathname, status: 200 };
  }
  if (pathname.endsWith("/") && exists(`${pathname}index.html`)) {
    return { kind: "asset", path: `${pathname}index.html`, status: 200 };
  }
  return { kind: "none" };
}

/**
 * Decodes a request path once, segment by segment. A segment that is not
 * valid percent-encoding is kept as it is; runs of slashes collapse. The
 * result is only ever compared with manifest paths, so no input can reach
 * outside the version's files.
 */
export function decodePathname(pathname: string): string {
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
