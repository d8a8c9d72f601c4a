/**
 * Block-wise content hashing inside the Workers runtime, streaming through
 * crypto.DigestStream so that no body is ever held in memory whole.
 */
import { BlockSplitter, joinDigests, toHex } from "../shared/blocks.ts";
import { BLOCK_SIZE } from "../shared/limits.ts";

/** Collects the SHA-256 digest of every block of a byte stream. */
export class BlockDigester {
  readonly #splitter = new BlockSplitter();
  readonly #digests: Promise<ArrayBuffer>[] = [];
  #block: { stream: DigestStream; writer: WritableStreamDefaultWriter<ArrayBufferView> } | null = null;

  /** Feeds the next chunk of the stream. */
  async write(chunk: Uint8Array): Promise<void> {
    for (const piece of this.#splitter.push(chunk)) {
      this.#block ??= openBlock();
      await this.#block.writer.write(piece.bytes);
      if (piece.endsBlock) {
        await this.#closeBlock();
      }
    }
  }

  /** Ends the stream and returns the digests of all its blocks, in order. */
  async finish(): Promise<Uint8Array[]> {
    if (this.#block) {
      await this.#closeBlock();
    }
    const digests = await Promise.all(this.#digests);
    return digests.map((digest) => new Uint8Array(digest));
  }

  async #closeBlock(): Promise<void> {
    const block = this.#block;
    if (!block) {
      return;
    }
    this.#block = null;
    await block.writer.close();
    this.#digests.push(block.stream.digest);
  }
}

function openBlock(): { stream: DigestStream; writer: WritableStreamDefaultWriter<ArrayBufferView> } {
  const stream = new crypto.DigestStream("SHA-256");
  return { stream, writer: stream.getWriter() };
}

/** The content hash of a blob, given the digests of its blocks. */
export async function contentHashOf(blockDigests: readonly Uint8Array[]): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", joinDigests(blockDigests))));
}

/** The content hash of bytes held in memory. */
export async function contentHashOfBytes(bytes: Uint8Array): Promise<string> {
  const digests: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += BLOCK_SIZE) {
    digests.push(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes.subarray(offset, offset + BLOCK_SIZE))));
  }
  return contentHashOf(digests);
}
