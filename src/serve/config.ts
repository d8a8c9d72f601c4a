/**
 * A version's serving configuration, built once when its deploy starts and
 * stored with it: the modes, and the parsed `_redirects` and `_headers`.
 */
import { checkModes, type ConfigProblem, type HtmlHandling, type NotFoundHandling } from "../shared/config.ts";
import { checkRunWorkerFirst, compileRunWorkerFirst, type RunWorkerFirst, type WorkerFirstRules } from "./dispatch.ts";
import { parseHeaders, type HeaderRule } from "./headers.ts";
import { compilePattern } from "./patterns.ts";
import { NO_REDIRECTS, parseRedirects, type RedirectRules } from "./redirects.ts";

/** Each rules file may be at most this long. */
export const MAX_RULES_FILE_BYTES = 512 * 1024;

export interface ServingConfig {
  html_handling: HtmlHandling;
  not_found_handling: NotFoundHandling;
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

export const DEFAULT_CONFIG: ServingConfig = {
  html_handling: "auto-trailing-slash",
  not_found_handling: "none",
  redirects: NO_REDIRECTS,
  headers: [],
  run_worker_first: false,
};

/** Checks a deploy's `config` and parses its rule files. */
export function buildConfig(input: Record<string, unknown>): { config: ServingConfig; warnings: ConfigWarning[] } | { problem: ConfigProblem } {
  const checked = checkModes(input);
  if ("problem" in checked) {
    return checked;
  }
  const texts: Record<"redirects" | "headers", string> = { redirects: "", headers: "" };
  for (const field of ["redirects", "headers"] as const) {
    const value = input[field] ?? "";
    if (typeof value !== "string") {
      return { problem: { field, message: `must be the text of the _${field} file` } };
    }
    if (new TextEncoder().encode(value).length > MAX_RULES_FILE_BYTES) {
      return { problem: { field, message: `the _${field} file is over ${MAX_RULES_FILE_BYTES} bytes` } };
    }
    texts[field] = value;
  }
  const workerFirst = checkRunWorkerFirst(input.run_worker_first ?? false);
  if ("problem" in workerFirst) {
    return { problem: { field: "run_worker_first", message: workerFirst.problem } };
  }
  const redirects = parseRedirects(texts.redirects, checked.modes.html_handling);
  const headers = parseHeaders(texts.headers);
  return {
    config: { ...checked.modes, redirects: redirects.rules, headers: headers.rules, run_worker_first: workerFirst.value },
    warnings: [
      ...redirects.invalid.map((problem) => ({ file: "_redirects" as const, ...problem })),
      ...headers.invalid.map((problem) => ({ file: "_headers" as const, ...problem })),
    ],
  };
}

/** A configuration with its rule patterns compiled, ready to match requests. */
export interface CompiledConfig {
  config: ServingConfig;
  redirectPatterns: RegExp[];
  headerPatterns: RegExp[];
  workerFirst: WorkerFirstRules;
}

export function compileConfig(config: ServingConfig): CompiledConfig {
  return {
    config,
    redirectPatterns: config.redirects.dynamic.map((rule) => compilePattern(rule.from)),
    headerPatterns: config.headers.map((rule) => compilePattern(rule.path)),
    // Versions stored before run_worker_first existed lack it.
    workerFirst: compileRunWorkerFirst(config.run_worker_first ?? false),
  };
}
