/**
 * `r2-assets.json` and how deploy's options come together: flags, then the
 * file, then defaults. Pure: no file is read.
 */
import { describe, it } from "vitest";
import { isCompressible } from "../../src/cli/compress.ts";
import { checkConfigFile } from "../../src/cli/config-file.ts";
import { deployOptions } from "../../src/cli/deploy-command.ts";

const PATH = "/site/r2-assets.json";

describe("r2-assets.json", () => {
  it("takes every key, with paths relative to the file", ({ expect }) => {
    expect(
      checkConfigFile(
        {
          project: "shop",
          directory: "./dist",
          message: "m",
          html_handling: "none",
          not_found_handling: "404-page",
          run_worker_first: ["/api/*"],
          server: {
            entry: "server/index.ts",
            vars: { A: "1" },
            compatibility_date: "2026-01-01",
            compatibility_flags: ["x"],
          },
          alias: "staging",
        },
        PATH,
      ),
    ).toEqual({
      path: PATH,
      project: "shop",
      directory: "/site/dist",
      message: "m",
      html_handling: "none",
      not_found_handling: "404-page",
      run_worker_first: ["/api/*"],
      server: {
        entry: "/site/server/index.ts",
        vars: { A: "1" },
        compatibility_date: "2026-01-01",
        compatibility_flags: ["x"],
      },
      alias: "staging",
    });
  });

  it("names the key at fault", ({ expect }) => {
    const cases: [unknown, RegExp][] = [
      [[], /must be a JSON object/],
      [{ projet: "x" }, /projet: unknown key/],
      [{ project: 1 }, /project: must be a string/],
      [{ run_worker_first: "yes" }, /run_worker_first: must be/],
      [{ server: { entry: "a.ts", env: {} } }, /server\.env: unknown key/],
      [{ server: {} }, /server\.entry: must be/],
      [{ server: { entry: "a.ts", vars: { A: 1 } } }, /server\.vars: must map/],
      [{ compress: "no" }, /compress: must be true, false or/],
      [{ compress: { exclude: ["data/*.json"] } }, /compress: must be/],
      [{ compress: { include: [] } }, /compress: must be/],
    ];
    for (const [value, message] of cases) {
      expect(() => checkConfigFile(value, PATH), JSON.stringify(value)).toThrow(message);
    }
  });
});

describe("precompression options", () => {
  it("are on by default, off with false or --no-compress, and exclude patterns", ({ expect }) => {
    const file = (compress: unknown) => checkConfigFile({ project: "p", directory: ".", compress }, PATH);
    expect(file(false).compress).toBe(false);
    expect(file(true).compress).toBeUndefined();
    expect(file({ exclude: ["/data/*.json"] }).compress).toEqual({ exclude: ["/data/*.json"] });
    expect(deployOptions({}, file(undefined)).compress).toEqual({ enabled: true, exclude: [] });
    expect(deployOptions({}, file(false)).compress).toEqual({ enabled: false, exclude: [] });
    expect(deployOptions({ compress: false }, file(undefined)).compress).toEqual({ enabled: false, exclude: [] });
    expect(deployOptions({ compress: true }, file(false)).compress).toEqual({ enabled: true, exclude: [] });
    expect(deployOptions({}, file({ exclude: ["/big/*"] })).compress).toEqual({ enabled: true, exclude: ["/big/*"] });
  });
});

describe("deploy's options", () => {
  const file = checkConfigFile(
    {
      project: "shop",
      directory: "./dist",
      not_found_handling: "single-page-application",
      server: { entry: "s.ts", vars: { A: "file", B: "file" } },
    },
    PATH,
  );

  it("come from the file when no flag is given", ({ expect }) => {
    expect(deployOptions({}, file)).toMatchObject({
      dir: "/site/dist",
      project: "shop",
      activate: true,
      config: { not_found_handling: "single-page-application" },
      server: { entry: "/site/s.ts", vars: { A: "file", B: "file" }, compatibilityFlags: [] },
    });
  });

  it("let flags win, key by key", ({ expect }) => {
    const options = deployOptions(
      { dir: "./other", project: "other", notFoundHandling: "none", vars: ["B=flag"] },
      file,
    );
    expect(options).toMatchObject({
      dir: "./other",
      project: "other",
      config: { not_found_handling: "none" },
      server: { vars: { A: "file", B: "flag" } },
    });
  });

  it("leave live alone when deploying to an alias, unless told to activate", ({ expect }) => {
    expect(deployOptions({ alias: "staging" }, file)).toMatchObject({ alias: "staging", activate: false });
    expect(deployOptions({ alias: "staging", activate: true }, file)).toMatchObject({
      alias: "staging",
      activate: true,
    });
    expect(() => deployOptions({ alias: "20261124-082301-123" }, file)).toThrow(/cannot name an alias/);
  });

  it("say what is missing without a file", ({ expect }) => {
    expect(() => deployOptions({ project: "x" }, null)).toThrow(/give the directory/);
    expect(() => deployOptions({ dir: "d" }, null)).toThrow(/--project <name> is required/);
    expect(() => deployOptions({ dir: "d", project: "x", vars: ["A=1"] }, null)).toThrow(/--var needs --server/);
  });
});

describe("what is precompressed", () => {
  it("is text of at least 1 KiB", ({ expect }) => {
    expect(isCompressible("text/html; charset=utf-8", 2048)).toBe(true);
    expect(isCompressible("application/javascript; charset=utf-8", 5000)).toBe(true);
    expect(isCompressible("image/svg+xml", 5000)).toBe(true);
    expect(isCompressible("application/wasm", 5000)).toBe(true);
    expect(isCompressible("text/css", 1023)).toBe(false);
    expect(isCompressible("image/png", 50_000)).toBe(false);
    expect(isCompressible("font/woff2", 50_000)).toBe(false);
    expect(isCompressible("video/mp4", 50_000_000)).toBe(false);
  });
});
