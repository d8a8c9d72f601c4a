/**
 * The web console in headless Chromium, against a real `wrangler dev`:
 * sign in with the admin token, open a project, roll it back (confirming),
 * and see the site change. The token stays out of every URL. With
 * R2_ASSETS_CONSOLE_SCREENSHOT set, the project page is saved there as a
 * PNG (the README's picture).
 */
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, it } from "vitest";
import { startPlatform, writeSite, type Platform } from "./platform.ts";

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
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

  await page.click("#sign-out");
  await page.fill("#token", "not-a-token");
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#error:not([hidden])");
  expect(await page.textContent("#error")).toMatch(/invalid token/);
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
});
