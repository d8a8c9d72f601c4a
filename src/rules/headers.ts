/**
 * `_headers`, in Cloudflare's syntax: a path pattern (or `https://host/path`)
 * on its own line, then indented `Name: value` lines to set and `! Name`
 * lines to remove. A later block for the same path replaces an earlier
 * one. Every matching rule applies, in file order; values may
 * use the pattern's `:placeholders` and `:splat`. Invalid lines are
 * reported with their line number and skipped. Pure.
 */
import {
  compilePattern,
  matchTarget,
  patternLimitProblem,
  ruleLines,
  substitute,
  type Pattern,
  type RuleProblem,
} from "./patterns.ts";

export const MAX_HEADER_RULES = 100;

export interface HeaderRule {
  path: string;
  /**
   * Lowercase name → value. Repeated names are joined with ", ", except
   * Set-Cookie, whose values are joined with a newline (which no value can
   * hold) and sent as a header line each.
   */
  set: Record<string, string>;
  unset: string[];
  line: number;
}

/** A change to make to a response's headers, in order. */
export type HeaderOp = { op: "set" | "append"; name: string; value: string } | { op: "delete"; name: string };

const SET_COOKIE = "set-cookie";

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHeaders(text: string): { rules: HeaderRule[]; invalid: RuleProblem[] } {
  const rules: HeaderRule[] = [];
  const invalid: RuleProblem[] = [];
  let current: HeaderRule | null = null;
  // After a rejected path line, its header lines are skipped silently.
  let skipping = false;

  const close = (): void => {
    if (current) {
      const path = current.path;
      const earlier = rules.findIndex((rule) => rule.path === path);
      if (Object.keys(current.set).length === 0 && current.unset.length === 0) {
        invalid.push({ line: current.line, message: `no headers are given for ${current.path}` });
      } else if (earlier !== -1) {
        // Rules are keyed by their path, as on Cloudflare: a later block for
        // the same path replaces the earlier one, in its place.
        rules[earlier] = current;
      } else {
        rules.push(current);
      }
      current = null;
    }
  };

  for (const { line, content } of ruleLines(text, invalid)) {
    if (content.startsWith("/") || /^[a-z]+:\/\//i.test(content)) {
      close();
      skipping = false;
      if (rules.length === MAX_HEADER_RULES) {
        invalid.push({ line, message: `more than ${MAX_HEADER_RULES} rules; the rest of the file is ignored` });
        break;
      }
      const problem = checkPath(content);
      if (problem) {
        invalid.push({ line, message: problem });
        skipping = true;
        continue;
      }
      current = { path: content, set: {}, unset: [], line };
      continue;
    }
    if (skipping) {
      continue;
    }
    if (!current) {
      invalid.push({ line, message: "a header line must follow a path line (starting with /)" });
      continue;
    }
    if (content.startsWith("!")) {
      const name = content.slice(1).trim().toLowerCase();
      if (!TOKEN.test(name)) {
        invalid.push({ line, message: `"${name}" is not a header name` });
        continue;
      }
      current.unset.push(name);
      continue;
    }
    const colon = content.indexOf(":");
    if (colon === -1) {
      invalid.push({ line, message: 'expected "Name: value" or "! Name"' });
      continue;
    }
    const name = content.slice(0, colon).trim().toLowerCase();
    const value = content.slice(colon + 1).trim();
    if (!TOKEN.test(name)) {
      invalid.push({ line, message: `"${name}" is not a header name` });
      continue;
    }
    if (value === "" || /[\r\n\0]/.test(value)) {
      invalid.push({ line, message: `header ${name} has no valid value` });
      continue;
    }
    const existing = current.set[name];
    current.set[name] = existing ? `${existing}${name === SET_COOKIE ? "\n" : ", "}${value}` : value;
  }
  close();
  return { rules, invalid };
}

function checkPath(path: string): string | null {
  const https = /^https:\/\/[^/]+(\/|$)/.test(path) && !/^https:\/\/[^/]*:\d+(\/|$)/.test(path);
  if (!path.startsWith("/") && !https) {
    return `${path} must be a path starting with / or an https:// URL without a port`;
  }
  const stars = (path.match(/\*/g) ?? []).length;
  if (stars > 1) {
    return `${path} has more than one *; use :placeholders`;
  }
  if (stars === 1 && /:splat(?!\w)/.test(path)) {
    return `${path} uses both * and :splat, which mean the same`;
  }
  const tooBig = patternLimitProblem(path);
  if (tooBig) {
    return tooBig;
  }
  try {
    compilePattern(path);
  } catch {
    return `${path} is not a valid pattern (each :placeholder may appear once)`;
  }
  return null;
}

/**
 * The header changes for a request to `host` + raw `pathname`. A header set
 * by one rule and set again by a later one is appended to; one set by the
 * response itself is replaced.
 */
export function matchHeaders(
  rules: readonly HeaderRule[],
  compiled: readonly Pattern[],
  host: string,
  pathname: string,
): HeaderOp[] {
  const ops: HeaderOp[] = [];
  const setByRules = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    const groups = compiled[index]?.match(matchTarget(rule.path, host, pathname));
    if (!groups) {
      continue;
    }
    for (const name of rule.unset) {
      ops.push({ op: "delete", name });
    }
    for (const [name, template] of Object.entries(rule.set)) {
      const values = name === SET_COOKIE ? template.split("\n") : [template];
      for (const value of values) {
        ops.push({ op: setByRules.has(name) ? "append" : "set", name, value: substitute(value, groups) });
        setByRules.add(name);
      }
    }
  }
  return ops;
}

/** Applies header changes to `headers`. */
export function applyHeaderOps(headers: Headers, ops: readonly HeaderOp[]): void {
  for (const op of ops) {
    if (op.op === "delete") {
      headers.delete(op.name);
    } else if (op.op === "append") {
      headers.append(op.name, op.value);
    } else {
      headers.set(op.name, op.value);
    }
  }
}
