import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { hashFile, partHash } from "../../src/cli/hash.ts";
import { BlockSplitter, toHex } from "../../src/shared/blocks.ts";

/** The content hash of `bytes`, straight from its definition. */
function referenceHash(bytes: Uint8Array, block: number): string {
  const digests: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += block) {
    digests.push(
      createHash("sha256")
        .update(bytes.subarray(offset, offset + block))
        .digest(),
    );
  }
  return createHash("sha256").update(Buffer.concat(digests)).digest("hex");
}

describe("BlockSplitter", () => {
  it("cuts chunks at block boundaries whatever their sizes", ({ expect }) => {
    const splitter = new BlockSplitter(4);
    const pieces = [new Uint8Array(3), new Uint8Array(6), new Uint8Array(3)].flatMap((chunk) => [
      ...splitter.push(chunk),
    ]);
    expect(pieces.map((p) => [p.bytes.length, p.endsBlock])).toEqual([
      [3, false],
      [1, true],
      [4, true],
      [1, false],
      [3, true],
    ]);
    expect(splitter.hasPartialBlock).toBe(false);
    expect([...splitter.push(new Uint8Array(1))]).toHaveLength(1);
    expect(splitter.hasPartialBlock).toBe(true);
  });
});

describe("hashFile", () => {
  const MIB = 1024 * 1024;
  const sizes = [0, 1, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 8 * MIB, 9 * MIB + 7];
  for (const size of sizes) {
    it(`matches the definition for ${size} bytes`, async ({ expect }) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 997) {
        bytes[i] = i % 256;
      }
      const dir = await mkdtemp(join(tmpdir(), "r2a-hash-"));
      const file = join(dir, "f");
      await writeFile(file, bytes);
      let read = 0;
      const { hash, blockDigests } = await hashFile(file, (n) => (read += n));
      expect(hash).toBe(referenceHash(bytes, 4 * MIB));
      expect(blockDigests).toHaveLength(Math.ceil(size / (4 * MIB)));
      expect(read).toBe(size);
    });
  }
  it("gives the SHA-256 of nothing for an empty file", async ({ expect }) => {
    const dir = await mkdtemp(join(tmpdir(), "r2a-hash-"));
    await writeFile(join(dir, "empty"), "");
    expect((await hashFile(join(dir, "empty"))).hash).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });
});

describe("partHash", () => {
  it("is the content hash of the part's bytes alone", async ({ expect }) => {
    const MIB = 1024 * 1024;
    const bytes = new Uint8Array(21 * MIB + 5);
    for (let i = 0; i < bytes.length; i += 1009) {
      bytes[i] = (i >>> 8) % 256;
    }
    const dir = await mkdtemp(join(tmpdir(), "r2a-hash-"));
    await writeFile(join(dir, "f"), bytes);
    const hashed = await hashFile(join(dir, "f"));
    const partSize = 8 * MIB;
    for (const n of [1, 2, 3]) {
      const part = bytes.subarray((n - 1) * partSize, n * partSize);
      expect(partHash(hashed, partSize, n)).toBe(referenceHash(part, 4 * MIB));
    }
  });
});

describe("toHex", () => {
  it("writes every byte as two lowercase hex digits, as Node does", ({ expect }) => {
    const every = Uint8Array.from({ length: 256 }, (_, byte) => byte);
    expect(toHex(every)).toBe(Buffer.from(every).toString("hex"));
    const digest = createHash("sha256").update("r2-assets").digest();
    expect(toHex(digest)).toBe(createHash("sha256").update("r2-assets").digest("hex"));
    expect(toHex(new Uint8Array(0))).toBe("");
  });
});
