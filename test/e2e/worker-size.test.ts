/**
 * The platform Worker stays small: nothing heavy (no bundler) on the
 * request path, and under the Workers Free plan's limit of 3 MB gzipped,
 * as `wrangler deploy` would upload it.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { it } from "vitest";
import { ROOT } from "./platform.ts";

const LIMIT = 3 * 1000 * 1000;

it("uploads under 3 MB gzipped", async ({ expect }) => {
  const out = await mkdtemp(join(tmpdir(), "r2a-size-"));
  try {
    await promisify(execFile)("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    let gzipped = 0;
    for (const name of await readdir(out)) {
      if (!name.endsWith(".map") && name !== "README.md") {
        gzipped += gzipSync(await readFile(join(out, name))).length;
      }
    }
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThan(LIMIT);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
