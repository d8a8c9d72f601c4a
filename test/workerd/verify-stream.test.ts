/**
 * The check every upload passes through on its way to R2: bodies that
 * match go through byte for byte, and ones that do not never deliver
 * their last byte.
 */
import { describe, it } from "vitest";
import { READ_SIZE, verifiedBody } from "../../src/blob/verify-stream.ts";
import { contentHash, sameBytes } from "./helpers.ts";

const SIZE = 9 * 1024 * 1024 + 12_345;

function randomBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(size, offset + 65_536)));
  }
  return bytes;
}

/** A byte stream (as request bodies are) or a plain stream of small chunks. */
function bodyOf(bytes: Uint8Array, kind: "bytes" | "chunks"): ReadableStream<Uint8Array> {
  if (kind === "bytes") {
    return new Blob([bytes]).stream();
  }
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + 4096));
      offset += 4096;
    },
  });
}

/** Reads `stream` to its end or its error: what arrived, and the error. */
async function drain(
  stream: ReadableStream<Uint8Array>,
): Promise<{ received: number; pieces: number[]; error: string | null; bytes: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
  } catch (error) {
    return {
      received: total(chunks),
      pieces: chunks.map((c) => c.byteLength),
      error: String(error),
      bytes: join(chunks),
    };
  }
  return { received: total(chunks), pieces: chunks.map((c) => c.byteLength), error: null, bytes: join(chunks) };
}

function total(chunks: Uint8Array[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(total(chunks));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

describe("verifiedBody", () => {
  for (const kind of ["bytes", "chunks"] as const) {
    it(`passes a matching body through whole, with its block digests (${kind})`, async ({ expect }) => {
      const bytes = randomBytes(SIZE);
      const { readable, verification } = verifiedBody(bodyOf(bytes, kind), await contentHash(bytes), SIZE);
      const out = await drain(readable);
      expect(out.error).toBeNull();
      expect(sameBytes(out.bytes, bytes)).toBe(true);
      expect(verification).toMatchObject({ problem: null });
      expect(verification.blockDigests).toHaveLength(3);
      if (kind === "bytes") {
        // Read in large pieces, not in the body's own small chunks.
        expect(Math.max(...out.pieces)).toBe(READ_SIZE);
      }
    });

    it(`holds back the end of a body that does not hash as claimed (${kind})`, async ({ expect }) => {
      const bytes = randomBytes(SIZE);
      const claimed = await contentHash(bytes);
      bytes[SIZE - 1] = (bytes[SIZE - 1] ?? 0) ^ 1;
      const { readable, verification } = verifiedBody(bodyOf(bytes, kind), claimed, SIZE);
      const out = await drain(readable);
      expect(out.error).toMatch(/hashes to/);
      expect(out.received).toBeLessThan(SIZE);
      expect(verification.problem).toMatch(/^body hashes to [0-9a-f]{64}, not [0-9a-f]{64}$/);
      expect(verification.blockDigests).toBeNull();
    });
  }

  it("refuses a body longer or shorter than declared", async ({ expect }) => {
    const bytes = randomBytes(1000);
    const hash = await contentHash(bytes);
    const long = verifiedBody(bodyOf(bytes, "bytes"), hash, 999);
    expect((await drain(long.readable)).error).toMatch(/longer than the declared size of 999 bytes/);
    const short = verifiedBody(bodyOf(bytes, "bytes"), hash, 1001);
    expect((await drain(short.readable)).error).toMatch(/body has 1000 bytes, 1001 were declared/);
    expect(short.verification.problem).toMatch(/1001 were declared/);
  });
});
