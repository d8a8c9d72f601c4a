/**
 * Fuzzing the API and serving with random and malformed input: paths,
 * headers, ranges, rule files and JSON bodies. Bounded in count and time,
 * and seeded (R2_ASSETS_FUZZ_SEED replays a run): no answer may be a 5xx,
 * and none may take longer than a few seconds.
 */
import { env } from "cloudflare:workers";
import { describe, it, type ExpectStatic } from "vitest";
import { api, createProject, deploy, site, uniqueProject } from "./helpers.ts";

const SEED = Number((env as unknown as Record<string, string | undefined>).R2_ASSETS_FUZZ_SEED ?? 20261125);
const HANG_MS = 5000;

/** A deterministic generator (mulberry32). */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number): number => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chars = (alphabet: string, length: number): string =>
    Array.from({ length }, () => alphabet[int(alphabet.length)] ?? "").join("");
  return { next, int, pick, chars };
}

type Gen = ReturnType<typeof generator>;

const PIECES = [
  "a",
  "b",
  "index",
  "index.html",
  "404.html",
  "..",
  ".",
  "%2e%2e",
  "%2F",
  "%00",
  "%",
  "%zz",
  "é",
  "%C3%A9",
  "%E0%A4%A",
  "[id]",
  "a b",
  "~",
  "*",
  ":splat",
  "x".repeat(300),
  "%252F",
  "\\",
  "api",
  "docs",
  "p",
  "q",
  "x",
  "h",
  "k",
  "",
];

function randomPath(gen: Gen): string {
  const segments = Array.from({ length: 1 + gen.int(6) }, () => gen.pick(PIECES));
  return `/${segments.join("/")}${gen.next() < 0.2 ? "/" : ""}${gen.next() < 0.2 ? `?${gen.chars("a=&%?#/", 6)}` : ""}`;
}

function randomHeaders(gen: Gen): Record<string, string> {
  const headers: Record<string, string> = {};
  const digits = (): string => String(gen.pick([0, 1, 7, 99, 100, 4095, 4096, 10 ** 12, 2 ** 53]));
  if (gen.next() < 0.5) {
    const specs = Array.from({ length: 1 + gen.int(20) }, () =>
      gen.pick([`${digits()}-${digits()}`, `-${digits()}`, `${digits()}-`, "-", "x-y", digits(), ""]),
    );
    headers.range = `${gen.pick(["bytes=", "BYTES =", "items=", "bytes"])}${specs.join(gen.pick([",", ", ", ",,"]))}`;
  }
  if (gen.next() < 0.3) {
    headers["if-none-match"] = gen.pick(["*", '"x"', 'W/"x", "y"', '"', "", gen.chars('"W/,* ', 10)]);
  }
  if (gen.next() < 0.3) {
    headers["if-range"] = gen.pick(['"x"', "Tue, 01 Jan 2030 00:00:00 GMT", "garbage", ""]);
  }
  if (gen.next() < 0.2) {
    headers["if-modified-since"] = gen.pick(["Tue, 01 Jan 1980 00:00:00 GMT", "not a date", ""]);
  }
  if (gen.next() < 0.3) {
    headers["sec-fetch-mode"] = gen.pick(["navigate", "cors", "no-cors", ""]);
  }
  return headers;
}

const RULE_LINES = [
  "/a /b",
  "/* /index.html 200",
  "/x/:id /y/:id 301",
  "/p/* https://example.com/:splat 308",
  "/q https://:splat 302",
  "/r /s 418",
  "/t",
  "# comment",
  "  X-Frame-Options: DENY",
  "/*",
  "  ! Server",
  "https://:sub.localhost/*",
  "  X-Sub: :sub",
  "/h/:a/:a /i",
  "/** /j",
  "/k /l?m=1#n 302",
  "/docs/* /docs/:splat/ 200",
];

function randomRules(gen: Gen): string {
  return Array.from({ length: gen.int(12) }, () =>
    gen.next() < 0.15 ? gen.chars("/*:#! \tabcxyz.:-", 1 + gen.int(30)) : gen.pick(RULE_LINES),
  ).join(gen.pick(["\n", "\r\n"]));
}

async function within<T>(label: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} took over ${HANG_MS} ms (seed ${SEED})`)), HANG_MS);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
  }
}

async function expectNo5xx(expect: ExpectStatic, label: string, response: Promise<Response>): Promise<number> {
  const res = await within(label, response);
  await within(`${label} (body)`, res.arrayBuffer());
  expect(res.status, `${label} (seed ${SEED})`).toBeLessThan(500);
  return res.status;
}

describe("fuzzing", () => {
  it("serving: random paths, methods, ranges and conditionals against random rule files", async ({ expect }) => {
    const gen = generator(SEED);
    const files = {
      "/index.html": "home",
      "/a.html": "a",
      "/docs/index.html": "docs",
      "/404.html": "lost",
      "/b": "x".repeat(5000),
    };
    for (let round = 0; round < 6; round += 1) {
      const project = uniqueProject("fuzz-site");
      await createProject(project);
      const config = {
        html_handling: gen.pick(["auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none"]),
        not_found_handling: gen.pick(["none", "single-page-application", "404-page"]),
        redirects: randomRules(gen),
        headers: randomRules(gen),
      };
      const started = await api("POST", `/api/projects/${project}/deploys`, { body: { config } });
      expect(started.status, JSON.stringify(config)).toBe(201);
      await deploy(project, files, { config });
      for (let request = 0; request < 50; request += 1) {
        const path = randomPath(gen);
        const method = gen.pick(["GET", "GET", "GET", "HEAD", "POST", "DELETE", "OPTIONS"]);
        const headers = randomHeaders(gen);
        const label = `${method} ${path} ${JSON.stringify(headers)} with ${JSON.stringify(config)}`;
        let response: Promise<Response>;
        try {
          response = site(project, path, { method, headers, redirect: "manual" });
        } catch {
          continue; // Not a request any client could send.
        }
        await expectNo5xx(expect, label, response);
      }
    }
  });

  it("the API: random JSON bodies, fields and parameters on every route", async ({ expect }) => {
    const gen = generator(SEED + 1);
    const project = uniqueProject("fuzz-api");
    await createProject(project);
    const { version } = await deploy(project, { "/index.html": "x" });
    const values = (): unknown =>
      gen.pick([
        null,
        true,
        0,
        -1,
        1.5,
        2 ** 60,
        "",
        "x",
        "ab".repeat(32),
        "20261124-082301-123",
        [],
        [1, "a"],
        {},
        { a: 1 },
        "/a",
        "../x",
        "\u0000",
        "é".repeat(100),
      ]);
    const randomBody = (): unknown => {
      const body: Record<string, unknown> = {};
      for (const field of [
        "message",
        "config",
        "server",
        "files",
        "activate",
        "version",
        "to",
        "retention",
        "hash",
        "size",
        "partSize",
        "quotas",
        "scope",
      ]) {
        if (gen.next() < 0.3) {
          body[field] =
            field === "config" && gen.next() < 0.5
              ? { redirects: randomRules(gen), run_worker_first: values() }
              : values();
        }
      }
      return gen.next() < 0.1 ? gen.pick(["{", "[]", "null", '"x"', '{"a":', "\u0000"]) : body;
    };
    const param = (): string =>
      encodeURIComponent(
        // No "..": URLs resolve it before they are sent, which would aim the admin token at other routes.
        gen.pick([version, "20200101-000000-000", "ab".repeat(32), "x", "...", "%00", "1e0", "0", "99999", ""]),
      );
    const routes = [
      ["PUT", () => ""],
      ["GET", () => ""],
      ["PATCH", () => ""],
      ["POST", () => "/tokens"],
      ["DELETE", () => `/tokens/${param()}`],
      ["POST", () => "/deploys"],
      ["POST", () => `/deploys/${param()}/files`],
      ["POST", () => `/deploys/${param()}/finalize`],
      ["PUT", () => `/blobs/${param()}`],
      ["POST", () => "/uploads"],
      ["GET", () => `/uploads/${param()}`],
      ["PUT", () => `/uploads/${param()}/parts/${param()}`],
      ["POST", () => `/uploads/${param()}/complete`],
      ["DELETE", () => `/uploads/${param()}`],
      ["GET", () => "/versions"],
      ["DELETE", () => `/versions/${param()}`],
      ["PUT", () => `/versions/${param()}/pin`],
      ["POST", () => "/activate"],
      ["POST", () => "/rollback"],
    ] as const;
    for (let request = 0; request < 250; request += 1) {
      const [method, suffix] = gen.pick(routes);
      const path = `/api/projects/${gen.next() < 0.1 ? gen.pick(["UPPER", "-x", "a_b", "ghost-project"]) : project}${suffix()}`;
      const body = randomBody();
      const token = gen.next() < 0.1 ? gen.pick([null, "wrong", `r2a_${project}_${"A".repeat(43)}`]) : undefined;
      const label = `${method} ${path} ${JSON.stringify(body)}`;
      const sent = method === "GET" ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      await expectNo5xx(expect, label, api(method, path, { body: sent, token }));
    }
    // The project still serves what it served.
    expect(await (await site(project, "/")).text()).toBe("x");
  });
});
