/**
 * Server code: run_worker_first patterns, the checks on what a deploy
 * sends (its `server` field and the bundle it names), and how the CLI
 * collects an entry's local imports and reports bundling errors.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "vitest";
import { oneLine } from "../../src/cli/bundle.ts";
import { parseVars } from "../../src/cli/args.ts";
import { collectServerFiles } from "../../src/cli/server-files.ts";
import { serverFailure } from "../../src/loader/failure.ts";
import { checkRunWorkerFirst, compileRunWorkerFirst, workerFirst } from "../../src/rules/worker-first.ts";
import { checkBundle, checkCompatibilityDate, checkServerDeploy, checkVarName } from "../../src/shared/server-code.ts";

describe("run_worker_first", () => {
  const cases: [boolean | string[], string, boolean][] = [
    [true, "/anything", true],
    [false, "/api/x", false],
    [["/api/*"], "/api/users/1", true],
    [["/api/*"], "/api", false],
    [["/api/*"], "/about", false],
    [["/api/*", "!/api/docs/*"], "/api/docs/intro", false],
    [["/api/*", "!/api/docs/*"], "/api/v1", true],
    [["/exact"], "/exact", true],
    [["/exact"], "/exact/more", false],
    [["/*.json"], "/data/x.json", true],
  ];
  for (const [rules, path, expected] of cases) {
    it(`${JSON.stringify(rules)} ${path} → ${expected ? "server code" : "assets"}`, ({ expect }) => {
      expect(workerFirst(compileRunWorkerFirst(rules), path) === "server").toBe(expected);
    });
  }

  it("refuses malformed rules", ({ expect }) => {
    for (const bad of [[], ["api/*"], ["!api"], ["!/api/*"], ["/a", "/a"], [`/${"x".repeat(100)}`], "yes", [1]]) {
      expect(checkRunWorkerFirst(bad), JSON.stringify(bad)).toMatchObject({
        ok: false,
        failure: { details: { field: "run_worker_first" } },
      });
    }
    expect(checkRunWorkerFirst(["/api/*", "!/api/docs/*"])).toEqual({ ok: true, value: ["/api/*", "!/api/docs/*"] });
  });
});

describe("server checks", () => {
  const now = Date.UTC(2026, 10, 24);
  const bundle = { hash: "ab".repeat(32), size: 10 };

  it("fills in defaults", ({ expect }) => {
    expect(checkServerDeploy({ bundle }, now)).toEqual({
      ok: true,
      value: { bundle, settings: { compatibilityDate: "2026-11-01", compatibilityFlags: [], vars: {} } },
    });
  });

  it("names variables, dates and flags that are wrong", ({ expect }) => {
    expect(checkVarName("API_KEY")).toBeNull();
    expect(checkVarName("2FA")).toMatch(/letters/);
    expect(checkVarName("ASSETS")).toMatch(/binding/);
    expect(checkCompatibilityDate("2026-01-01", now)).toBeNull();
    expect(checkCompatibilityDate("2026-13-01", now)).toMatch(/YYYY-MM-DD/);
    expect(checkCompatibilityDate("2027-01-01", now)).toMatch(/future/);
    expect(checkServerDeploy({ bundle: { hash: "x", size: 1 } }, now)).toMatchObject({
      failure: { details: { field: "server.bundle" } },
    });
    expect(checkServerDeploy({ bundle: { ...bundle, size: 11 * 1024 * 1024 } }, now)).toMatchObject({
      failure: { code: "payload_too_large", details: { field: "server.bundle.size" } },
    });
    expect(checkServerDeploy({ bundle, vars: { "a-b": "x" } }, now)).toMatchObject({
      failure: { details: { field: "server.vars.a-b" } },
    });
  });

  it("takes bundles in the Worker Loader's module format only", ({ expect }) => {
    expect(
      checkBundle({ mainModule: "a.js", modules: { "a.js": "export default {}", "b.json": { json: {} } } }).ok,
    ).toBe(true);
    for (const bad of [
      null,
      { mainModule: "a.js" },
      { mainModule: "a.js", modules: {} },
      { mainModule: "c.js", modules: { "a.js": "" } },
      { mainModule: "a.js", modules: { "a.js": "", "../b.js": "" } },
      { mainModule: "a.js", modules: { "a.js": { js: "", text: "" } } },
      { mainModule: "a.js", modules: { "a.js": { wasm: "" } } },
      { mainModule: "__r2_assets_start.js", modules: { "__r2_assets_start.js": "" } },
    ]) {
      expect(checkBundle(bad), JSON.stringify(bad)).toMatchObject({
        ok: false,
        failure: { details: { field: "server.bundle" } },
      });
    }
  });
});

describe("collectServerFiles", () => {
  async function tree(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), "r2a-server-"));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  }

  it("takes the entry and the local files it imports, however written", async ({ expect }) => {
    const root = await tree({
      "server/index.ts":
        'import { a } from "./a";\nimport b from "../shared/b.js";\nexport * from "./c.ts";\nimport "./side";\nimport { Hono } from "hono";\nconst lazy = () => import("./lazy");',
      "server/a.ts": 'export const a = 1; import { d } from "./nested/d";',
      "server/nested/d/index.ts": "export const d = 4;",
      "shared/b.ts": "export default 2;",
      "server/c.ts": "export const c = 3;",
      "server/side.js": "globalThis.x = 1;",
      "server/lazy.mjs": "export default 5;",
      "server/unused.ts": "never imported",
    });
    const collected = await collectServerFiles(join(root, "server/index.ts"));
    expect(collected.entry).toBe("server/index.ts");
    expect(Object.keys(collected.files).sort()).toEqual([
      "server/a.ts",
      "server/c.ts",
      "server/index.ts",
      "server/lazy.mjs",
      "server/nested/d/index.ts",
      "server/side.js",
      "shared/b.ts",
    ]);
  });

  it("says which import is missing", async ({ expect }) => {
    const root = await tree({ "index.ts": 'import { x } from "./nope";' });
    await expect(collectServerFiles(join(root, "index.ts"))).rejects.toThrow(/imports \.\/nope, which does not exist/);
  });

  it("parses --var KEY=VALUE", ({ expect }) => {
    expect(parseVars(["A=1", "B=x=y", "C="])).toEqual({ A: "1", B: "x=y", C: "" });
    expect(() => parseVars(["novalue"])).toThrow(/KEY=VALUE/);
  });
});

describe("bundler messages", () => {
  it("come out on one line, naming files as the user wrote them", ({ expect }) => {
    const esbuild =
      'Build failed with 2 errors:\nvirtual:gone.ts:1:21: ERROR: Unexpected ";"\nvirtual:lib/a.ts:3:1: ERROR: Expected "}"\n';
    expect(oneLine(esbuild)).toBe('gone.ts:1:21: ERROR: Unexpected ";"; lib/a.ts:3:1: ERROR: Expected "}"');
    expect(oneLine("plain message")).toBe("plain message");
  });
});

describe("failures of server code", () => {
  const cases: [string, 500 | 503][] = [
    ["Worker exceeded CPU time limit.", 503],
    ["Worker exceeded memory limit.", 503],
    ["The Worker's CPU limit was reached", 503],
    ["boom", 500],
    ["rate limit of the upstream API reached", 500],
    ["The script will never generate a response.", 500],
    ["Cannot read properties of undefined (reading 'time')", 500],
  ];
  for (const [message, status] of cases) {
    it(`${JSON.stringify(message)} → ${status}`, ({ expect }) => {
      expect(serverFailure(message).status).toBe(status);
    });
  }
});
