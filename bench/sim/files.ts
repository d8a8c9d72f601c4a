/** The simulated site: `count` small text files, f/0.txt … f/<count-1>.txt. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export async function writeManyFiles(root: string, count: number): Promise<void> {
  await mkdir(join(root, "f"), { recursive: true });
  for (let start = 0; start < count; start += 1000) {
    const writes: Promise<void>[] = [];
    for (let n = start; n < Math.min(count, start + 1000); n += 1) {
      writes.push(writeFile(join(root, "f", `${n}.txt`), `file ${n}\n`));
    }
    await Promise.all(writes);
  }
}
