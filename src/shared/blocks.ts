/**
 * The content hash scheme: a blob's id is the SHA-256 of the concatenated
 * SHA-256 digests of its consecutive BLOCK_SIZE blocks (the last one may be
 * shorter), in lowercase hex. Hashing per block lets the platform verify a
 * body as it streams in, and lets multipart parts be verified one by one.
 * An empty file has no blocks, so its hash is the SHA-256 of nothing.
 *
 * This module only splits bytes into blocks; the CLI and the platform hash
 * them with their own crypto APIs.
 */
import { BLOCK_SIZE } from "./limits.ts";

/** A piece of a chunk that lies within one block. */
export interface BlockPiece {
  bytes: Uint8Array;
  /** True when this piece completes its block. */
  endsBlock: boolean;
}

/** Splits a stream of chunks at block boundaries, without copying. */
export class BlockSplitter {
  readonly #blockSize: number;
  #filled = 0;

  constructor(blockSize: number = BLOCK_SIZE) {
    this.#blockSize = blockSize;
  }

  /** Yields the pieces of `chunk` in order. */
  *push(chunk: Uint8Array): Generator<BlockPiece> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(this.#blockSize - this.#filled, chunk.byteLength - offset);
      this.#filled += take;
      const endsBlock = this.#filled === this.#blockSize;
      if (endsBlock) {
        this.#filled = 0;
      }
      yield { bytes: chunk.subarray(offset, offset + take), endsBlock };
      offset += take;
    }
  }

  /** Whether a block has started and not ended; it ends with the stream. */
  get hasPartialBlock(): boolean {
    return this.#filled > 0;
  }
}

/** SHA-256 digests are this long. */
export const DIGEST_BYTES = 32;

/** Block digests joined end to end: what the content hash is the SHA-256 of, and how parts keep theirs. */
export function joinDigests(digests: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(digests.length * DIGEST_BYTES);
  digests.forEach((digest, index) => joined.set(digest, index * DIGEST_BYTES));
  return joined;
}

/** The digests `joinDigests` joined. */
export function splitDigests(joined: Uint8Array): Uint8Array[] {
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < joined.length; offset += DIGEST_BYTES) {
    digests.push(joined.subarray(offset, offset + DIGEST_BYTES));
  }
  return digests;
}

/** Each byte's two hex digits, looked up: the platform writes two hashes a blob it checks. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) {
    hex += HEX[byte];
  }
  return hex;
}
