/**
 * A pass-through stream that checks a body against the size and content hash
 * its sender claimed. It holds back the last chunk until the check passes, so
 * a consumer that needs every byte (R2 with a fixed length) never completes a
 * write of a body that does not match: the stream errors first.
 */
import { BlockDigester, contentHashOf } from "./content-hash.ts";

/** What the check found: a `problem` when the body was rejected, its block digests when it passed. */
export interface Verification {
  problem: string | null;
  blockDigests: Uint8Array[] | null;
}

/** A TransformStream that verifies, plus the record of what it found. */
export function verifyingStream(
  expectedHash: string,
  expectedSize: number,
): { stream: TransformStream<Uint8Array, Uint8Array>; verification: Verification } {
  const verification: Verification = { problem: null, blockDigests: null };
  const digester = new BlockDigester();
  let held: Uint8Array | null = null;
  let received = 0;

  const reject = (problem: string): never => {
    verification.problem = problem;
    throw new Error(problem);
  };

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      received += chunk.byteLength;
      if (received > expectedSize) {
        reject(`body is longer than the declared size of ${expectedSize} bytes`);
      }
      await digester.write(chunk);
      if (held) {
        controller.enqueue(held);
      }
      held = chunk;
    },
    async flush(controller) {
      if (received !== expectedSize) {
        reject(`body has ${received} bytes, ${expectedSize} were declared`);
      }
      const digests = await digester.finish();
      const actual = await contentHashOf(digests);
      if (actual !== expectedHash) {
        reject(`body hashes to ${actual}, not ${expectedHash}`);
      }
      verification.blockDigests = digests;
      if (held) {
        controller.enqueue(held);
      }
    },
  });
  return { stream, verification };
}
