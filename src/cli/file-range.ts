/** Reading part of a file: a variant in a pack, or a file's bytes at an offset. */
import { open, type FileHandle } from "node:fs/promises";

/** `size` bytes of `path` from `offset`; fewer if the file ends first. */
export async function readRange(path: string, offset: number, size: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    return await readFrom(handle, offset, size);
  } finally {
    await handle.close();
  }
}

/** `size` bytes of an open file from `offset`; fewer if the file ends first. */
export async function readFrom(handle: FileHandle, offset: number, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(size);
  let read = 0;
  while (read < size) {
    const { bytesRead } = await handle.read(buffer, read, size - read, offset + read);
    if (bytesRead === 0) {
      break;
    }
    read += bytesRead;
  }
  return buffer.subarray(0, read);
}
