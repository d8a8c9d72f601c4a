/**
 * The deploy-config schema: what a deploy says about how its version is
 * served, checked once (by the API, and by the CLI before it sends
 * anything), stored with the version, and compiled by the serving Worker
 * into matchers. Pure.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { jsonBytes, MAX_STORED_JSON_BYTES } from "../shared/limits.ts";
import { parseHeaders, type HeaderRule } from "./headers.ts";
import { compilePattern, type Pattern } from "./patterns.ts";
import { NO_REDIRECTS, parseRedirects, type RedirectRules } from "./redirects.ts";
import {
  checkRunWorkerFirst,
  compileRunWorkerFirst,
  type RunWorkerFirst,
  type WorkerFirstRules,
} from "./worker-first.ts";
import {
  HTML_HANDLING_MODES,
  NOT_FOUND_HANDLING_MODES,
  type HtmlHandling,
  type NotFoundHandling,
} from "./html-handling.ts";

/** Each rules file may be at most this long. */
export const MAX_RULES_FILE_BYTES = 512 * 1024;

/** A deploy's serving options as it sends them; anything left out takes its default. */
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

/** A version's serving configuration as stored: the modes and the parsed rule files. */
export interface ServingConfig extends ServingModes {
  redirects: RedirectRules;
  headers: HeaderRule[];
  /** Only matters for versions with server code. */
  run_worker_first: RunWorkerFirst;
}

/** A line of a rules file that was skipped. */
export interface ConfigWarning {
  file: "_redirects" | "_headers";
  line: number;
  message: string;
}

/** What a deploy gets for what it leaves out: the defaults, written once. */
export const DEFAULT_CONFIG: ServingConfig = {
  html_handling: "auto-trailing-slash",
  not_found_handling: "none",
  redirects: NO_REDIRECTS,
  headers: [],
  run_worker_first: false,
};

/** Fills in default modes and checks the given ones; a failure names the field. */
export function checkModes(input: { html_handling?: unknown; not_found_handling?: unknown }): Outcome<ServingModes> {
  const html = input.html_handling ?? DEFAULT_CONFIG.html_handling;
  if (!isOneOf(HTML_HANDLING_MODES, html)) {
    return fail("bad_request", `must be one of ${HTML_HANDLING_MODES.join(", ")}`, { field: "html_handling" });
  }
  const notFound = input.not_found_handling ?? DEFAULT_CONFIG.not_found_handling;
  if (!isOneOf(NOT_FOUND_HANDLING_MODES, notFound)) {
    return fail("bad_request", `must be one of ${NOT_FOUND_HANDLING_MODES.join(", ")}`, {
      field: "not_found_handling",
    });
  }
  return succeed({ html_handling: html, not_found_handling: notFound });
}

/** Checks a deploy's `config` and parses its rule files; a failure names the field. */
export function buildConfig(
  input: Record<string, unknown>,
): Outcome<{ config: ServingConfig; warnings: ConfigWarning[] }> {
  const modes = checkModes(input);
  if (!modes.ok) {
    return modes;
  }
  const texts: Record<"redirects" | "headers", string> = { redirects: "", headers: "" };
  for (const field of ["redirects", "headers"] as const) {
    const value = input[field] ?? "";
    if (typeof value !== "string") {
      return fail("bad_request", `must be the text of the _${field} file`, { field });
    }
    if (new TextEncoder().encode(value).length > MAX_RULES_FILE_BYTES) {
      return fail("payload_too_large", `the _${field} file is over ${MAX_RULES_FILE_BYTES} bytes`, { field });
    }
    texts[field] = value;
  }
  const workerFirst = checkRunWorkerFirst(input.run_worker_first ?? DEFAULT_CONFIG.run_worker_first);
  if (!workerFirst.ok) {
    return workerFirst;
  }
  const redirects = parseRedirects(texts.redirects, modes.value.html_handling);
  const headers = parseHeaders(texts.headers);
  const config = {
    ...modes.value,
    redirects: redirects.rules,
    headers: headers.rules,
    run_worker_first: workerFirst.value,
  };
  const stored = jsonBytes(config);
  if (stored > MAX_STORED_JSON_BYTES) {
    return fail(
      "payload_too_large",
      `the parsed _redirects and _headers would take ${stored} bytes to store; the limit is ${MAX_STORED_JSON_BYTES}`,
      { field: jsonBytes(redirects.rules) >= jsonBytes(headers.rules) ? "redirects" : "headers" },
    );
  }
  return succeed({
    config,
    warnings: [
      ...redirects.invalid.map((problem) => ({ file: "_redirects" as const, ...problem })),
      ...headers.invalid.map((problem) => ({ file: "_headers" as const, ...problem })),
    ],
  });
}

/** A configuration with its rule patterns compiled, ready to match requests. */
export interface CompiledConfig {
  config: ServingConfig;
  redirectPatterns: Pattern[];
  headerPatterns: Pattern[];
  workerFirst: WorkerFirstRules;
  /** Whether any `_headers` rule names a host, so that answers depend on the host too. */
  hostRules: boolean;
}

export function compileConfig(config: ServingConfig): CompiledConfig {
  return {
    config,
    redirectPatterns: config.redirects.dynamic.map((rule) => compilePattern(rule.from)),
    headerPatterns: config.headers.map((rule) => compilePattern(rule.path)),
    // Versions stored before run_worker_first existed lack it.
    workerFirst: compileRunWorkerFirst(config.run_worker_first ?? DEFAULT_CONFIG.run_worker_first),
    hostRules: config.headers.some((rule) => rule.path.startsWith("https://")),
  };
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (options as readonly string[]).includes(value);
}
