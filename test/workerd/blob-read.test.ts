/**
 * Long reads of a blob: a run of ranged R2 reads ("windows") that together
 * give exactly the bytes asked for, and that stop when the reader goes away.
 * The bucket is the real local R2, wrapped only to count the reads.
 */
import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { BlobStore, MIN_READ_WINDOW } from "../../src/blob/r2-store.ts";
import { sameBytes, uniqueProject } from "./helpers.ts";

const SIZE = 2 * MIN_READ_WINDOW + 1234;
const HASH = "ab".repeat(32);

function countingBucket(): { bucket: R2Bucket; gets: () => number } {
  let gets = 0;
  const bucket = new Proxy(env.BLOBS, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === "get" && typeof value === "function") {
        return (...args: unknown[]) => {
          gets += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { bucket, gets: () => gets };
}

async function storedBlob(): Promise<{ project: string; bytes: Uint8Array }> {
  const project = uniqueProject("windows");
  const bytes = new Uint8Array(SIZE);
  for (let offset = 0; offset < SIZE; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, Math.min(SIZE, offset + 65_536)));
  }
  await env.BLOBS.put(new BlobStore(env.BLOBS, project).key(HASH), bytes);
  return { project, bytes };
}

async function readAll(stream: ReadableStream | null): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("windowed reads", () => {
  it("give exactly the bytes asked for, a window at a time", async ({ expect }) => {
    const { project, bytes } = await storedBlob();
    const { bucket, gets } = countingBucket();
    const store = new BlobStore(bucket, project);
    expect(sameBytes(await readAll(await store.read(HASH, 0, SIZE - 1)), bytes)).toBe(true);
    expect(gets()).toBe(3);
    const start = MIN_READ_WINDOW - 100;
    const end = 2 * MIN_READ_WINDOW + 100;
    expect(sameBytes(await readAll(await store.read(HASH, start, end)), bytes.subarray(start, end + 1))).toBe(true);
    expect(gets()).toBe(5);
  });

  it("stop reading R2 when the reader cancels", async ({ expect }) => {
    const { project } = await storedBlob();
    const { bucket, gets } = countingBucket();
    const reader = (await new BlobStore(bucket, project).read(HASH, 0, SIZE - 1))?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    await reader?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gets()).toBe(1);
  });
});
