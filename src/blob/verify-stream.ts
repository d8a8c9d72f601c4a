/**
 * A pass-through stream that checks a body against the size and content hash
 * its sender claimed. It holds back the last chunk until the check passes, so
 * a consumer that needs every byte (R2 with a fixed length) never completes a
 * write of a body that does not match: the stream errors first.
 */
import { BlockDigester, contentHashOf } from "./content-hash.ts";

/** What the check found; `problem` is set when the body was rejected. */
export interface Verification {
  problem: string | null;
}

/** A TransformStream that verifies, plus the record of what it found. */
export function verifyingStream(
  expectedHash: string,
  expectedSize: number,
): { stream: TransformStream<Uint8Array, Uint8Array>; verification: Verification } {
  const verification: Verification = { problem: null };
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
      const actual = await contentHashOf(await digester.finish());
      if (actual !== expectedHash) {
        reject(`body hashes to ${actual}, not ${expectedHash}`);
      }
      if (held) {
        controller.enqueue(held);
      }
    },
  });
  return { stream, verification };
}
