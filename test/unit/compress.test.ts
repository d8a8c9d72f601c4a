/**
 * The CLI's compressor: the best settings from BEST_FROM_BYTES, fast ones
 * below (where brotli 11 would cost thirty times the time for a few hundred
 * bytes), every variant decodes to the file, and a remembered file is not
 * compressed again.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import { describe, it } from "vitest";
import { BEST_FROM_BYTES, Compressor } from "../../src/cli/compress.ts";
import { hashFile } from "../../src/cli/hash.ts";
import { ROOT } from "../e2e/platform.ts";

const brotli = (bytes: Buffer, quality: number): Buffer =>
  zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
    },
  });

describe("compressor", () => {
  it("uses brotli 11 from BEST_FROM_BYTES and brotli 6 below, and every variant decodes to the file", async ({
    expect,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), "r2a-compress-"));
    const readme = await readFile(join(ROOT, "README.md"));
    const compressor = await Compressor.open({ dir: join(dir, "cache"), exclude: [] });
    for (const [name, size, quality] of [
      ["large.txt", BEST_FROM_BYTES, 11],
      ["small.txt", BEST_FROM_BYTES - 1, 6],
    ] as const) {
      const bytes = readme.subarray(0, size);
      const file = join(dir, name);
      await writeFile(file, bytes);
      const variants = await compressor.variantsOf(file, (await hashFile(file)).hash);
      expect(variants.map((variant) => variant.encoding).sort()).toEqual(["br", "gzip", "zstd"]);
      const read = (coding: string): Promise<Buffer> =>
        readFile(variants.find((variant) => variant.encoding === coding)?.file ?? "(none)");
      const br = await read("br");
      expect([name, br.equals(brotli(bytes, quality))]).toEqual([name, true]);
      expect(zlib.brotliDecompressSync(br).equals(bytes)).toBe(true);
      expect(zlib.gunzipSync(await read("gzip")).equals(bytes)).toBe(true);
      const zstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
      expect(zstd(await read("zstd")).equals(bytes)).toBe(true);
    }
    // Brotli 11 is what makes the large file's bytes: ~10% under brotli 5.
    const large = readme.subarray(0, BEST_FROM_BYTES);
    expect(brotli(large, 11).length).toBeLessThan(brotli(large, 5).length * 0.95);
    expect(compressor.stats).toMatchObject({ files: 2, reused: 0 });
    await compressor.variantsOf(join(dir, "large.txt"), (await hashFile(join(dir, "large.txt"))).hash);
    expect(compressor.stats).toMatchObject({ files: 2, reused: 1 });
  });
});
