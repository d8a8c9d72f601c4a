/**
 * Who answers a request for a project with server code, following the
 * routing of Workers with static assets (pure):
 * 1. a request matching `run_worker_first` goes to the server code;
 * 2. else one that matches an asset (or a `_redirects` rule) is served from
 *    the assets, without waking the server code;
 * 3. else, with no server code, not_found_handling applies;
 * 4. else a navigation request to a single-page application gets its
 *    index.html, and anything else goes to the server code.
 */

/** `true` (always first), `false` (never), or route patterns with `*` globs and `!` exclusions. */
export type RunWorkerFirst = boolean | string[];

export const MAX_RUN_WORKER_FIRST_RULES = 100;
const MAX_RULE_LENGTH = 100;

export function checkRunWorkerFirst(value: unknown): { value: RunWorkerFirst } | { problem: string } {
  if (typeof value === "boolean") {
    return { value };
  }
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RUN_WORKER_FIRST_RULES) {
    return { problem: `must be true, false, or a list of 1 to ${MAX_RUN_WORKER_FIRST_RULES} route patterns` };
  }
  const seen = new Set<string>();
  for (const rule of value) {
    if (typeof rule !== "string" || !(rule.startsWith("/") || rule.startsWith("!/"))) {
      return { problem: `${JSON.stringify(rule)}: a pattern starts with / (or !/ to exclude)` };
    }
    if (rule.length > MAX_RULE_LENGTH) {
      return { problem: `${rule}: patterns are at most ${MAX_RULE_LENGTH} characters` };
    }
    if (seen.has(rule)) {
      return { problem: `${rule}: listed twice` };
    }
    seen.add(rule);
  }
  if (!value.some((rule: string) => rule.startsWith("/"))) {
    return { problem: "exclusions (!/...) need at least one pattern to exclude from" };
  }
  return { value: value as string[] };
}

/** Compiled `run_worker_first` patterns. */
export interface WorkerFirstRules {
  always: boolean;
  include: RegExp[];
  exclude: RegExp[];
}

export function compileRunWorkerFirst(value: RunWorkerFirst): WorkerFirstRules {
  if (typeof value === "boolean") {
    return { always: value, include: [], exclude: [] };
  }
  const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split("*").map((part) => part.replace(/[-/\\^$+?.()|[\]{}]/g, "\\$&")).join(".*")}$`);
  return {
    always: false,
    include: value.filter((rule) => rule.startsWith("/")).map(glob),
    exclude: value.filter((rule) => rule.startsWith("!")).map((rule) => glob(rule.slice(1))),
  };
}

/** Whether a request for the raw `pathname` goes to the server code before any asset lookup. */
export function runsWorkerFirst(rules: WorkerFirstRules, pathname: string): boolean {
  if (rules.always) {
    return true;
  }
  if (rules.exclude.some((pattern) => pattern.test(pathname))) {
    return false;
  }
  return rules.include.some((pattern) => pattern.test(pathname));
}
