/**
 * What a deploy says about how its version is served. The modes are checked
 * here, where the CLI can use them too; the rule files (`_redirects`,
 * `_headers`) travel as text and are parsed by the platform
 * (src/serve/config.ts).
 */

export const HTML_HANDLING_MODES = [
  "auto-trailing-slash",
  "force-trailing-slash",
  "drop-trailing-slash",
  "none",
] as const;
export type HtmlHandling = (typeof HTML_HANDLING_MODES)[number];

export const NOT_FOUND_HANDLING_MODES = ["none", "single-page-application", "404-page"] as const;
export type NotFoundHandling = (typeof NOT_FOUND_HANDLING_MODES)[number];

/** A deploy's serving options; anything left out takes its default. */
export interface ServingConfigInput {
  html_handling?: string;
  not_found_handling?: string;
  /** The text of the deployed folder's `_redirects`. */
  redirects?: string;
  /** The text of the deployed folder's `_headers`. */
  headers?: string;
  /** `true`, or route patterns (`/api/*`, `!/api/docs/*`) that go to the server code first. */
  run_worker_first?: boolean | string[];
}

export interface ServingModes {
  html_handling: HtmlHandling;
  not_found_handling: NotFoundHandling;
}

/** A problem with one field of the input. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Fills in default modes and checks the given ones. */
export function checkModes(input: { html_handling?: unknown; not_found_handling?: unknown }): { modes: ServingModes } | { problem: ConfigProblem } {
  const html = input.html_handling ?? "auto-trailing-slash";
  if (!isOneOf(HTML_HANDLING_MODES, html)) {
    return { problem: { field: "html_handling", message: `must be one of ${HTML_HANDLING_MODES.join(", ")}` } };
  }
  const notFound = input.not_found_handling ?? "none";
  if (!isOneOf(NOT_FOUND_HANDLING_MODES, notFound)) {
    return { problem: { field: "not_found_handling", message: `must be one of ${NOT_FOUND_HANDLING_MODES.join(", ")}` } };
  }
  return { modes: { html_handling: html, not_found_handling: notFound } };
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (options as readonly string[]).includes(value);
}
