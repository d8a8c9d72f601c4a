/**
 * Writes a file so that a reader sees the old content or the new, never
 * half: to a temporary name of this process's own, then renamed. Two
 * writers (two files of the same content, or two CLI runs sharing a cache
 * directory) never share a temporary name.
 */
import { rename, writeFile } from "node:fs/promises";

let written = 0;

export async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  written += 1;
  const temporary = `${path}.${process.pid}.${written}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}
