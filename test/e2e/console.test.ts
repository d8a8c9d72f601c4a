/**
 * The web console in headless Chromium, against a real `wrangler dev`:
 * sign in with the admin token, open a project, roll it back (confirming),
 * and see the site change; see a project's traffic and follow its server
 * code's logs, there and with the CLI. The token stays out of every URL. With
 * R2_ASSETS_CONSOLE_SCREENSHOT set, the project page is saved there as a
 * PNG (the README's picture).
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, it } from "vitest";
import { killGroup, launchChromium, startPlatform, writeFiles, writeSite, type Platform } from "./platform.ts";

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function deploy(project: string, text: string, extra: string[] = []): Promise<{ version: string }> {
  const dir = await writeSite({
    "index.html": `<h1>${text}</h1>`,
    "about.html": "<p>about</p>",
    "assets/app-CpQ1mzEE.js": `console.log(${JSON.stringify(text)});`,
  });
  const result = await platform.cli(["deploy", dir, "--project", project, "--message", text, "--json", ...extra]);
  if (result.code !== 0) {
    throw new Error(result.stderr);
  }
  return JSON.parse(result.stdout) as { version: string };
}

it("signs in, rolls a project back, and the site changes", async ({ expect }) => {
  const v1 = await deploy("blog", "first post");
  const v2 = await deploy("blog", "second post");
  // A long unbroken message wraps instead of pushing the actions off-screen (#19).
  await deploy("wide", "x".repeat(1000));
  await platform.cli(["alias", "set", "staging", v1.version, "--project", "blog"]);
  await deploy("shop", "the shop");

  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const urls: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  await page.goto(`http://localhost:${platform.port}/`);
  await page.fill("#token", platform.token);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#projects:not([hidden]) a[href='#/projects/blog']");
  expect(await page.locator("#project-rows tr").count()).toBe(3);

  // Each live version links to its site (#27).
  expect(
    await page.getAttribute(`#project-rows a[href='http://blog.localhost:${platform.port}/']`, "href"),
  ).toBeTruthy();

  await page.click("a[href='#/projects/wide']");
  await page.waitForSelector("#version-rows tr.live");
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1200);
  // One version: nothing to roll back to, and the button says so instead of failing after a confirmation.
  expect(await page.isDisabled("#rollback")).toBe(true);
  expect(await page.getAttribute("#rollback", "title")).toMatch(/no earlier version/);
  await page.click("#back");
  await page.waitForSelector("#projects:not([hidden]) a[href='#/projects/blog']");

  await page.click("a[href='#/projects/blog']");
  await page.waitForSelector(`tr.live[data-version='${v2.version}']`);
  expect(await page.locator("#version-rows tr").count()).toBe(2);
  expect(await page.textContent(`tr[data-version='${v1.version}']`)).toContain("staging");
  // Each version shows how many of its files are served immutable (#26).
  expect(await page.textContent(`tr[data-version='${v2.version}'] td:nth-child(5)`)).toBe("1");

  if (process.env.R2_ASSETS_CONSOLE_SCREENSHOT) {
    await page.screenshot({ path: process.env.R2_ASSETS_CONSOLE_SCREENSHOT, fullPage: true });
  }

  page.once("dialog", (dialog) => void dialog.accept());
  await page.click("#rollback");
  await page.waitForSelector(`tr.live[data-version='${v1.version}']`);
  expect(await page.textContent("#history-rows tr:first-child")).toContain("rollback");

  const site = await browser.newPage();
  await site.goto(`http://blog.localhost:${platform.port}/`);
  expect(await site.textContent("h1")).toBe("first post");

  // A failure is shown as the API said it.
  page.once("dialog", (dialog) => void dialog.accept());
  await page.click("#rollback");
  await page.waitForSelector("#error:not([hidden])");
  expect(await page.textContent("#error")).toMatch(/cannot roll back/);

  expect(urls.filter((url) => url.includes(platform.token))).toEqual([]);
  // The favicon is part of the page: no request for one, and so no 404 (#27).
  expect(urls.filter((url) => url.includes("favicon"))).toEqual([]);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(1);

  // The admin manages a project's tokens: one made with a scope, shown once, then revoked (#27).
  await page.selectOption("#token-scope", "manage");
  await page.click("#token-form button[type=submit]");
  await page.waitForSelector("#new-token:not([hidden])");
  expect(await page.textContent("#new-token-value")).toMatch(/^r2a_blog_/);
  const made = page.locator("#token-list li", { hasText: "manage" });
  expect(await made.count()).toBe(1);
  const id = await made.getAttribute("data-token");
  page.once("dialog", (dialog) => void dialog.accept());
  await made.locator("button").click();
  await page.waitForFunction((gone) => !document.querySelector(`#token-list li[data-token='${gone}']`), id);

  await page.click("#sign-out");
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.waitForSelector("#sign-in:not([hidden])");
});

it("keeps a deploy token to its own project, offering only what its scope allows, and refuses a wrong token", async ({
  expect,
}) => {
  const created = await platform.cli(["token", "create", "--project", "shop", "--scope", "deploy", "--json"]);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const page = await browser.newPage();
  await page.goto(`http://localhost:${platform.port}/`);
  // The sign-in form is laid out as a form: the button under the input (#27).
  const input = await page.locator("#token").boundingBox();
  const submit = await page.locator("#sign-in-form button[type=submit]").boundingBox();
  expect((submit?.y ?? 0) >= (input?.y ?? 0) + (input?.height ?? 0)).toBe(true);
  await page.fill("#token", token);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#project:not([hidden])");
  expect(await page.textContent("#project-name")).toBe("shop");
  expect(await page.isHidden("#crumbs")).toBe(true);
  expect(await page.isHidden("#domain-form")).toBe(true);
  // A deploy-scoped token may not roll back, activate, pin or move aliases: none of it is offered.
  expect(await page.isHidden("#rollback")).toBe(true);
  expect(await page.isHidden("#alias-form")).toBe(true);
  expect(await page.isHidden("#tokens")).toBe(true);
  expect(await page.locator("#version-rows button").count()).toBe(0);
  // It may deploy a folder, staged: going live is not offered.
  expect(await page.inputValue("#deploy-target")).toBe("stage");
  expect(await page.isDisabled("#deploy-target option[value=live]")).toBe(true);

  await page.click("#sign-out");
  await page.fill("#token", "not-a-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#error:not([hidden])");
  expect(await page.textContent("#error")).toMatch(/invalid token/);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
});

it("shows a project's traffic by version and follows its server code's logs, as the CLI does", async ({ expect }) => {
  const dir = await writeSite({ "index.html": "<h1>traffic</h1>", "a.txt": "a" });
  const code = await writeSite({});
  await writeFiles(code, {
    "index.js": `export default {
      async fetch(request, env) {
        const { pathname } = new URL(request.url);
        if (pathname.startsWith("/api/")) {
          console.log("api call", pathname);
          if (pathname === "/api/fail") throw new Error("it failed");
          return new Response("ok");
        }
        return env.ASSETS.fetch(request);
      },
    };`,
  });
  for (const message of ["one", "two"]) {
    const deployed = await platform.cli([
      "deploy",
      dir,
      "--project",
      "traffic",
      "--server",
      join(code, "index.js"),
      "--message",
      message,
      "--force",
    ]);
    expect(deployed.code, deployed.stderr).toBe(0);
    for (const path of ["/", "/a.txt", "/a.txt", "/nope", "/api/first"]) {
      await platform.request("traffic", path);
    }
  }

  // The CLI follows the logs: lines already kept, then new ones as they come.
  const follower = platform.spawnCli(["logs", "--project", "traffic", "--follow"]);
  let followed = "";
  follower.child.stdout?.on("data", (chunk: Buffer) => (followed += chunk.toString()));

  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`http://localhost:${platform.port}/#/projects/traffic`);
  await page.fill("#token", platform.token);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#project:not([hidden])");
  // /nope has no file, so the server code answers it (through env.ASSETS, a 404). Isolates flush within 5 s; the page redraws its traffic every 10 s.
  await page.waitForFunction(
    () => document.querySelector("#traffic-totals")?.textContent?.startsWith("10 request"),
    null,
    {
      timeout: 30_000,
    },
  );
  expect(await page.textContent("#traffic-totals")).toMatch(/4xx 2 .* server code 4$/);
  // Bars in two colours (one per version), the errors line, and both activations marked.
  expect(await page.locator("#traffic-chart figcaption .swatch").count()).toBe(2);
  expect(await page.locator("#traffic-chart rect.bar").count()).toBeGreaterThanOrEqual(2);
  expect(await page.locator("#traffic-chart polyline.errors").count()).toBe(1);
  expect(await page.locator("#traffic-chart line.activation").count()).toBe(2);
  expect(await page.textContent("#top-paths tr:first-child")).toContain("/a.txt");
  expect(await page.textContent("#not-found")).toContain("/nope");
  await page.waitForFunction(() => document.querySelector("#log-lines")?.textContent?.includes("api call /api/first"));

  // A request made while the page is open shows up in its logs pane, exception and all.
  await platform.request("traffic", "/api/fail");
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll("#log-lines .error")].some((line) =>
        line.textContent?.includes("Uncaught Error: it failed"),
      ),
    null,
    { timeout: 20_000 },
  );
  expect(await page.textContent("#log-state")).toBe("following");
  const deadline = Date.now() + 20_000;
  while (!followed.includes("it failed") && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Ctrl-C, as a terminal sends it: to the whole process group.
  killGroup(follower.child, "SIGINT");
  await follower.done;
  expect(followed).toMatch(/LOG +\S+ {2}GET \/api\/first 200 {2}api call \/api\/first/);
  expect(followed).toMatch(/ERROR {2}\S+ {2}GET \/api\/fail - {2}Uncaught Error: it failed/);

  const analytics = await platform.cli(["analytics", "--project", "traffic", "--minutes", "30", "--json"]);
  expect(analytics.code, analytics.stderr).toBe(0);
  const report = JSON.parse(analytics.stdout) as { totals: Record<string, number>; byVersion: unknown[] };
  expect(report.totals).toMatchObject({ requests: 11, "4xx": 2, "5xx": 1, serverCalls: 5 });
  expect(report.byVersion).toHaveLength(2);
  const text = await platform.cli(["analytics", "--project", "traffic"]);
  expect(text.stdout).toMatch(/^traffic, the last 60 minute\(s\): 11 request\(s\)/);
  expect(text.stdout).toMatch(/requests [▁▂▃▄▅▆▇█]{60}/);
  expect(text.stdout).toMatch(/NOT FOUND\n2 +\/nope/);
  const logs = await platform.cli(["logs", "--project", "traffic", "--limit", "1", "--json"]);
  expect((JSON.parse(logs.stdout) as { logs: { level: string }[] }).logs.map((line) => line.level)).toEqual(["error"]);
  const both = await platform.cli(["logs", "--project", "traffic", "--follow", "--json"]);
  expect(both.code).toBe(2);
  expect(JSON.parse(both.stdout)).toMatchObject({ error: { message: expect.stringMatching(/--follow/) } });
});
