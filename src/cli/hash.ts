/**
 * Content hashes of local files (see src/shared/blocks.ts for the scheme),
 * computed while the file streams from disk. The block digests are kept:
 * a multipart upload declares each part's own hash, which is the SHA-256
 * of the digests of the part's blocks.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { BlockSplitter, joinDigests } from "../shared/blocks.ts";
import { BLOCK_SIZE } from "../shared/limits.ts";

/** Reads files in chunks of this size. */
const READ_CHUNK = 1024 * 1024;

export interface FileHash {
  hash: string;
  /**
   * The SHA-256 of each BLOCK_SIZE block, in order. May be empty for a file
   * of at most one block (the hash cache keeps no digests for those): such
   * a file is one part whose hash is the content hash.
   */
  blockDigests: Buffer[];
}

/**
 * Hashes one file, calling `onBytes` as it reads. A file of one block is
 * read whole, and its bytes are returned too when `keep` asks for them
 * (the compressor takes them rather than reading the file again).
 */
export async function hashFile(
  file: string,
  onBytes: (bytes: number) => void = () => {},
  keep = false,
): Promise<FileHash & { bytes?: Buffer }> {
  // A file of one block is read whole: for the many small files of a site, a stream's set-up costs more than the read.
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size <= BLOCK_SIZE) {
      const bytes = await handle.readFile();
      if (bytes.byteLength <= BLOCK_SIZE) {
        onBytes(bytes.byteLength);
        const digests = bytes.byteLength === 0 ? [] : [createHash("sha256").update(bytes).digest()];
        const hashed = { hash: hashOfDigests(digests), blockDigests: digests };
        return keep ? { ...hashed, bytes } : hashed;
      }
    }
  } finally {
    await handle.close();
  }
  const splitter = new BlockSplitter();
  const blockDigests: Buffer[] = [];
  let block = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) {
    for (const piece of splitter.push(chunk as Buffer)) {
      block.update(piece.bytes);
      if (piece.endsBlock) {
        blockDigests.push(block.digest());
        block = createHash("sha256");
      }
    }
    onBytes((chunk as Buffer).byteLength);
  }
  if (splitter.hasPartialBlock) {
    blockDigests.push(block.digest());
  }
  return { hash: hashOfDigests(blockDigests), blockDigests };
}

/** The content hash of a run of blocks, given their digests. */
export function hashOfDigests(digests: readonly Uint8Array[]): string {
  return createHash("sha256").update(joinDigests(digests)).digest("hex");
}

/** The content hash of bytes held in memory. */
export function hashBytes(bytes: Uint8Array): string {
  return fileHashOfBytes(bytes).hash;
}

/** The content hash of bytes held in memory, with its block digests. */
export function fileHashOfBytes(bytes: Uint8Array): FileHash {
  const blockDigests: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += BLOCK_SIZE) {
    blockDigests.push(
      createHash("sha256")
        .update(bytes.subarray(offset, offset + BLOCK_SIZE))
        .digest(),
    );
  }
  return { hash: hashOfDigests(blockDigests), blockDigests };
}

/** The content hash of part `partNumber` (1-based) of a file split into `partSize` parts. */
export function partHash({ hash, blockDigests }: FileHash, partSize: number, partNumber: number): string {
  if (blockDigests.length === 0) {
    return hash;
  }
  const blocksPerPart = partSize / BLOCK_SIZE;
  return hashOfDigests(blockDigests.slice((partNumber - 1) * blocksPerPart, partNumber * blocksPerPart));
}
