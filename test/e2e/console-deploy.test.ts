/**
 * Deploying from the console in headless Chromium, against a real
 * `wrangler dev`: a folder of 1,000 small files and a 300 MB file picked
 * with the folder input on the projects page (which creates the project),
 * the page reloaded in the middle of the large file's parts, the same
 * folder deployed again from the project's page (only what had not
 * arrived is sent), and the site then served byte for byte. A second
 * deploy of the same folder changes nothing, and files dropped on the
 * project's page become its next version.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, it } from "vitest";
import { mapLimit } from "../../src/shared/pool.ts";
import {
  launchChromium,
  sha256Of,
  startPlatform,
  streamGet,
  writeFiles,
  writeRandomFile,
  writeSite,
  type Platform,
} from "./platform.ts";

// `npm run test:console-large` runs it with a 2 GiB file and 10,000 small files.
const BIG_BYTES = Number(process.env.R2_ASSETS_CONSOLE_BIG_BYTES ?? 300 * 1000 * 1000);
const SMALL_FILES = Number(process.env.R2_ASSETS_CONSOLE_FILES ?? 1000);

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

it("deploys a dropped folder, resumes after a reload mid-upload, and serves it byte for byte", async ({ expect }) => {
  const files: Record<string, string> = {
    "index.html": "<h1>from the console</h1>",
    _redirects: "/old /index.html 301\n",
  };
  for (let i = 0; i < SMALL_FILES; i += 1) {
    files[`notes/${Math.floor(i / 100)}/note-${i}.txt`] = `note ${i} ${"x".repeat(i % 700)}`;
  }
  const dir = await writeSite(files);
  await writeFiles(dir, { "media/.keep": "" });
  await writeRandomFile(join(dir, "media", "big.bin"), BIG_BYTES);

  const page = await browser.newPage();
  const parts: string[] = [];
  page.on("requestfinished", (request) => {
    if (request.method() === "PUT" && /\/uploads\/[0-9a-f]{64}\/parts\/\d+$/.test(request.url())) {
      parts.push(request.url());
    }
  });
  await page.goto(`http://localhost:${platform.port}/`);
  await page.fill("#token", platform.token);
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#new-project:not([hidden])");

  // The projects page creates the project and deploys to it.
  await page.fill("#new-project-name", "dropped");
  await page.setInputFiles("#new-project-folder", dir);
  await page.click("#new-project-form button[type=submit]");
  await page.waitForFunction(
    () => document.querySelector("#deploy-status")?.textContent?.startsWith("Uploading"),
    null,
    {
      timeout: 60_000,
    },
  );
  // A reload in the middle of the large file's parts.
  const deadline = Date.now() + 60_000;
  while (parts.length < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(parts.length).toBeGreaterThanOrEqual(3);
  await page.reload();
  const before = parts.length;
  await page.goto(`http://localhost:${platform.port}/#/projects/dropped`);
  await page.waitForSelector("#deploy-resume:not([hidden])");
  expect(await page.textContent("#deploy-resume")).toMatch(/did not finish.*Deploy the same folder again to resume/);

  await page.setInputFiles("#deploy-folder", dir);
  await page.fill("#deploy-message", "resumed");
  await page.click("#deploy-form button[type=submit]");
  await page.waitForSelector("#deploy-status[data-version]", { timeout: 180_000 });
  expect(await page.textContent("#deploy-status")).toMatch(/^Deployed \S+, live\./);
  // The parts that had arrived were not sent again.
  const partCount = Math.ceil(BIG_BYTES / (16 * 1024 * 1024));
  expect(parts.length - before).toBeLessThan(partCount);
  expect(parts.length - before).toBeGreaterThan(0);
  await page.waitForSelector("#deploy-resume[hidden]", { state: "attached" });

  // Served byte for byte: every small file, the redirect from _redirects, the large file whole.
  const wrong: string[] = [];
  await mapLimit(Object.entries(files), 16, async ([path, text]) => {
    if (path === "_redirects") {
      return;
    }
    // index.html is served at / (auto-trailing-slash).
    const response = await platform.request("dropped", path === "index.html" ? "/" : `/${path}`);
    if (response.status !== 200 || response.body.toString() !== text) {
      wrong.push(`${path}: ${response.status}`);
    }
  });
  expect(wrong).toEqual([]);
  expect((await platform.request("dropped", "/_redirects")).status).toBe(404);
  const moved = await platform.request("dropped", "/old");
  expect(moved.status).toBe(301);
  expect((await platform.request("dropped", "/notes/0/note-1.txt")).headers["content-type"]).toBe(
    "text/plain; charset=utf-8",
  );
  const download = await streamGet(platform.port, "dropped", "/media/big.bin");
  expect(download.statusCode).toBe(200);
  const [served, local] = await Promise.all([
    sha256Of(download),
    sha256Of(createReadStream(join(dir, "media", "big.bin"))),
  ]);
  expect(served).toBe(local);
  expect((await readFile(join(dir, "index.html"), "utf8")).length).toBeGreaterThan(0);

  // The same folder again: nothing changes, nothing is uploaded.
  const partsBefore = parts.length;
  await page.evaluate(() => {
    const status = document.querySelector("#deploy-status") as HTMLElement;
    delete status.dataset.version;
  });
  await page.setInputFiles("#deploy-folder", dir);
  await page.click("#deploy-form button[type=submit]");
  await page.waitForSelector("#deploy-status[data-version]", { timeout: 120_000 });
  expect(await page.textContent("#deploy-status")).toMatch(/^Nothing changed/);
  expect(parts.length).toBe(partsBefore);
  const { json } = await platform.api("GET", "/api/projects/dropped/versions");
  expect((json as { versions: unknown[] }).versions).toHaveLength(1);

  // Files dropped on the project's page (as a file manager drops them) become the next version.
  await page.evaluate(() => {
    const status = document.querySelector("#deploy-status") as HTMLElement;
    delete status.dataset.version;
    const transfer = new DataTransfer();
    transfer.items.add(new File(["<h1>dropped in</h1>"], "index.html", { type: "text/html" }));
    transfer.items.add(new File(["new"], "new.txt", { type: "text/plain" }));
    const zone = document.querySelector("#deploy") as HTMLElement;
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  await page.waitForSelector("#deploy-status[data-version]", { timeout: 60_000 });
  expect((await platform.request("dropped", "/new.txt")).body.toString()).toBe("new");
  expect((await platform.request("dropped", "/")).body.toString()).toBe("<h1>dropped in</h1>");
}, 1_800_000);
