/**
 * Serving semantics end to end, as a user meets them: a site with
 * _redirects, _headers and a 404.html deployed with the CLI; a single-page
 * application whose client-side route survives a reload; and a video of
 * more than 200 MB (made with ffmpeg) that curl and a <video> element in
 * headless Chromium can seek in with Range requests.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { CHROMIUM, launchChromium, startPlatform, writeFiles, writeSite, type Platform } from "./platform.ts";

const run = promisify(execFile);
const VIDEO_SECONDS = 40;

let platform: Platform;
let browser: Browser;
let videoDir: string;

beforeAll(async () => {
  for (const tool of ["/usr/bin/ffmpeg", CHROMIUM, "/usr/bin/curl"]) {
    if (!existsSync(tool)) {
      throw new Error(`${tool} is needed by these tests: apt-get install ffmpeg chromium curl`);
    }
  }
  videoDir = await mkdtemp(join(tmpdir(), "r2a-video-"));
  // 40 s of noisy 720p at 50 Mb/s: about 250 MB, a keyframe every second,
  // the index up front so that a player can seek at once.
  await run("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=1280x720:rate=25",
    "-t",
    String(VIDEO_SECONDS),
    "-vf",
    "noise=alls=60:allf=t",
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-b:v",
    "50M",
    "-maxrate",
    "50M",
    "-bufsize",
    "100M",
    "-g",
    "25",
    "-pix_fmt",
    "yuv420p",
    "-movflags",
    "+faststart",
    join(videoDir, "video.mp4"),
  ]);
  platform = await startPlatform();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  if (videoDir) {
    await rm(videoDir, { recursive: true, force: true });
  }
});

describe("a site with _redirects, _headers and a 404 page", () => {
  it("deploys with warnings for bad rule lines, and serves by the rules", async ({ expect }) => {
    const dir = await writeSite({
      "index.html": "<h1>home</h1>",
      "about.html": "<h1>about</h1>",
      "404.html": "<h1>lost</h1>",
      "docs/guide.html": "<h1>guide</h1>",
      _redirects: "/old /about 301\n/docs/v1/* /docs/:splat\nnot-a-rule\n",
      _headers: "/*\n  X-Frame-Options: DENY\n/docs/*\n  Cache-Control: public, max-age=300\n",
    });
    const result = await platform.cli([
      "deploy",
      dir,
      "--project",
      "rules",
      "--not-found-handling",
      "404-page",
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^warning: _redirects:3: .*; the line is skipped$/m);
    expect(JSON.parse(result.stdout)).toMatchObject({ files: 4 });

    const moved = await platform.request("rules", "/old");
    expect([moved.status, moved.headers.location]).toEqual([301, "/about"]);
    const splat = await platform.request("rules", "/docs/v1/guide");
    expect([splat.status, splat.headers.location]).toEqual([302, "/docs/guide"]);
    const guide = await platform.request("rules", "/docs/guide");
    expect(guide.body.toString()).toBe("<h1>guide</h1>");
    expect(guide.headers["cache-control"]).toBe("public, max-age=300");
    expect(guide.headers["x-frame-options"]).toBe("DENY");
    const lost = await platform.request("rules", "/nowhere");
    expect([lost.status, lost.body.toString()]).toEqual([404, "<h1>lost</h1>"]);
    // The rule files configure the site; they are not served.
    expect((await platform.request("rules", "/_redirects")).status).toBe(404);
    expect((await platform.request("rules", "/_headers")).status).toBe(404);
  });
});

describe("a single-page application", () => {
  it("keeps a client-side route across a reload", async ({ expect }) => {
    const dir = await writeSite({
      "index.html": `<!doctype html><title>spa</title><div id="route"></div><script src="/app.js"></script>`,
      "app.js": `document.getElementById("route").textContent = "route:" + location.pathname;`,
    });
    const result = await platform.cli([
      "deploy",
      dir,
      "--project",
      "spa",
      "--not-found-handling",
      "single-page-application",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const page = await browser.newPage();
    try {
      const response = await page.goto(`http://spa.localhost:${platform.port}/dashboard/settings`);
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.textContent("#route")).toBe("route:/dashboard/settings");
      await page.reload();
      await expect.poll(() => page.textContent("#route")).toBe("route:/dashboard/settings");
    } finally {
      await page.close();
    }
  });
});

describe("a video of more than 200 MB", () => {
  beforeAll(async () => {
    await writeFiles(videoDir, {
      "player.html": `<!doctype html><video id="v" src="/video.mp4" preload="metadata" muted></video>`,
    });
    const result = await platform.cli(["deploy", videoDir, "--project", "media", "--json"]);
    if (result.code !== 0) {
      throw new Error(result.stderr);
    }
  }, 300_000);

  it("answers curl -r with the exact bytes", async ({ expect }) => {
    const file = await readFile(join(videoDir, "video.mp4"));
    expect(file.length).toBeGreaterThan(200_000_000);
    const out = join(videoDir, "range.bin");
    for (const [range, start, end] of [
      ["0-1023", 0, 1023],
      ["150000000-150999999", 150_000_000, 150_999_999],
      [`${file.length - 500}-`, file.length - 500, file.length - 1],
    ] as const) {
      const { stdout } = await run("curl", [
        "-s",
        "-r",
        range,
        "-o",
        out,
        "-w",
        "%{http_code}",
        "-H",
        `Host: media.localhost:${platform.port}`,
        `http://127.0.0.1:${platform.port}/video.mp4`,
      ]);
      expect(stdout, range).toBe("206");
      expect(Buffer.compare(await readFile(out), file.subarray(start, end + 1)), range).toBe(0);
    }
    await writeFile(out, "");
  });

  it("plays and seeks in a <video> element, fetching with Range", async ({ expect }) => {
    const page = await browser.newPage();
    const ranges: { range: string; status: number }[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/video.mp4")) {
        ranges.push({ range: response.request().headers().range ?? "", status: response.status() });
      }
    });
    try {
      await page.goto(`http://media.localhost:${platform.port}/player`);
      const duration = await page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const video = document.getElementById("v") as HTMLVideoElement;
            video.onerror = () => reject(new Error(`video error ${video.error?.code}`));
            if (video.readyState >= 1) {
              resolve(video.duration);
            } else {
              video.onloadedmetadata = () => resolve(video.duration);
            }
          }),
      );
      expect(duration).toBeCloseTo(VIDEO_SECONDS, 0);
      const position = await page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const video = document.getElementById("v") as HTMLVideoElement;
            video.onerror = () => reject(new Error(`video error ${video.error?.code}`));
            video.onseeked = () => resolve(video.currentTime);
            video.currentTime = 30;
          }),
      );
      expect(Math.abs(position - 30)).toBeLessThan(1);
      await expect
        .poll(() => page.evaluate(() => (document.getElementById("v") as HTMLVideoElement).readyState))
        .toBeGreaterThanOrEqual(2);
      // The player fetched the middle of the file with a Range request, answered with 206.
      const seeks = ranges.filter(
        ({ range, status }) => status === 206 && Number(/^bytes=(\d+)-/.exec(range)?.[1] ?? 0) > 100_000_000,
      );
      expect(seeks.length, JSON.stringify(ranges)).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  });
});
