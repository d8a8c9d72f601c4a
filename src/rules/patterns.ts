/**
 * Route patterns, compiled once into matchers that run in linear time
 * whatever the pattern (a backtracking regular expression can take
 * exponential time on a crafted pattern, and one isolate serves every
 * tenant). Every rule file shares this one compiler:
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

const PLACEHOLDER = /:([A-Za-z]\w*)/g;
const HTTPS = "https://";

/** Longest route pattern (a `_redirects` source, a `_headers` path) a deploy accepts. */
export const MAX_PATTERN_LENGTH = 512;

/** Most `*` splats and `:placeholders`, together, in one pattern. */
export const MAX_PATTERN_WILDCARDS = 8;

/** Whether `pattern` has a splat or a placeholder (a "dynamic" rule). */
export function isDynamicPattern(pattern: string): boolean {
  return pattern.includes("*") || /:[A-Za-z]/.test(pattern);
}

/** Whether `pattern` names a host (`https://host/path`). */
export function hasHost(pattern: string): boolean {
  return pattern.startsWith(HTTPS);
}

/**
 * Why a dynamic pattern is too big to accept at deploy, or null. Matching
 * is linear whatever the pattern (see compilePattern); these limits bound
 * its constant. A pattern without wildcards is compared as a whole.
 */
export function patternLimitProblem(pattern: string, { placeholders = true } = {}): string | null {
  const dynamic = placeholders ? isDynamicPattern(pattern) : pattern.includes("*");
  if (dynamic && pattern.length > MAX_PATTERN_LENGTH) {
    return `${pattern.slice(0, 40)}… is longer than ${MAX_PATTERN_LENGTH} characters`;
  }
  const wildcards =
    (pattern.match(/\*/g) ?? []).length + (placeholders ? (pattern.match(PLACEHOLDER) ?? []).length : 0);
  if (wildcards > MAX_PATTERN_WILDCARDS) {
    return `${pattern} has ${wildcards} splats and placeholders; at most ${MAX_PATTERN_WILDCARDS} are allowed`;
  }
  return null;
}

/** A compiled route pattern. */
export interface Pattern {
  /** What the pattern captured (by placeholder name, `splat` for `*`), or null if `target` does not match. */
  match(target: string): Record<string, string> | null;
}

/**
 * A piece of a pattern: literal text, a placeholder (one or more characters
 * that are not `/`, nor `.` in a host), or a splat (anything, possibly
 * nothing). `name` is null for a bare glob.
 */
type Piece =
  | { kind: "text"; text: string }
  | { kind: "one"; name: string; dot: boolean }
  | { kind: "any"; name: string | null };

/**
 * Compiles a pattern. With `placeholders` (the default), `*` is captured as
 * `splat` and `:name` as `name`; without, `*` is a bare glob and the rest is
 * literal. Throws if a name is captured twice.
 *
 * Matching never backtracks: a table of which pieces can match which
 * suffix of the target is filled once, in time proportional to pieces ×
 * target length, and captures are then read off it, each as long as the
 * rest allows (as a greedy regular expression would capture).
 */
export function compilePattern(pattern: string, { placeholders = true } = {}): Pattern {
  const pieces: Piece[] = [];
  const names = new Set<string>();
  const add = (piece: Piece): void => {
    const name = piece.kind === "text" ? null : piece.name;
    if (name !== null) {
      if (names.has(name)) {
        throw new Error(`:${name} appears more than once`);
      }
      names.add(name);
    }
    const last = pieces.at(-1);
    if (piece.kind === "text" && last?.kind === "text") {
      last.text += piece.text;
    } else if (piece.kind !== "text" || piece.text !== "") {
      pieces.push(piece);
    }
  };
  const hostEnd = placeholders && hasHost(pattern) ? pattern.indexOf("/", HTTPS.length) : 0;
  const parts = hostEnd > 0 ? [pattern.slice(0, hostEnd), pattern.slice(hostEnd)] : [pattern];
  for (const [index, part] of parts.entries()) {
    for (const [splatAt, chunk] of part.split("*").entries()) {
      if (splatAt > 0) {
        add({ kind: "any", name: placeholders ? "splat" : null });
      }
      if (!placeholders) {
        add({ kind: "text", text: chunk });
        continue;
      }
      let at = 0;
      for (const found of chunk.matchAll(PLACEHOLDER)) {
        add({ kind: "text", text: chunk.slice(at, found.index) });
        add({ kind: "one", name: found[1] ?? "", dot: index === 0 && parts.length > 1 });
        at = found.index + found[0].length;
      }
      add({ kind: "text", text: chunk.slice(at) });
    }
  }
  return { match: (target) => matchPieces(pieces, target) };
}

/** Characters `.` in a JavaScript regular expression does not match, kept out of splats for the same answers. */
function isLineBreak(code: number): boolean {
  return code === 10 || code === 13 || code === 0x2028 || code === 0x2029;
}

function fits(piece: Piece, code: number): boolean {
  if (piece.kind === "any") {
    return !isLineBreak(code);
  }
  return code !== 47 && !(piece.kind === "one" && piece.dot && code === 46);
}

function matchPieces(pieces: readonly Piece[], target: string): Record<string, string> | null {
  const first = pieces[0];
  const last = pieces.at(-1);
  // Most rules fail on their fixed start or end; those need no table.
  if (first?.kind === "text" && !target.startsWith(first.text)) {
    return null;
  }
  if (last?.kind === "text" && !target.endsWith(last.text)) {
    return null;
  }
  if (first === undefined) {
    return target === "" ? {} : null;
  }
  if (pieces.length === 1 && first.kind === "text") {
    return target === first.text ? {} : null;
  }
  return matchTable(pieces, target);
}

function matchTable(pieces: readonly Piece[], target: string): Record<string, string> | null {
  const n = target.length;
  const width = n + 1;
  // reach[t * width + p]: pieces t.. match target[p..].
  const reach = new Uint8Array((pieces.length + 1) * width);
  reach[pieces.length * width + n] = 1;
  for (let t = pieces.length - 1; t >= 0; t -= 1) {
    const piece = pieces[t] as Piece;
    const here = t * width;
    const next = here + width;
    if (piece.kind === "text") {
      const length = piece.text.length;
      for (let at = target.indexOf(piece.text); at !== -1; at = target.indexOf(piece.text, at + 1)) {
        reach[here + at] = reach[next + at + length] ?? 0;
      }
      continue;
    }
    // `orMore`: the piece may end at p + 1 or take more characters.
    let orMore = 0;
    for (let p = n; p >= 0; p -= 1) {
      const takes = p < n && fits(piece, target.charCodeAt(p));
      if (piece.kind === "any") {
        reach[here + p] = reach[next + p] || (takes && reach[here + p + 1]) ? 1 : 0;
      } else {
        reach[here + p] = takes && orMore ? 1 : 0;
        orMore = reach[next + p] || (takes && orMore) ? 1 : 0;
      }
    }
  }
  if (!reach[0]) {
    return null;
  }
  const groups: Record<string, string> = {};
  let p = 0;
  for (const [t, piece] of pieces.entries()) {
    if (piece.kind === "text") {
      p += piece.text.length;
      continue;
    }
    const next = (t + 1) * width;
    let end = piece.kind === "any" && reach[next + p] ? p : -1;
    for (let q = p; q < n && fits(piece, target.charCodeAt(q)); q += 1) {
      if (reach[next + q + 1]) {
        end = q + 1;
      }
    }
    if (piece.name !== null) {
      groups[piece.name] = target.slice(p, end);
    }
    p = end;
  }
  return groups;
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
