/**
 * A version's serving configuration: what the user chose at deploy time,
 * normalized once into a fully specified value that is stored with the
 * version and never changes.
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

export interface ServingConfig {
  html_handling: HtmlHandling;
  not_found_handling: NotFoundHandling;
}

/** What a deploy may say about serving; anything left out takes its default. */
export interface ServingConfigInput {
  html_handling?: string;
  not_found_handling?: string;
}

export const DEFAULT_CONFIG: ServingConfig = {
  html_handling: "auto-trailing-slash",
  not_found_handling: "none",
};

/** A problem with one field of the input. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Fills in defaults and checks every field. */
export function normalizeConfig(input: ServingConfigInput): { config: ServingConfig } | { problem: ConfigProblem } {
  const html = input.html_handling ?? DEFAULT_CONFIG.html_handling;
  if (!isOneOf(HTML_HANDLING_MODES, html)) {
    return { problem: { field: "html_handling", message: `must be one of ${HTML_HANDLING_MODES.join(", ")}` } };
  }
  const notFound = input.not_found_handling ?? DEFAULT_CONFIG.not_found_handling;
  if (!isOneOf(NOT_FOUND_HANDLING_MODES, notFound)) {
    return {
      problem: { field: "not_found_handling", message: `must be one of ${NOT_FOUND_HANDLING_MODES.join(", ")}` },
    };
  }
  return { config: { html_handling: html, not_found_handling: notFound } };
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (options as readonly string[]).includes(value);
}
