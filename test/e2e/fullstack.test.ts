/**
 * The full-stack example from examples/fullstack, end to end: deployed with
 * the CLI (static files plus server code), its API answering, its
 * single-page app loading in Chromium and keeping a client-side route
 * across a reload; then a second version with changed server code and a
 * changed asset, a rollback that brings both back together, and the preview
 * URL of a version that is not live.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, it } from "vitest";
import { launchChromium, ROOT, startPlatform, type Platform } from "./platform.ts";

let platform: Platform;
let browser: Browser;
let app: string;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), "r2a-fullstack-"));
  await cp(join(ROOT, "examples/fullstack"), app, { recursive: true });
  platform = await startPlatform();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  if (app) {
    await rm(app, { recursive: true, force: true });
  }
});

interface Deployed {
  version: string;
  active: boolean;
  previewUrl: string;
}

async function deploy(greeting: string, extra: string[] = []): Promise<Deployed> {
  const result = await platform.cli([
    "deploy",
    join(app, "public"),
    "--project",
    "shop",
    "--server",
    join(app, "server/index.ts"),
    "--var",
    `GREETING=${greeting}`,
    "--not-found-handling",
    "single-page-application",
    "--run-worker-first",
    "/api/*",
    "--json",
    ...extra,
  ]);
  if (result.code !== 0) {
    throw new Error(result.stderr);
  }
  return JSON.parse(result.stdout) as Deployed;
}

async function apiMessage(host: string): Promise<string> {
  const res = await platform.request(host, "/api/hello");
  return (JSON.parse(res.body.toString()) as { message: string }).message;
}

it(
  "serves the app and its API, rolls back both together, and previews an inactive version",
  { timeout: 300_000 },
  async ({ expect }) => {
    // v1: the example as it is.
    const v1 = await deploy("Hello");
    expect(await apiMessage("shop")).toBe("Hello from the server code");
    const notes = await platform.request("shop", "/api/notes");
    expect(JSON.parse(notes.body.toString())).toHaveLength(3);

    // The app loads in a browser, follows a client-side route, and keeps it across a reload.
    const page = await browser.newPage();
    try {
      await page.goto(`http://shop.localhost:${platform.port}/`);
      await expect.poll(() => page.textContent("#message")).toBe("Hello from the server code");
      await page.click("a[href='/notes']");
      await expect.poll(() => page.textContent("#message")).toBe("3 notes");
      expect(page.url()).toBe(`http://shop.localhost:${platform.port}/notes`);
      await page.reload();
      await expect.poll(() => page.textContent("#title")).toBe("Notes");
      await expect.poll(() => page.textContent("#message")).toBe("3 notes");
    } finally {
      await page.close();
    }

    // v2: different server code and a different asset.
    const routes = join(app, "server/routes.ts");
    await writeFile(routes, (await readFile(routes, "utf8")).replace("from the server code", "from server code v2"));
    await writeFile(join(app, "public/style.css"), "body { color: rebeccapurple }\n");
    const v2 = await deploy("Howdy");
    expect(await apiMessage("shop")).toBe("Howdy from server code v2");
    expect((await platform.request("shop", "/style.css")).body.toString()).toContain("rebeccapurple");

    // Rolling back brings v1's server code and v1's assets back, together.
    const rolled = await platform.cli(["rollback", "--project", "shop", "--json"]);
    expect(JSON.parse(rolled.stdout)).toMatchObject({ active: v1.version, previous: v2.version });
    expect(await apiMessage("shop")).toBe("Hello from the server code");
    const style = await platform.request("shop", "/style.css");
    expect(style.body.toString()).not.toContain("rebeccapurple");
    expect(style.headers["x-r2-assets-version"]).toBe(v1.version);

    // v3, not activated: its preview URL serves it; the live site stays on v1.
    await writeFile(routes, (await readFile(routes, "utf8")).replace("from server code v2", "from the v3 preview"));
    const v3 = await deploy("Hi", ["--no-activate"]);
    expect(v3.active).toBe(false);
    expect(v3.previewUrl).toBe(`http://${v3.version}.shop.localhost:${platform.port}/`);
    expect(await apiMessage(`${v3.version}.shop`)).toBe("Hi from the v3 preview");
    expect(await apiMessage("shop")).toBe("Hello from the server code");

    // Server code that does not bundle fails the deploy in one line, before anything is uploaded (the
    // CLI bundles it); the live site is untouched.
    await writeFile(
      join(app, "server/index.ts"),
      'import { gone } from "./gone.ts";\nexport default { fetch: gone };\n',
    );
    await writeFile(join(app, "server/gone.ts"), "export const gone = (;\n");
    const broken = await platform.cli([
      "deploy",
      join(app, "public"),
      "--project",
      "shop",
      "--server",
      join(app, "server/index.ts"),
    ]);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr.trim().split("\n").at(-1)).toMatch(
      /^r2-assets: error: --server: the server code does not bundle: gone\.ts:1:\d+: ERROR: /,
    );
    expect(await apiMessage("shop")).toBe("Hello from the server code");
  },
);
