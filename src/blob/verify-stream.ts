/**
 * A body checked against the size and content hash its sender claimed, on
 * its way to R2. The last chunk is held back until the check passes, so a
 * consumer that needs every byte (R2 with a fixed length) never completes a
 * write of a body that does not match: the stream errors first.
 *
 * Request bodies arrive in chunks of a few KiB; handling each one in
 * JavaScript would cost more than the hashing. The body is read in
 * READ_SIZE pieces instead (BYOB `readAtLeast`, where the stream allows it),
 * which keeps what a body holds in memory to about two pieces.
 */
import { BlockDigester, contentHashOf } from "./content-hash.ts";

/** Bytes read from the body at a time; a divisor of the 4 MiB block. */
export const READ_SIZE = 1024 * 1024;

/** What the check found: a `problem` when the body was rejected, its block digests when it passed. */
export interface Verification {
  problem: string | null;
  blockDigests: Uint8Array[] | null;
}

/** `body`, passed through only if it has `expectedSize` bytes hashing to `expectedHash`. */
export function verifiedBody(
  body: ReadableStream<Uint8Array>,
  expectedHash: string,
  expectedSize: number,
): { readable: ReadableStream<Uint8Array>; verification: Verification } {
  const verification: Verification = { problem: null, blockDigests: null };
  const digester = new BlockDigester();
  const pieces = pieceReader(body);
  let held: Uint8Array | null = null;
  let received = 0;

  const reject = (problem: string): never => {
    verification.problem = problem;
    throw new Error(problem);
  };

  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const piece = await pieces.read();
      if (piece) {
        received += piece.byteLength;
        if (received > expectedSize) {
          reject(`body is longer than the declared size of ${expectedSize} bytes`);
        }
        await digester.write(piece);
        if (held) {
          controller.enqueue(held);
        }
        held = piece;
        return;
      }
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
      controller.close();
    },
    cancel(reason) {
      return pieces.cancel(reason);
    },
  });
  return { readable, verification };
}

interface PieceReader {
  /** The next piece, or null at the end. */
  read(): Promise<Uint8Array | null>;
  cancel(reason: unknown): Promise<void>;
}

/** Reads `body` in pieces of READ_SIZE bytes (the last may be shorter). */
function pieceReader(body: ReadableStream<Uint8Array>): PieceReader {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read its chunks as they come.
  }
  if (byob) {
    const reader = byob;
    return {
      async read() {
        const { value, done } = await reader.readAtLeast(READ_SIZE, new Uint8Array(READ_SIZE));
        return value && value.byteLength > 0 ? value : done ? null : new Uint8Array(0);
      },
      cancel: (reason) => reader.cancel(reason),
    };
  }
  const reader = body.getReader();
  return {
    async read() {
      const { value, done } = await reader.read();
      return done ? null : value;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
