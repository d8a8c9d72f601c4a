/**
 * Route patterns, compiled once into anchored regular expressions. Every
 * rule file shares this one compiler:
 * - `_redirects` and `_headers`: `*` matches anything (and is available as
 *   `:splat`), `:name` matches one path segment, or one label in the host
 *   of an `https://host/path` pattern;
 * - `run_worker_first`: `*` alone (`:` is an ordinary character there, as
 *   on Cloudflare).
 * Pure.
 */

/** Lines longer than this in a rules file are skipped. */
export const MAX_RULE_LINE_LENGTH = 2000;

/** A line of a rules file that was skipped, and why. */
export interface RuleProblem {
  line: number;
  message: string;
}

/**
 * The lines of a rules file that hold something: trimmed and numbered
 * from 1. Blank lines and `#` comments are passed over; lines over
 * MAX_RULE_LINE_LENGTH, and lines with control characters (which no rule
 * needs, and which could reach a response header), are reported in
 * `invalid` and passed over.
 */
export function* ruleLines(text: string, invalid: RuleProblem[]): Generator<{ line: number; content: string }> {
  for (const [index, raw] of text.split("\n").entries()) {
    const line = index + 1;
    const content = raw.trim();
    if (content === "" || content.startsWith("#")) {
      continue;
    }
    if (content.length > MAX_RULE_LINE_LENGTH) {
      invalid.push({ line, message: `longer than ${MAX_RULE_LINE_LENGTH} characters` });
      continue;
    }
    if (CONTROL.test(content)) {
      invalid.push({ line, message: "contains a control character" });
      continue;
    }
    yield { line, content };
  }
}

/** Control characters other than tab. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const REGEXP_SPECIALS = /[-/\\^$*+?.()|[\]{}]/g;
const PLACEHOLDER = /:([A-Za-z]\w*)/g;
const HTTPS = "https://";

/** Whether `pattern` has a splat or a placeholder (a "dynamic" rule). */
export function isDynamicPattern(pattern: string): boolean {
  return pattern.includes("*") || /:[A-Za-z]/.test(pattern);
}

/** Whether `pattern` names a host (`https://host/path`). */
export function hasHost(pattern: string): boolean {
  return pattern.startsWith(HTTPS);
}

/**
 * Compiles a pattern into an anchored RegExp. With `placeholders` (the
 * default), `*` is captured as `splat` and `:name` as `name`; without, `*`
 * is a bare glob and the rest is literal.
 */
export function compilePattern(pattern: string, { placeholders = true } = {}): RegExp {
  if (!placeholders) {
    return new RegExp(`^${pattern.split("*").map(escape).join(".*")}$`);
  }
  const hostEnd = hasHost(pattern) ? pattern.indexOf("/", HTTPS.length) : 0;
  const compilePart = (part: string, placeholder: string): string =>
    part
      .split("*")
      .map((piece) => escape(piece).replace(PLACEHOLDER, (_, name: string) => `(?<${name}>${placeholder})`))
      .join("(?<splat>.*)");
  const host = hostEnd > 0 ? compilePart(pattern.slice(0, hostEnd), "[^/.]+") : "";
  const path = compilePart(hostEnd > 0 ? pattern.slice(hostEnd) : pattern, "[^/]+");
  return new RegExp(`^${host}${path}$`);
}

/** What a request is matched as: its path, or `https://host/path` for host rules. */
export function matchTarget(pattern: string, host: string, pathname: string): string {
  return hasHost(pattern) ? `${HTTPS}${host}${pathname}` : pathname;
}

/** `template` with every placeholder replaced by `value`. */
export function fillPlaceholders(template: string, value: string): string {
  return template.replace(PLACEHOLDER, value);
}

/** Replaces `:name` (and `:splat`) in `template` with what a match captured. */
export function substitute(template: string, groups: Record<string, string | undefined>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => groups[name] ?? whole);
}

function escape(text: string): string {
  return text.replace(REGEXP_SPECIALS, "\\$&");
}
