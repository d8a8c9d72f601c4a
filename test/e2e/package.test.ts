/**
 * The CLI as a site installs it: `npm run pack:cli` writes a tarball, which
 * is installed into an empty site directory with the system Node (20 on
 * these machines; the repository's Node 22 is kept off the PATH), and every
 * command runs from that directory against a real `wrangler dev`, each
 * printing exactly one JSON document with --json.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { brotliDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ROOT, startPlatform, writeFiles, type CliResult, type Platform } from "./platform.ts";

const run = promisify(execFile);

/** PATH without any node_modules/.bin: the machine's own Node and npm. */
const SYSTEM_PATH = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((dir) => !dir.includes("node_modules"))
  .join(delimiter);

let platform: Platform;
let site: string;
let installed: { seconds: number; bytes: number; node: string };

beforeAll(async () => {
  platform = await startPlatform();
  const packed = await run("npm", ["run", "-s", "pack:cli"], { cwd: ROOT });
  const tarball = packed.stdout.trim().split("\n").at(-1) ?? "";
  if (!tarball.endsWith(".tgz") || !existsSync(tarball)) {
    throw new Error(`pack:cli's last line is not a tarball: ${packed.stdout}`);
  }
  site = await mkdtemp(join(tmpdir(), "r2a-site-"));
  await writeFiles(site, {
    "package.json": JSON.stringify({ name: "@acme/My_Shop", private: true }),
    "dist/index.html": "<!doctype html><title>shop</title><h1>Shop</h1>",
    "dist/assets/app-DLkpbOgU.js": "console.log('shop');",
    // Over 1 KiB of text: compressed on the packed CLI's compressor thread.
    "dist/assets/shop.css": Array.from({ length: 80 }, (_, i) => `.item-${i} { margin: ${i}px; }`).join("\n"),
    "server/index.ts":
      'import { greet } from "./greet.ts";\nexport default { fetch: (r: Request): Response => Response.json({ message: greet(new URL(r.url).pathname) }) };\n',
    "server/greet.ts": "export const greet = (path: string): string => `hello from ${path}`;\n",
  });
  const env = { ...process.env, PATH: SYSTEM_PATH };
  const node = (await run("node", ["--version"], { env })).stdout.trim();
  const started = performance.now();
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: site, env });
  installed = { seconds: (performance.now() - started) / 1000, bytes: await sizeOf(join(site, "node_modules")), node };
  console.error(
    `packed CLI: installed with Node ${node} in ${installed.seconds.toFixed(1)} s, node_modules ${(installed.bytes / 1e6).toFixed(1)} MB`,
  );
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

/** The installed CLI, run from the site's directory with the system Node, as a site's CI runs it. */
function cli(args: string[], token = platform.token): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(site, "node_modules/.bin/r2-assets"), args, {
      cwd: site,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: SYSTEM_PATH,
        R2_ASSETS_URL: platform.url,
        R2_ASSETS_TOKEN: token,
        R2_ASSETS_CACHE_DIR: join(site, ".hash-cache"),
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs a command with --json; it must succeed and print exactly one JSON document on stdout. */
async function json<T = Record<string, unknown>>(args: string[], token?: string): Promise<T> {
  const result = await cli([...args, "--json"], token);
  if (result.code !== 0) {
    throw new Error(`r2-assets ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    return info.size;
  }
  let total = 0;
  for (const entry of await readdir(path)) {
    total += await sizeOf(join(path, entry));
  }
  return total;
}

describe("the packed CLI", () => {
  it("installs with the system Node into an empty site, small", ({ expect }) => {
    expect(Number(/^v(\d+)/.exec(installed.node)?.[1])).toBeGreaterThanOrEqual(20);
    expect(installed.bytes).toBeLessThan(100 * 1024 * 1024);
    expect(existsSync(join(site, "node_modules/wrangler"))).toBe(false);
  });

  it("prints its version and refuses to run without a command", async ({ expect }) => {
    const version = await json<{ version: string }>(["--version"]);
    const manifest = JSON.parse(await readFile(join(ROOT, "packages/cli/package.json"), "utf8")) as { version: string };
    expect(version.version).toBe(manifest.version);
    const bare = await cli([]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toContain("Usage: r2-assets");
  });

  it("writes a starter r2-assets.json, then deploys from it with server code, one JSON document each", async ({
    expect,
  }) => {
    const init = await json<{ path: string; config: Record<string, string> }>(["init"]);
    expect(init.config).toEqual({
      project: "my-shop",
      directory: "./dist",
      not_found_handling: "single-page-application",
    });
    const again = await cli(["init", "--json"]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { message: expect.stringContaining("already exists") } });

    const config = JSON.parse(await readFile(join(site, "r2-assets.json"), "utf8")) as Record<string, unknown>;
    await writeFile(
      join(site, "r2-assets.json"),
      JSON.stringify({ ...config, run_worker_first: ["/api/*"], server: { entry: "./server/index.ts" } }),
    );
    await json(["project", "create", "my-shop"]);
    const dryRun = await json<{ dryRun: boolean; upload: { files: number } }>(["deploy", "--dry-run"]);
    // The three files and the server bundle.
    expect(dryRun).toMatchObject({ dryRun: true, upload: { files: 4 } });
    const first = await json<{ version: string; active: boolean; compressedFiles: number }>([
      "deploy",
      "--message",
      "first",
    ]);
    expect([first.active, first.compressedFiles]).toEqual([true, 1]);
    const css = await platform.request("my-shop", "/assets/shop.css", { headers: { "accept-encoding": "br" } });
    expect([css.headers["content-encoding"], brotliDecompressSync(css.body).toString()]).toEqual([
      "br",
      await readFile(join(site, "dist/assets/shop.css"), "utf8"),
    ]);
    const api = await platform.request("my-shop", "/api/hi");
    expect(JSON.parse(api.body.toString())).toEqual({ message: "hello from /api/hi" });
    expect((await platform.request("my-shop", "/some/route")).body.toString()).toContain("<h1>Shop</h1>");

    // Server code that does not parse fails in one line, with a JSON error document.
    await writeFile(join(site, "server/greet.ts"), "export const greet = (;\n");
    const broken = await cli(["deploy", "--json"]);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).error.message).toMatch(
      /^--server: the server code does not bundle: greet\.ts:1:\d+/,
    );
    expect(broken.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("runs every other command with --json, one JSON document on stdout each", async ({ expect }) => {
    await writeFile(join(site, "server/greet.ts"), "export const greet = (path: string): string => `v2 ${path}`;\n");
    const second = await json<{ version: string }>(["deploy", "--message", "second"]);
    const staged = await json<{ version: string; active: boolean }>([
      "deploy",
      "--no-activate",
      "--force",
      "--project",
      "my-shop",
    ]);
    expect(staged.active).toBe(false);
    const project = ["--project", "my-shop"];

    const versions = await json<{ version: string }[]>(["versions", ...project]);
    expect(versions.map((v) => v.version)).toContain(second.version);
    expect(await json(["rollback", ...project])).toMatchObject({ previous: second.version });
    expect(await json(["activate", second.version, ...project])).toMatchObject({ active: second.version });
    expect(await json(["alias", "set", "pr-7", staged.version, ...project])).toMatchObject({ alias: "pr-7" });
    expect(await json(["alias", "delete", "pr-7", ...project])).toMatchObject({ alias: "pr-7" });
    expect((await json<unknown[]>(["history", ...project, "--limit", "3"])).length).toBe(3);
    expect(await json(["pin", staged.version, ...project])).toMatchObject({ pinned: true });
    expect(await json(["unpin", staged.version, ...project])).toMatchObject({ pinned: false });
    expect(await json(["delete-version", staged.version, ...project])).toMatchObject({ deleted: staged.version });
    expect(await json(["gc", ...project])).toHaveProperty("deleted");
    expect(await json(["settings", ...project, "--retain", "5"])).toMatchObject({ retention: 5 });
    expect(await json(["domains", "add", "shop.example.com", ...project])).toMatchObject({
      hostname: "shop.example.com",
    });
    expect(await json(["domains", "list", ...project])).toBeTruthy();
    expect(await json(["domains", "remove", "shop.example.com", ...project])).toBeTruthy();
    const token = await json<{ id: string; token: string }>(["token", "create", ...project, "--scope", "deploy"]);
    expect((await json<{ id: string }[]>(["token", "list", ...project])).map((t) => t.id)).toContain(token.id);
    // A deploy token of the project lists its versions too.
    expect(await json(["versions", ...project], token.token)).toBeInstanceOf(Array);
    expect(await json(["token", "revoke", token.id, ...project])).toBeTruthy();
    expect(await json(["analytics", ...project, "--minutes", "10"])).toMatchObject({ minutes: 10 });
    expect(await json(["logs", ...project, "--limit", "5"])).toHaveProperty("logs");
    await json(["project", "create", "throwaway"]);
    expect(await json(["projects", "--prefix", "my-"])).toEqual([expect.objectContaining({ name: "my-shop" })]);
    expect(await json(["project", "delete", "throwaway", "--yes"])).toMatchObject({ deleted: true });

    // A usage mistake: exit 2, still one JSON document.
    const wrong = await cli(["activate", "not-a-version", ...project, "--json"]);
    expect(wrong.code).toBe(2);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ error: { exitCode: 2 } });
  });
});
