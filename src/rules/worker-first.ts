/**
 * `run_worker_first`: which requests a version's server code sees before
 * any asset lookup. `true` (every request), `false` (none), or route
 * patterns with `*` globs, where `!/…` patterns exclude. Pure.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { compilePattern, patternLimitProblem, type Pattern } from "./patterns.ts";

/** `true` (always first), `false` (never), or route patterns with `*` globs and `!` exclusions. */
export type RunWorkerFirst = boolean | string[];

export const MAX_RUN_WORKER_FIRST_RULES = 100;
const MAX_RULE_LENGTH = 100;

export function checkRunWorkerFirst(value: unknown): Outcome<RunWorkerFirst> {
  const problem = (message: string): Outcome<never> => fail("bad_request", message, { field: "run_worker_first" });
  if (typeof value === "boolean") {
    return succeed(value);
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RUN_WORKER_FIRST_RULES) {
    return problem(`must be true, false, or a list of 1 to ${MAX_RUN_WORKER_FIRST_RULES} route patterns`);
  }
  const seen = new Set<string>();
  for (const rule of value as unknown[]) {
    if (typeof rule !== "string" || !(rule.startsWith("/") || rule.startsWith("!/"))) {
      return problem(`${JSON.stringify(rule)}: a pattern starts with / (or !/ to exclude)`);
    }
    if (rule.length > MAX_RULE_LENGTH) {
      return problem(`${rule}: patterns are at most ${MAX_RULE_LENGTH} characters`);
    }
    if (/[\u0000-\u001f\u007f]/.test(rule)) {
      return problem(`${JSON.stringify(rule)}: patterns may not hold control characters`);
    }
    const tooBig = patternLimitProblem(rule, { placeholders: false });
    if (tooBig) {
      return problem(tooBig);
    }
    if (seen.has(rule)) {
      return problem(`${rule}: listed twice`);
    }
    seen.add(rule);
  }
  const rules = value as string[];
  if (!rules.some((rule) => rule.startsWith("/"))) {
    return problem("exclusions (!/...) need at least one pattern to exclude from");
  }
  return succeed(rules);
}

/** Compiled `run_worker_first` patterns. */
export interface WorkerFirstRules {
  always: boolean;
  include: Pattern[];
  exclude: Pattern[];
}

export function compileRunWorkerFirst(value: RunWorkerFirst): WorkerFirstRules {
  if (typeof value === "boolean") {
    return { always: value, include: [], exclude: [] };
  }
  const glob = (pattern: string): Pattern => compilePattern(pattern, { placeholders: false });
  return {
    always: false,
    include: value.filter((rule) => rule.startsWith("/")).map(glob),
    exclude: value.filter((rule) => rule.startsWith("!")).map((rule) => glob(rule.slice(1))),
  };
}

/**
 * Who `run_worker_first` gives a request for the raw `pathname` to: the
 * server code before any asset lookup, the assets alone (a `!/` exclusion),
 * or neither yet (the routing order decides).
 */
export function workerFirst(rules: WorkerFirstRules, pathname: string): "server" | "assets" | "undecided" {
  if (rules.always) {
    return "server";
  }
  if (rules.exclude.some((pattern) => pattern.match(pathname))) {
    return "assets";
  }
  return rules.include.some((pattern) => pattern.match(pathname)) ? "server" : "undecided";
}
