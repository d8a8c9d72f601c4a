/**
 * `_redirects`, in Cloudflare's syntax: one rule a line, `source
 * destination [status]`, where the status is 301, 302 (the default), 303,
 * 307, 308, or 200 for a rewrite that serves the destination without
 * changing the URL. Static rules (no `*` or `:placeholder`) are matched
 * first, by exact path; then dynamic rules in file order. First match wins.
 * Invalid lines are reported with their line number and skipped. Pure.
 */
import type { HtmlHandling } from "./html-handling.ts";
import {
  compilePattern,
  fillPlaceholders,
  hasHost,
  isDynamicPattern,
  patternLimitProblem,
  ruleLines,
  substitute,
  type Pattern,
  type RuleProblem,
} from "./patterns.ts";

export const MAX_STATIC_REDIRECTS = 2000;
export const MAX_DYNAMIC_REDIRECTS = 100;

const STATUSES = new Set([200, 301, 302, 303, 307, 308]);

export type RedirectStatus = 200 | 301 | 302 | 303 | 307 | 308;

export interface RedirectRule {
  from: string;
  to: string;
  status: RedirectStatus;
  line: number;
}

export interface RedirectRules {
  /** Keyed by source path. */
  static: Record<string, RedirectRule>;
  /** In file order. */
  dynamic: RedirectRule[];
}

export const NO_REDIRECTS: RedirectRules = { static: {}, dynamic: [] };

export function parseRedirects(
  text: string,
  htmlHandling: HtmlHandling,
): { rules: RedirectRules; invalid: RuleProblem[] } {
  const rules: RedirectRules = { static: {}, dynamic: [] };
  const invalid: RuleProblem[] = [];
  const seen = new Set<string>();
  let staticCount = 0;
  // A rule that looks static but follows a dynamic one keeps its place in
  // the order by being treated as dynamic.
  let staticAllowed = true;
  for (const { line, content } of ruleLines(text, invalid)) {
    const tokens = content.replace(/\s+#.*$/, "").split(/\s+/);
    if (tokens.length < 2 || tokens.length > 3) {
      invalid.push({ line, message: `expected "source destination [status]", got ${tokens.length} part(s)` });
      continue;
    }
    const [from = "", to = "", statusText = "302"] = tokens;
    const problem = checkRule(from, to, statusText, htmlHandling);
    if (problem) {
      invalid.push({ line, message: problem });
      continue;
    }
    if (seen.has(from)) {
      invalid.push({ line, message: `a rule for ${from} comes earlier; this one is ignored` });
      continue;
    }
    seen.add(from);
    const rule: RedirectRule = { from, to, status: Number(statusText) as RedirectStatus, line };
    if (staticAllowed && !isDynamicPattern(from)) {
      if (staticCount === MAX_STATIC_REDIRECTS) {
        invalid.push({ line, message: `more than ${MAX_STATIC_REDIRECTS} static rules` });
        continue;
      }
      staticCount += 1;
      rules.static[from] = rule;
    } else {
      staticAllowed = false;
      if (rules.dynamic.length === MAX_DYNAMIC_REDIRECTS) {
        invalid.push({
          line,
          message: `more than ${MAX_DYNAMIC_REDIRECTS} dynamic rules; the rest of the file is ignored`,
        });
        break;
      }
      rules.dynamic.push(rule);
    }
  }
  return { rules, invalid };
}

function checkRule(from: string, to: string, statusText: string, htmlHandling: HtmlHandling): string | null {
  if (!from.startsWith("/")) {
    return `source ${from} must be a path starting with /`;
  }
  if ((from.match(/\*/g) ?? []).length > 1) {
    return `source ${from} has more than one *; use :placeholders`;
  }
  const tooBig = patternLimitProblem(from);
  if (tooBig) {
    return `source ${tooBig}`;
  }
  try {
    compilePattern(from);
  } catch {
    return `source ${from} is not a valid pattern (each :placeholder may appear once)`;
  }
  const external = /^https:\/\/[^/]/.test(to);
  if (!external && !to.startsWith("/")) {
    return `destination ${to} must be a path starting with / or an https:// URL`;
  }
  const urlProblem = destinationProblem(to, external);
  if (urlProblem) {
    return `destination ${to} ${urlProblem}`;
  }
  if (!/^\d+$/.test(statusText) || !STATUSES.has(Number(statusText))) {
    return `status ${statusText} is not one of 200, 301, 302, 303, 307, 308`;
  }
  if (statusText === "200" && external) {
    return `a rewrite (200) must point to a path on this site, not ${to}`;
  }
  // These would redirect forever: html_handling strips /index(.html) again.
  if (!external && /\/index(\.html)?$/.test(to.replace(/[?#].*$/, ""))) {
    if (from.endsWith("/*") || (from.endsWith("/") && htmlHandling !== "none")) {
      return `${from} → ${to} would loop (the destination is served at ${from}); use a 200 rewrite of a specific path or not_found_handling`;
    }
  }
  return null;
}

/**
 * Why a destination cannot form a URL whatever a request fills its
 * placeholders with, or null. A visitor chooses what placeholders capture,
 * so none may reach the host of an external destination; with the
 * placeholders filled in, the destination must parse.
 */
function destinationProblem(to: string, external: boolean): string | null {
  if (external) {
    const authority = to.slice("https://".length).split(/[/?#]/, 1)[0] ?? "";
    if (/:[A-Za-z]/.test(authority)) {
      return "puts a placeholder in the host, which a visitor would choose";
    }
  }
  try {
    const url = new URL(fillPlaceholders(to, "x"), "https://site.invalid");
    return external && url.hostname === "" ? "has no host" : null;
  } catch {
    return "is not a valid URL";
  }
}

/** A matched redirect: where to send the request, or which path to serve instead (200). */
export interface RedirectMatch {
  status: RedirectStatus;
  to: string;
}

/**
 * The first rule matching the raw (still percent-encoded) request path,
 * with placeholders filled in. `compiled` holds the dynamic rules' patterns.
 */
export function matchRedirect(
  rules: RedirectRules,
  compiled: readonly Pattern[],
  pathname: string,
): RedirectMatch | null {
  const exact = rules.static[pathname];
  if (exact) {
    return { status: exact.status, to: exact.to };
  }
  for (const [index, rule] of rules.dynamic.entries()) {
    const groups = compiled[index]?.match(pathname);
    if (groups) {
      const to = substitute(rule.to, groups).trim();
      // Relative destinations lose doubled slashes left by empty captures.
      return { status: rule.status, to: hasHost(to) ? to : to.replace(/\/+/g, "/") };
    }
  }
  return null;
}

/**
 * The Location of a redirect to `to`, keeping the request's query unless
 * `to` has its own; null if `to` does not form a URL.
 */
export function redirectLocation(to: string, requestUrl: URL): string | null {
  let destination: URL;
  try {
    destination = new URL(to, requestUrl);
  } catch {
    return null;
  }
  const search = destination.search || requestUrl.search;
  if (destination.origin === requestUrl.origin) {
    return `${destination.pathname}${search}${destination.hash}`;
  }
  return `${destination.origin}${destination.pathname}${search}${destination.hash}`;
}

/**
 * `location` with the query `search` added, unless it has a query of its
 * own: what a redirect decided for a URL without a query becomes for one
 * with it.
 */
export function addQuery(location: string, search: string): string {
  const hashAt = location.indexOf("#");
  const beforeHash = hashAt === -1 ? location : location.slice(0, hashAt);
  if (search === "" || beforeHash.includes("?")) {
    return location;
  }
  return `${beforeHash}${search}${hashAt === -1 ? "" : location.slice(hashAt)}`;
}
