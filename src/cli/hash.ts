/**
 * Content hashes of local files (see src/shared/blocks.ts for the scheme),
 * computed while the file streams from disk.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { BlockSplitter } from "../shared/blocks.ts";

/** Reads files in chunks of this size. */
const READ_CHUNK = 1024 * 1024;

/** Hashes one file, calling `onBytes` as it reads. */
export async function hashFile(file: string, onBytes: (bytes: number) => void = () => {}): Promise<string> {
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
  return createHash("sha256").update(Buffer.concat(blockDigests)).digest("hex");
}
