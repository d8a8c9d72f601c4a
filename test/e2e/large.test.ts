/**
 * Large media end to end: deploy a big file with the CLI, kill the CLI
 * part-way through its multipart upload, run it again and check it resumes
 * (sending only what had not arrived), then check the file is served byte
 * for byte, whole and in ranges. The size is R2_ASSETS_LARGE_TEST_BYTES
 * (300 MB by default; `npm run test:large` uses 2 GB).
 */
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, it } from "vitest";
import { hashFile } from "../../src/cli/hash.ts";
import { killGroup, sha256Of, startPlatform, streamGet, writeRandomFile, type Platform } from "./platform.ts";

const SIZE = Number(process.env.R2_ASSETS_LARGE_TEST_BYTES ?? 300_000_000);

let platform: Platform;
let dir: string;

beforeAll(async () => {
  platform = await startPlatform();
  dir = await mkdtemp(join(tmpdir(), "r2a-large-"));
  await writeRandomFile(join(dir, "movie.bin"), SIZE);
  await writeFile(join(dir, "index.html"), "<h1>large</h1>");
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  if (dir) {
    await rm(dir, { recursive: true, force: true });
  }
});

interface Session {
  partCount: number;
  uploadedParts: number[];
}

async function settledPartCount(hash: string): Promise<number> {
  let last = -1;
  let stableFor = 0;
  while (stableFor < 3) {
    const count = ((await platform.api("GET", `/api/projects/large/uploads/${hash}`)).json as Session).uploadedParts
      .length;
    stableFor = count === last ? stableFor + 1 : 0;
    last = count;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return last;
}

async function slice(start: number, length: number): Promise<Buffer> {
  const handle = await open(join(dir, "movie.bin"));
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, start);
    return buffer;
  } finally {
    await handle.close();
  }
}

it(`resumes a killed deploy of ${SIZE} bytes and serves it byte for byte`, { timeout: 900_000 }, async ({ expect }) => {
  const { hash } = await hashFile(join(dir, "movie.bin"));

  // 1. Deploy, one part at a time, and kill the CLI once half the parts arrived.
  const first = platform.spawnCli(["deploy", dir, "--project", "large", "--concurrency", "1"]);
  let session: Session | null = null;
  for (;;) {
    const answer = await platform.api("GET", `/api/projects/large/uploads/${hash}`);
    if (answer.status === 200) {
      session = answer.json as Session;
      if (session.uploadedParts.length >= Math.ceil(session.partCount / 2)) {
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  killGroup(first.child);
  const killed = await first.done;
  expect(killed.code).not.toBe(0);
  // A part whose body was fully sent may still be recorded after the kill:
  // count the parts once the session has settled.
  const arrived = await settledPartCount(hash);
  expect(arrived).toBeGreaterThanOrEqual(Math.ceil(session.partCount / 2));
  expect(arrived).toBeLessThan(session.partCount);

  // 2. Run it again: it resumes, sending only the missing parts.
  const second = await platform.cli(["deploy", dir, "--project", "large"]);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stderr).toContain(`resuming, ${arrived} part(s) already uploaded`);
  expect(second.stdout).toContain(`resumed, ${arrived} part(s) had arrived before`);
  expect((await platform.api("GET", `/api/projects/large/uploads/${hash}`)).status).toBe(404);

  // 3. The whole file, byte for byte, and ranges at the start, middle and end.
  const download = await streamGet(platform.port, "large", "/movie.bin");
  expect(download.statusCode).toBe(200);
  expect(download.headers["content-length"]).toBe(String(SIZE));
  const [served, original] = await Promise.all([
    sha256Of(download),
    sha256Of(createReadStream(join(dir, "movie.bin"))),
  ]);
  expect(served).toBe(original);
  const middle = Math.floor(SIZE / 2) - 333;
  for (const [range, start, length] of [
    ["bytes=0-1023", 0, 1024],
    [`bytes=${middle}-${middle + 65_535}`, middle, 65_536],
    ["bytes=-4096", SIZE - 4096, 4096],
  ] as const) {
    const res = await platform.request("large", "/movie.bin", { headers: { range } });
    expect(res.status, range).toBe(206);
    expect(res.headers["content-range"]).toBe(`bytes ${start}-${start + length - 1}/${SIZE}`);
    expect(Buffer.compare(res.body, await slice(start, length)), range).toBe(0);
  }
});
