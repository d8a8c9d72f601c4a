/**
 * The deploy-config schema: what a deploy says about how its version is
 * served, checked once (by the API, and by the CLI before it sends
 * anything), stored with the version, and compiled by the serving Worker
 * into matchers. Pure.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { jsonBytes, MAX_STORED_JSON_BYTES } from "../shared/limits.ts";
import { parseHeaders, type HeaderRule } from "./headers.ts";
import { compileHashedFiles, type CompiledHashedFiles, type HashedFiles } from "./fingerprint.ts";
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
  /** What the deploy showed about its hashed files (see fingerprint.ts). */
  hashed?: HashedFiles;
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
  /** Which of its files the deploy showed to be hashed (see fingerprint.ts); absent before it was recorded. */
  hashed?: HashedFiles;
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
  const hashed = checkHashed(input.hashed);
  if (!hashed.ok) {
    return hashed;
  }
  const redirects = parseRedirects(texts.redirects, modes.value.html_handling);
  const headers = parseHeaders(texts.headers);
  const config: ServingConfig = {
    ...modes.value,
    redirects: redirects.rules,
    headers: headers.rules,
    run_worker_first: workerFirst.value,
    ...(hashed.value ? { hashed: hashed.value } : {}),
  };
  const stored = jsonBytes(config);
  if (stored > MAX_STORED_JSON_BYTES) {
    return fail(
      "payload_too_large",
      `the parsed _redirects and _headers, and the hashed files, would take ${stored} bytes to store; the limit is ${MAX_STORED_JSON_BYTES}`,
      { field: biggest({ redirects: redirects.rules, headers: headers.rules, hashed: hashed.value ?? null }) },
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

/** The field whose value takes the most bytes. */
function biggest(fields: Record<string, unknown>): string {
  return Object.entries(fields).reduce((a, b) => (jsonBytes(b[1]) > jsonBytes(a[1]) ? b : a))[0];
}

/** Directories and files in `hashed` are absolute paths; directories end in `/`. */
function checkHashed(value: unknown): Outcome<HashedFiles | undefined> {
  if (value === undefined) {
    return succeed(undefined);
  }
  const paths = (list: unknown, directories: boolean): list is string[] =>
    Array.isArray(list) &&
    list.every(
      (path) =>
        typeof path === "string" &&
        path.startsWith("/") &&
        path.endsWith("/") === directories &&
        path.length <= 1024 &&
        !/[\u0000-\u001f\u007f]/.test(path),
    );
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("bad_request", 'must be {"directories": [...], "files": [...]}', { field: "hashed" });
  }
  const { directories = [], files = [], ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    return fail("bad_request", `unknown key ${Object.keys(rest)[0]}; the keys are directories and files`, {
      field: "hashed",
    });
  }
  if (!paths(directories, true)) {
    return fail("bad_request", "directories: must be a list of paths that start and end with /", {
      field: "hashed.directories",
    });
  }
  if (!paths(files, false)) {
    return fail("bad_request", "files: must be a list of file paths that start with /", { field: "hashed.files" });
  }
  return succeed({ directories, files });
}

/** A configuration with its rule patterns compiled, ready to match requests. */
export interface CompiledConfig {
  config: ServingConfig;
  redirectPatterns: Pattern[];
  headerPatterns: Pattern[];
  workerFirst: WorkerFirstRules;
  /** Whether any `_headers` rule names a host, so that answers depend on the host too. */
  hostRules: boolean;
  hashed: CompiledHashedFiles;
}

export function compileConfig(config: ServingConfig): CompiledConfig {
  return {
    config,
    redirectPatterns: config.redirects.dynamic.map((rule) => compilePattern(rule.from)),
    headerPatterns: config.headers.map((rule) => compilePattern(rule.path)),
    // Versions stored before run_worker_first existed lack it.
    workerFirst: compileRunWorkerFirst(config.run_worker_first ?? DEFAULT_CONFIG.run_worker_first),
    hostRules: config.headers.some((rule) => rule.path.startsWith("https://")),
    hashed: compileHashedFiles(config.hashed),
  };
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === "string" && (options as readonly string[]).includes(value);
}
