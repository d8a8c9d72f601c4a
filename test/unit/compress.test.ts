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
import { readRange } from "../../src/cli/file-range.ts";
import { hashFile } from "../../src/cli/hash.ts";
import { ROOT } from "../e2e/platform.ts";

const brotli = (bytes: Buffer, quality: number): Buffer =>
  zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      // A 64 KiB window below BEST_FROM_BYTES (it holds the whole file), 4 MiB from it.
      [zlib.constants.BROTLI_PARAM_LGWIN]: bytes.length < BEST_FROM_BYTES ? 16 : 22,
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
      // Brotli alone below BEST_FROM_BYTES: every browser takes it (see `codings`).
      expect(variants.map((variant) => variant.encoding).sort()).toEqual(
        size >= BEST_FROM_BYTES ? ["br", "gzip", "zstd"] : ["br"],
      );
      // Small variants are ranges of the run's pack file, handed over in
      // memory (on disk once the compressor is closed, read back below).
      const read = async (coding: string): Promise<Buffer> => {
        const variant = variants.find((found) => found.encoding === coding);
        if (!variant) {
          return Buffer.alloc(0);
        }
        return variant.bytes ?? readRange(variant.file, variant.offset ?? 0, variant.size);
      };
      const br = await read("br");
      expect([name, br.equals(brotli(bytes, quality))]).toEqual([name, true]);
      expect(zlib.brotliDecompressSync(br).equals(bytes)).toBe(true);
      if (size >= BEST_FROM_BYTES) {
        expect(zlib.gunzipSync(await read("gzip")).equals(bytes)).toBe(true);
        const zstd = (zlib as unknown as { zstdDecompressSync: (b: Buffer) => Buffer }).zstdDecompressSync;
        expect(zstd(await read("zstd")).equals(bytes)).toBe(true);
      }
    }
    // Brotli 11 is what makes the large file's bytes: ~10% under brotli 5.
    const large = readme.subarray(0, BEST_FROM_BYTES);
    expect(brotli(large, 11).length).toBeLessThan(brotli(large, 5).length * 0.95);
    expect(compressor.stats).toMatchObject({ files: 2, reused: 0 });
    await compressor.variantsOf(join(dir, "large.txt"), (await hashFile(join(dir, "large.txt"))).hash);
    expect(compressor.stats).toMatchObject({ files: 2, reused: 1 });
    // The next run finds them, the small file's in the pack.
    await compressor.save();
    const next = await Compressor.open({ dir: join(dir, "cache"), exclude: [] });
    const again = await next.variantsOf(join(dir, "small.txt"), (await hashFile(join(dir, "small.txt"))).hash);
    expect(next.stats).toMatchObject({ files: 0, reused: 1 });
    const br = again.find((variant) => variant.encoding === "br");
    expect(br?.offset).toBeTypeOf("number");
    const small = readme.subarray(0, BEST_FROM_BYTES - 1);
    expect(
      zlib.brotliDecompressSync(await readRange(br?.file ?? "", br?.offset ?? 0, br?.size ?? 0)).equals(small),
    ).toBe(true);
  });

  it("compresses files of the same content once, however many ask at the same time", async ({ expect }) => {
    const dir = await mkdtemp(join(tmpdir(), "r2a-compress-same-"));
    const text = (await readFile(join(ROOT, "README.md"))).subarray(0, 4096);
    const compressor = await Compressor.open({ dir: join(dir, "cache"), exclude: [] });
    const files = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const file = join(dir, `copy-${i}.txt`);
        await writeFile(file, text);
        return file;
      }),
    );
    const hash = (await hashFile(files[0] ?? "")).hash;
    const made = await Promise.all(files.map((file) => compressor.variantsOf(file, hash)));
    expect(new Set(made.map((variants) => JSON.stringify(variants))).size).toBe(1);
    expect(made[0]?.length).toBe(1);
    expect(compressor.stats).toMatchObject({ files: 1, reused: 7 });
  });

  it("says once the files handed over in memory are compressed, which the hashing waits for", async ({ expect }) => {
    const dir = await mkdtemp(join(tmpdir(), "r2a-compress-backlog-"));
    const readme = await readFile(join(ROOT, "README.md"));
    const compressor = await Compressor.open({ dir: join(dir, "cache"), exclude: [] });
    const texts = Array.from({ length: 20 }, (_, i) => readme.subarray(i * 101, i * 101 + 4096));
    const made = texts.map((bytes, i) => compressor.variantsOf(join(dir, `missing-${i}.txt`), `backlog-${i}`, bytes));
    let drained = false;
    const waiting = (async (): Promise<void> => {
      await compressor.backlogAtMost(0);
      drained = true;
    })();
    // A backlog within the bound does not wait; these 80 KiB are still being compressed.
    await compressor.backlogAtMost(texts.length * 4096);
    expect(drained).toBe(false);
    await waiting;
    expect(compressor.stats.files).toBe(texts.length);
    expect((await Promise.all(made)).every((variants) => variants.length === 1)).toBe(true);
    await compressor.close();
  });

  it("compresses the bytes the caller already read, hands them over held, and packs them in order", async ({
    expect,
  }) => {
    const dir = await mkdtemp(join(tmpdir(), "r2a-compress-held-"));
    const readme = await readFile(join(ROOT, "README.md"));
    const compressor = await Compressor.open({ dir: join(dir, "cache"), exclude: [] });
    // Forty files compressed at once from bytes held: no file is read (none exists).
    const texts = Array.from({ length: 40 }, (_, i) => readme.subarray(i * 97, i * 97 + 2048 + i * 31));
    const made = await Promise.all(
      texts.map((bytes, i) => compressor.variantsOf(join(dir, `missing-${i}.txt`), `content-${i}`, bytes)),
    );
    // The pack is complete once the compressor is closed.
    await compressor.close();
    // Each variant, held and read back from the run's pack where it says it is, decodes to its file.
    for (const [i, variants] of made.entries()) {
      const [br] = variants;
      expect(variants.map((variant) => variant.encoding)).toEqual(["br"]);
      const stored = await readRange(br?.file ?? "", br?.offset ?? 0, br?.size ?? 0);
      expect(br?.bytes?.equals(stored), `file ${i}`).toBe(true);
      expect(zlib.brotliDecompressSync(stored).equals(texts[i] ?? Buffer.alloc(0)), `file ${i}`).toBe(true);
    }
    expect(new Set(made.map((variants) => variants[0]?.file)).size).toBe(1);
    // Held variants share the buffers their thread's answers came in, which
    // hold nothing else (not a 16 KiB buffer a variant, as zlib returns them).
    const buffers = new Set(made.flat().map((variant) => variant.bytes?.buffer));
    const heldBytes = [...buffers].reduce((sum, buffer) => sum + (buffer?.byteLength ?? 0), 0);
    expect(heldBytes).toBe(made.flat().reduce((sum, variant) => sum + variant.size, 0));
    expect(buffers.size).toBeLessThan(made.length);
  });
});
