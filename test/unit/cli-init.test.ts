/** `r2-assets init`'s guess of a starter config, from a directory listing. Pure. */
import { describe, it } from "vitest";
import { guessConfig, projectNameFrom } from "../../src/cli/init.ts";

describe("init's guess", () => {
  it("picks the build directory that has an index.html, the likeliest first", ({ expect }) => {
    const config = guessConfig({
      name: "site",
      directories: { public: ["favicon.ico"], dist: ["index.html", "assets/app-x1.js"] },
    });
    expect(config).toEqual({ project: "site", directory: "./dist", not_found_handling: "single-page-application" });
    expect(guessConfig({ name: "s", directories: { build: ["index.html"], dist: ["index.html"] } }).directory).toBe(
      "./dist",
    );
    expect(guessConfig({ name: "s", directories: { public: ["index.html"], dist: ["a.js"] } }).directory).toBe(
      "./public",
    );
    expect(guessConfig({ name: "s", directories: {} }).directory).toBe("./dist");
  });

  it("calls a build with one page a single-page app, one with a 404.html a site with a 404 page", ({ expect }) => {
    const mode = (files: string[]): string =>
      guessConfig({ name: "s", directories: { dist: files } }).not_found_handling;
    expect(mode(["index.html", "assets/index-DLkpbOgU.js"])).toBe("single-page-application");
    expect(mode(["index.html", "about/index.html"])).toBe("none");
    expect(mode(["index.html", "about.html", "404.html"])).toBe("404-page");
    expect(mode(["app.js"])).toBe("none");
  });

  it("names the project after the package, else the directory, as a DNS label", ({ expect }) => {
    expect(guessConfig({ name: "dir", packageName: "@acme/My_Shop", directories: {} }).project).toBe("my-shop");
    expect(projectNameFrom("My Site!")).toBe("my-site");
    expect(projectNameFrom("---")).toBe("my-site");
    expect(projectNameFrom("a".repeat(80))).toBe("a".repeat(63));
  });
});
