/**
 * The route-pattern compiler (#19): the same answers as the backtracking
 * regular expressions it replaced, in time linear in the target whatever
 * the pattern, and limits checked at deploy.
 */
import { describe, it } from "vitest";
import { parseHeaders } from "../../src/rules/headers.ts";
import {
  compilePattern,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_WILDCARDS,
  patternLimitProblem,
} from "../../src/rules/patterns.ts";
import { parseRedirects } from "../../src/rules/redirects.ts";
import { checkRunWorkerFirst } from "../../src/rules/worker-first.ts";

/** The regular expression the old compiler built: the oracle for what a match captures. */
function oracle(pattern: string, placeholders = true): RegExp {
  const escape = (text: string): string => text.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");
  if (!placeholders) {
    return new RegExp(`^${pattern.split("*").map(escape).join(".*")}$`);
  }
  const hostEnd = pattern.startsWith("https://") ? pattern.indexOf("/", 8) : 0;
  const part = (text: string, one: string): string =>
    text
      .split("*")
      .map((piece) => escape(piece).replace(/:([A-Za-z]\w*)/g, (_, name: string) => `(?<${name}>${one})`))
      .join("(?<splat>.*)");
  const host = hostEnd > 0 ? part(pattern.slice(0, hostEnd), "[^/.]+") : "";
  return new RegExp(`^${host}${part(hostEnd > 0 ? pattern.slice(hostEnd) : pattern, "[^/]+")}$`);
}

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("route patterns", () => {
  it("capture what the regular expressions captured", ({ expect }) => {
    const cases: [string, string][] = [
      ["/blog/*", "/blog/2024/post"],
      ["/blog/*", "/blog/"],
      ["/u/:id", "/u/42"],
      ["/u/:id", "/u/"],
      ["/:a/:b/*", "/x/y/z/w"],
      ["/files/:name.:ext", "/files/a.b.c"],
      ["https://:sub.example.com/*", "https://shop.example.com/a/b"],
      ["https://:sub.example.com/*", "https://a.b.example.com/a"],
      ["/a*b", "/aXbYb"],
      ["/x:splat", "/xyz"],
    ];
    for (const [pattern, target] of cases) {
      expect(compilePattern(pattern).match(target), `${pattern} ${target}`).toEqual(
        oracle(pattern).exec(target)?.groups ?? (oracle(pattern).test(target) ? {} : null),
      );
    }
  });

  it("agree with the regular expressions on thousands of random patterns and paths", ({ expect }) => {
    const next = random(19);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const atoms = ["/", "a", "b", ".", "-", "*", ":p", ":q", ":r", "ab", "/a"];
    const chars = ["/", "a", "b", ".", "-", "x"];
    let matched = 0;
    for (let round = 0; round < 4000; round += 1) {
      const names = new Set<string>();
      let pattern = "/";
      for (let i = Math.floor(next() * 6); i > 0; i -= 1) {
        let atom = pick(atoms);
        if (atom.startsWith(":") && names.has(atom)) {
          atom = "a";
        }
        if (atom === "*" && pattern.includes("*")) {
          atom = "b";
        }
        names.add(atom);
        pattern += atom;
      }
      const placeholders = next() < 0.8;
      let target = "/";
      for (let i = Math.floor(next() * 8); i > 0; i -= 1) {
        target += pick(chars);
      }
      const expected = oracle(pattern, placeholders).exec(target);
      const got = compilePattern(pattern, { placeholders }).match(target);
      expect(got, `${pattern} (placeholders: ${placeholders}) against ${target}`).toEqual(
        expected ? { ...expected.groups } : null,
      );
      matched += expected ? 1 : 0;
    }
    // Enough of them match for the captures to have been compared.
    expect(matched).toBeGreaterThan(300);
  });

  it("refuse a name captured twice", ({ expect }) => {
    expect(() => compilePattern("/:a/:a")).toThrow(/:a appears more than once/);
    expect(() => compilePattern("/*/:splat")).toThrow(/:splat/);
  });

  it("are limited in wildcards and length at deploy, with the line named", ({ expect }) => {
    const many = `/${Array.from({ length: MAX_PATTERN_WILDCARDS + 1 }, (_, i) => `:p${i}`).join("")}/z`;
    expect(patternLimitProblem(many)).toMatch(/at most 8/);
    expect(patternLimitProblem(`/${"a".repeat(MAX_PATTERN_LENGTH)}*`)).toMatch(/longer than 512/);
    // A pattern without wildcards is compared whole; its length costs nothing.
    expect(patternLimitProblem(`/${"a".repeat(MAX_PATTERN_LENGTH)}`)).toBeNull();
    expect(parseRedirects(`/ok /x\n${many} /x 302`, "auto-trailing-slash").invalid).toEqual([
      { line: 2, message: expect.stringMatching(/^source .* at most 8 are allowed$/) as unknown as string },
    ]);
    expect(parseHeaders(`${many}\n  X-A: b`).invalid[0]?.line).toBe(1);
    const workerFirst = checkRunWorkerFirst([`/${"*a".repeat(MAX_PATTERN_WILDCARDS + 1)}`]);
    expect(workerFirst.ok ? null : workerFirst.failure.message).toMatch(/at most 8/);
  });
});

describe("route patterns in linear time (benchmark-style bound)", () => {
  /**
   * The patterns that stalled the platform with backtracking, and paths
   * built to make them work hardest. Each must answer in well under the
   * bound even on a busy machine; a backtracking matcher takes seconds on
   * the first and never finishes the others.
   */
  it("answer the worst pattern-and-path pairs within a generous bound", ({ expect }) => {
    const pathological: [string, boolean][] = [
      ["/:a:b:c:d:e:f:g:h/z", true],
      ["/:a:b:c:d:e:f:g:h", true],
      ["/*:a:b:c:d:e:f:g/z", true],
      ["https://:a:b:c:d:e:f.x/*", true],
      ["/*a*a*a*a*a*a*a*ab", false],
      ["/*/*/*/*/*/*/*/*x", false],
    ];
    const next = random(7);
    let worst = 0;
    for (const [pattern, placeholders] of pathological) {
      const compiled = compilePattern(pattern, { placeholders });
      const targets = [
        `/${"a".repeat(4000)}`,
        `/${"a".repeat(4000)}/`,
        `/${"/a".repeat(2000)}`,
        `https://${"a".repeat(4000)}.x/`,
        `/${Array.from({ length: 4000 }, () => (next() < 0.5 ? "a" : "/")).join("")}`,
      ];
      for (const target of targets) {
        const started = performance.now();
        compiled.match(target);
        worst = Math.max(worst, performance.now() - started);
      }
    }
    // Each of these takes well under a millisecond; a backtracking matcher
    // takes longer than the age of the universe on some of them.
    expect(worst).toBeLessThan(250);
  });
});
