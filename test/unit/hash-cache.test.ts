/**
 * The CLI's hash cache: a hash is reused only for a file whose path, size,
 * times and inode are all as they were, and a cache file that is corrupt or
 * another directory's is ignored.
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { HashCache, nowNs, parseCache } from "../../src/cli/hash-cache.ts";
import { hashFile } from "../../src/cli/hash.ts";
import { scanDirectory, type LocalFile } from "../../src/cli/scan.ts";

/** Later than any file the tests write: the run that hashed them looked well after they were written. */
const LATER = (): bigint => nowNs() + 10_000_000_000n;

async function site(files: Record<string, string | Uint8Array>): Promise<{ dir: string; home: string }> {
  const dir = await mkdtemp(join(tmpdir(), "r2a-cache-site-"));
  const home = await mkdtemp(join(tmpdir(), "r2a-cache-home-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, home };
}

/** One deploy's hashing: what the cache vouched for, and the hashes of all files; then the cache is saved. */
async function run(
  dir: string,
  home: string,
  scannedNs: bigint = LATER(),
): Promise<{ reused: string[]; hashes: Map<string, string> }> {
  const cache = await HashCache.open(dir, scannedNs, home);
  const reused: string[] = [];
  const hashes = new Map<string, string>();
  for (const file of await scanDirectory(dir)) {
    const known = cache.get(file);
    if (known) {
      reused.push(file.path);
    }
    const hashed = known ?? (await hashFile(file.file));
    if (!known) {
      cache.set(file, hashed);
    }
    hashes.set(file.path, hashed.hash);
  }
  await cache.save();
  return { reused, hashes };
}

async function cacheFileOf(home: string): Promise<string> {
  const [name] = await readdir(join(home, "hashes"));
  return join(home, "hashes", name ?? "");
}

describe("hash cache", () => {
  it("reuses every hash of an unchanged directory, and they are the right ones", async ({ expect }) => {
    const { dir, home } = await site({ "a.txt": "a", "b/c.txt": "c", empty: "" });
    const first = await run(dir, home);
    expect(first.reused).toEqual([]);
    const second = await run(dir, home);
    expect(second.reused).toEqual(["/a.txt", "/b/c.txt", "/empty"]);
    expect(second.hashes).toEqual(first.hashes);
    // The cache lives outside the directory.
    expect((await readdir(dir)).sort()).toEqual(["a.txt", "b", "empty"]);
  });

  it("hashes again a file that was touched, changed in place, renamed or replaced; forgets deleted ones", async ({
    expect,
  }) => {
    const { dir, home } = await site({ "touched.txt": "t", "edited.txt": "one", "moved.txt": "m", "gone.txt": "g" });
    // A modification time that utimes can put back exactly.
    const past = new Date(1_700_000_000_123);
    await utimes(join(dir, "edited.txt"), past, past);
    await run(dir, home);
    // Touched: same bytes, a new modification time.
    await utimes(join(dir, "touched.txt"), new Date(), new Date(Date.now() + 5000));
    // Changed in place to bytes of the same size, its modification time put back: the change time still moves.
    await writeFile(join(dir, "edited.txt"), "two");
    await utimes(join(dir, "edited.txt"), past, past);
    await rename(join(dir, "moved.txt"), join(dir, "renamed.txt"));
    await rm(join(dir, "gone.txt"));
    const second = await run(dir, home);
    expect(second.reused).toEqual([]);
    expect(second.hashes.get("/edited.txt")).toBe((await hashFile(join(dir, "edited.txt"))).hash);
    const saved = parseCache(await readFile(await cacheFileOf(home), "utf8"), await realpath(dir));
    expect(Object.keys(saved?.files ?? {}).sort()).toEqual(["/edited.txt", "/renamed.txt", "/touched.txt"]);
  });

  it("does not trust a hash taken while the file could still have been changing", async ({ expect }) => {
    const { dir, home } = await site({ "fresh.txt": "just written" });
    // The run that hashed it looked at the same instant the file was written.
    await run(dir, home, nowNs());
    expect((await run(dir, home)).reused).toEqual([]);
    expect((await run(dir, home)).reused).toEqual(["/fresh.txt"]);
  });

  it("ignores a corrupt cache file, and one written for another directory", async ({ expect }) => {
    const { dir, home } = await site({ "a.txt": "a" });
    await run(dir, home);
    const file = await cacheFileOf(home);
    const good = await readFile(file, "utf8");
    for (const bad of [
      good.slice(0, good.length / 2),
      "null",
      good.replace('"version":1', '"version":99'),
      good.replace(/"[0-9a-f]{64}"/, '"not-a-hash"'),
      good.replace('"format":"r2-assets-hash-cache"', '"format":"other"'),
    ]) {
      await writeFile(file, bad);
      expect((await run(dir, home)).reused, bad.slice(0, 60)).toEqual([]);
    }
    // Another directory with the same files: its cache, copied over this one's, is not believed.
    const other = await site({ "a.txt": "a" });
    await run(other.dir, other.home);
    await writeFile(file, await readFile(await cacheFileOf(other.home), "utf8"));
    expect((await run(dir, home)).reused).toEqual([]);
  });

  it("keeps block digests for files of several blocks, and refuses ones that do not match the hash", async ({
    expect,
  }) => {
    const big = new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251);
    const { dir, home } = await site({ "big.bin": big });
    await run(dir, home);
    const [file] = await scanDirectory(dir);
    const cache = await HashCache.open(dir, LATER(), home);
    const known = cache.get(file as LocalFile);
    expect(known?.blockDigests).toHaveLength(3);
    expect(known).toEqual(await hashFile(join(dir, "big.bin")));
    // A digest swapped for another: well-formed, but not this hash's.
    const path = await cacheFileOf(home);
    const text = await readFile(path, "utf8");
    const tampered = text.replace(/,"([0-9a-f]{64})([0-9a-f]{64})/, ',"$2$1');
    await writeFile(path, tampered);
    expect((await HashCache.open(dir, LATER(), home)).get(file as LocalFile)).toBeNull();
  });
});
