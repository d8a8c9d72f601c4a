/**
 * The real CLI against a real `wrangler dev`: deploy, redeploy, roll back,
 * list versions, and the errors a user meets.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, it, type ExpectStatic } from "vitest";
import { runCli, startPlatform, writeFiles, writeSite, type Platform } from "./platform.ts";

let platform: Platform;

beforeAll(async () => {
  platform = await startPlatform();
});

afterAll(async () => {
  await platform?.stop();
});

const SITE: Record<string, string | Uint8Array> = {
  "index.html": "<!doctype html><h1>Hello</h1>",
  "about/index.html": "<h1>About</h1>",
  "assets/app.3f9a.js": "console.log('app');",
  "assets/style.css": "body{margin:0}",
  "media/noise.bin": randomBytes(300_000),
  "files/empty.txt": "",
  "files/ünïcode name.txt": "unicode",
  "robots.txt": "User-agent: *",
};

interface DeployJson {
  project: string;
  version: string;
  active: boolean;
  files: number;
  uploaded: number;
  skipped: number;
  bytesUploaded: number;
  url: string;
  previewUrl: string;
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

async function expectServed(
  expect: ExpectStatic,
  project: string,
  files: Record<string, string | Uint8Array>,
  version: string,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    // HTML is served at its canonical URL: /about/index.html at /about/.
    const canonical = path.replace(/(^|\/)index\.html$/, "$1").replace(/\.html$/, "");
    const url = `/${canonical.split("/").map(encodeURIComponent).join("/")}`;
    const res = await platform.request(project, url);
    expect(res.status, path).toBe(200);
    expect(res.headers["x-r2-assets-version"], path).toBe(version);
    expect(Buffer.compare(res.body, Buffer.from(content)), path).toBe(0);
  }
}

describe("deploy, redeploy, roll back", () => {
  it("serves every byte of v1, uploads one file for v2, and rolls back to v1 exactly", async ({ expect }) => {
    const dir = await writeSite(SITE);
    const first = await platform.cli(["deploy", dir, "--project", "site", "--message", "first", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const v1 = parseJson<DeployJson>(first.stdout);
    expect(Object.keys(v1).sort()).toEqual([
      "active",
      "bytes",
      "bytesUploaded",
      "compressedBytes",
      "compressedFiles",
      "files",
      "immutable",
      "partsSkipped",
      "partsUploaded",
      "previewUrl",
      "project",
      "skipped",
      "uploaded",
      "url",
      "version",
    ]);
    expect(v1).toMatchObject({ project: "site", active: true, files: 8, uploaded: 8, skipped: 0 });
    expect(v1.url).toBe(`http://site.localhost:${platform.port}/`);
    expect(v1.previewUrl).toBe(`http://${v1.version}.site.localhost:${platform.port}/`);
    await expectServed(expect, "site", SITE, v1.version);

    const changed = { ...SITE, "assets/style.css": "body{margin:1px}" };
    await writeFiles(dir, changed);
    const second = await platform.cli(["deploy", dir, "--project", "site", "--message", "second", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const v2 = parseJson<DeployJson>(second.stdout);
    expect(v2).toMatchObject({ active: true, files: 8, uploaded: 1, skipped: 7, bytesUploaded: 16 });
    await expectServed(expect, "site", changed, v2.version);

    const rolled = await platform.cli(["rollback", "--project", "site", "--json"]);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(parseJson(rolled.stdout)).toEqual({ project: "site", active: v1.version, previous: v2.version });
    await expectServed(expect, "site", SITE, v1.version);

    const listed = await platform.cli(["versions", "--project", "site", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const versions = parseJson<Record<string, unknown>[]>(listed.stdout);
    expect(versions.map((v) => [v.version, v.active, v.message, v.files])).toEqual([
      [v2.version, false, "second", 8],
      [v1.version, true, "first", 8],
    ]);
    expect(Object.keys(versions[0] ?? {}).sort()).toEqual([
      "active",
      "bytes",
      "compressedBytes",
      "createdAt",
      "files",
      "immutableFiles",
      "message",
      "version",
    ]);

    const activated = await platform.cli(["activate", v2.version, "--project", "site", "--json"]);
    expect(parseJson(activated.stdout)).toEqual({ project: "site", active: v2.version, previous: v1.version });
    await expectServed(expect, "site", changed, v2.version);
  });

  it("prints readable progress and results without --json", async ({ expect }) => {
    const dir = await writeSite({ "index.html": "plain", "a.txt": "a" });
    const result = await platform.cli(["deploy", dir, "--project", "plain"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^Hashing: 2 file\(s\)/m);
    expect(result.stderr).toMatch(/^Uploaded 2 new file\(s\)/m);
    expect(result.stdout).toMatch(/Deployed plain version \d{8}-\d{6}-\d{3}: 2 file\(s\), 2 uploaded/);
    expect(result.stdout).toContain(`http://plain.localhost:${platform.port}/`);
    const versions = await platform.cli(["versions", "--project", "plain"]);
    expect(versions.stdout).toMatch(/^\s*VERSION\s+CREATED\s+FILES\s+SIZE\s+MESSAGE/m);
  });

  it("skips what .assetsignore lists", async ({ expect }) => {
    const dir = await writeSite({ "index.html": "x", "app.js.map": "secret", ".assetsignore": "*.map\n" });
    const result = await platform.cli(["deploy", dir, "--project", "ignoring", "--json"]);
    expect(parseJson<DeployJson>(result.stdout).files).toBe(1);
    expect((await platform.request("ignoring", "/app.js.map")).status).toBe(404);
    expect((await platform.request("ignoring", "/.assetsignore")).status).toBe(404);
  });

  it("stages a --no-activate deploy without serving it", async ({ expect }) => {
    const dir = await writeSite({ "v.txt": "one" });
    const v1 = parseJson<DeployJson>((await platform.cli(["deploy", dir, "--project", "staging", "--json"])).stdout);
    await writeFiles(dir, { "v.txt": "two" });
    const staged = await platform.cli(["deploy", dir, "--project", "staging", "--no-activate", "--json"]);
    const v2 = parseJson<DeployJson>(staged.stdout);
    expect(v2.active).toBe(false);
    expect((await platform.request("staging", "/v.txt")).body.toString()).toBe("one");
    await platform.cli(["activate", v2.version, "--project", "staging"]);
    expect((await platform.request("staging", "/v.txt")).body.toString()).toBe("two");
    expect(v1.version < v2.version).toBe(true);
  });
});

describe("caching a real build", () => {
  it("serves a Vite build's hashed files immutable, says which before going live, and follows its manifest", async ({
    expect,
  }) => {
    // Names from a default Vite 7.3.8 build, a file copied from public/ beside them, and a build
    // manifest (build.manifest) that names a file whose name carries no hash.
    const files: Record<string, string> = {
      "index.html": "<!doctype html><script type=module src=/assets/index-CpQ1mzEE.js></script>",
      "assets/index-CpQ1mzEE.js": "import('./m10-DBGHPJDR.js')",
      "assets/m1-ESflvG6l.js": "export default 1",
      "assets/m10-DBGHPJDR.js": "export default 10",
      "assets/m41-DwZr_tmi.js": "export default 41",
      "assets/m6-Cyq-f7Nc.js": "export default 6",
      "assets/icon-Settings.svg": "<svg/>",
      "legacy/app.js": "console.log('listed by the manifest')",
      ".vite/manifest.json": JSON.stringify({
        "index.html": { file: "assets/index-CpQ1mzEE.js", isEntry: true },
        "legacy.js": { file: "legacy/app.js" },
      }),
    };
    const dir = await writeSite(files);
    const immutable = [
      "/assets/index-CpQ1mzEE.js",
      "/assets/m1-ESflvG6l.js",
      "/assets/m10-DBGHPJDR.js",
      "/assets/m41-DwZr_tmi.js",
      "/assets/m6-Cyq-f7Nc.js",
      "/legacy/app.js",
    ];
    const plan = await platform.cli(["deploy", dir, "--project", "vite", "--dry-run", "--json"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(parseJson<{ immutable: string[] }>(plan.stdout).immutable.toSorted()).toEqual(immutable);

    const deployed = await platform.cli(["deploy", dir, "--project", "vite", "--json"]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(parseJson<{ immutable: number }>(deployed.stdout).immutable).toBe(immutable.length);
    for (const path of Object.keys(files).map((file) => `/${file}`)) {
      const served = await platform.request("vite", path === "/index.html" ? "/" : path);
      expect([path, served.headers["cache-control"]]).toEqual([
        path,
        immutable.includes(path) ? "public, max-age=31536000, immutable" : "public, max-age=0, must-revalidate",
      ]);
    }
    const versions = await platform.cli(["versions", "--project", "vite", "--json"]);
    expect(parseJson<{ immutableFiles: number }[]>(versions.stdout)[0]?.immutableFiles).toBe(immutable.length);
  });
});

describe("many small files", () => {
  it("uploads them in batches, then rehashes and uploads only what changed", async ({ expect }) => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 2500; i += 1) {
      files[`docs/${Math.floor(i / 100)}/page-${i}.txt`] = randomBytes(200 + (i % 50) * 40);
    }
    const dir = await writeSite(files);
    const first = await platform.cli(["deploy", dir, "--project", "many", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(parseJson<DeployJson>(first.stdout).uploaded).toBe(2500);
    const sample = Object.keys(files).filter((_, i) => i % 97 === 0);
    const v1 = parseJson<DeployJson>(first.stdout).version;
    await expectServed(expect, "many", Object.fromEntries(sample.map((path) => [path, files[path] ?? ""])), v1);

    // Unchanged: nothing is hashed again, nothing uploaded, and no version made (#27).
    const unchanged = await platform.cli(["deploy", dir, "--project", "many"]);
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stderr).toMatch(/^Hashed 0 file\(s\), 0 B; 2500 unchanged since the last hash/m);
    expect(unchanged.stdout).toMatch(new RegExp(`^Nothing changed: many version ${v1} already has these files`));
    const forced = await platform.cli(["deploy", dir, "--project", "many", "--force", "--json"]);
    expect(parseJson<DeployJson>(forced.stdout)).toMatchObject({ files: 2500, uploaded: 0 });
    expect(parseJson<DeployJson>(forced.stdout).version).not.toBe(v1);

    // 1% changed: those are hashed and uploaded.
    const changed: Record<string, Uint8Array> = {};
    for (const path of Object.keys(files).filter((_, i) => i % 100 === 7)) {
      changed[path] = randomBytes(300);
    }
    await writeFiles(dir, changed);
    const third = await platform.cli(["deploy", dir, "--project", "many"]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/^Hashed 25 file\(s\), .*; 2475 unchanged since the last hash/m);
    expect(third.stdout).toMatch(/2500 file\(s\), 25 uploaded/);
    const v3 = /version (\S+):/.exec(third.stdout)?.[1] ?? "";
    await expectServed(expect, "many", changed, v3);

    // --no-cache hashes everything.
    const uncached = await platform.cli(["deploy", dir, "--project", "many", "--no-cache", "--dry-run"]);
    expect(uncached.stderr).toMatch(/^Hashed 2500 file\(s\)/m);
    expect(uncached.stdout).toMatch(/would upload 0 /);
  });
});

describe("tokens, deletion and garbage collection", () => {
  it("deploys with a project token, which other projects refuse", async ({ expect }) => {
    await platform.cli(["project", "create", "tok-a"]);
    await platform.cli(["project", "create", "tok-b"]);
    const created = await platform.cli(["token", "create", "--project", "tok-a"]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const dir = await writeSite({ "index.html": "a" });
    const ok = await platform.cli(["deploy", dir, "--project", "tok-a", "--token", token, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    const denied = await platform.cli(["deploy", dir, "--project", "tok-b", "--token", token]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr.trim()).toBe("r2-assets: error: this token is for project tok-a, not tok-b");
  });

  it("deletes a version and collects its blobs", async ({ expect }) => {
    const dir = await writeSite({ "a.txt": "first content" });
    const v1 = parseJson<DeployJson>((await platform.cli(["deploy", dir, "--project", "cleanup", "--json"])).stdout);
    await writeFiles(dir, { "a.txt": "second content" });
    await platform.cli(["deploy", dir, "--project", "cleanup"]);
    const deleted = await platform.cli(["delete-version", v1.version, "--project", "cleanup"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gc = await platform.cli(["gc", "--project", "cleanup", "--json"]);
    expect(parseJson(gc.stdout)).toMatchObject({ project: "cleanup", deleted: 1, bytesFreed: 13 });
    expect((await platform.request("cleanup", "/a.txt")).body.toString()).toBe("second content");
  });
});

describe("errors", () => {
  it("fails with one line and a non-zero exit", async ({ expect }) => {
    const empty = await mkdtemp(`${tmpdir()}/r2a-empty-`);
    const notADir = `${await mkdtemp(`${tmpdir()}/r2a-file-`)}/file.txt`;
    await writeFile(notADir, "x");
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [["deploy", empty, "--project", "empty"], /has no files to deploy/],
      [["deploy", notADir, "--project", "x"], /is not a directory/],
      [["deploy", empty, "--project", "Bad_Name"], /not a valid project name/],
      [["deploy", empty], /--project <name> is required/],
      [["versions", "--project", "does-not-exist"], /project does not exist/],
      [["rollback", "--project", "does-not-exist"], /project does not exist/],
      [["rollback", "--project", "site", "--to", "nonsense"], /not a version id/],
      [["rollback", "--project", "site", "--to", "20200101-000000-000"], /version 20200101-000000-000 does not exist/],
      [["deploy", empty, "--project", "x", "--html-handling", "sometimes"], /--html-handling: must be one of/],
      [
        ["versions", "--project", "site"],
        /the token was refused: set R2_ASSETS_TOKEN or pass --token/,
        { R2_ASSETS_TOKEN: "wrong" },
      ],
      [["versions", "--project", "site"], /no token was given: .*ADMIN_TOKEN in \.dev\.vars/, { R2_ASSETS_TOKEN: "" }],
      [["frobnicate"], /unknown command/],
      [["deploy", empty, "--project", "x", "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, message, env] of cases) {
      const result = await platform.cli(args, env);
      expect(result.code, args.join(" ")).not.toBe(0);
      const lines = result.stderr.trim().split("\n");
      expect(lines, args.join(" ")).toHaveLength(1);
      expect(lines[0], args.join(" ")).toMatch(/^r2-assets: error: /);
      expect(lines[0], args.join(" ")).toMatch(message);
    }
  });

  it("says when the platform cannot be reached", async ({ expect }) => {
    const result = await runCli(["versions", "--project", "x"], {
      R2_ASSETS_URL: "http://127.0.0.1:9",
      R2_ASSETS_TOKEN: "t",
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^r2-assets: error: cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});
