/**
 * The compressor's thread (see compress.ts): small files compressed off
 * the CLI's main thread, so that hashing and uploading go on meanwhile
 * (in line, brotli 6 held the main thread ~0.2 ms a file). Each message is
 * a list of files, [{id, bytes, jobs: [{encoding, options}]}]; the answer
 * lists, for each, {id, results} in the order of `jobs`, or {id, error}.
 */
import { parentPort } from "node:worker_threads";
import * as zlib from "node:zlib";
import type { Encoding } from "../rules/encoding.ts";

export interface CompressJob {
  encoding: Encoding;
  options: object;
}

export interface CompressRequest {
  id: number;
  bytes: Uint8Array;
  jobs: CompressJob[];
}

export type CompressAnswer = { id: number; results: Uint8Array[] } | { id: number; error: string };

const compressors: Record<Encoding, ((bytes: Uint8Array, options: object) => Buffer) | undefined> = {
  br: zlib.brotliCompressSync,
  gzip: zlib.gzipSync,
  zstd: (zlib as unknown as { zstdCompressSync?: (bytes: Uint8Array, options: object) => Buffer }).zstdCompressSync,
};

function compressOne({ id, bytes, jobs }: CompressRequest): CompressAnswer {
  try {
    return {
      id,
      results: jobs.map(({ encoding, options }) => {
        const compress = compressors[encoding];
        if (!compress) {
          throw new Error(`this Node cannot make ${encoding}`);
        }
        return compress(bytes, options);
      }),
    };
  } catch (error) {
    return { id, error: (error as Error).message };
  }
}

parentPort?.on("message", (requests: CompressRequest[]) => {
  // A worker thread's port, not a window: there is no origin to name.
  // oxlint-disable-next-line unicorn/require-post-message-target-origin
  parentPort?.postMessage(requests.map(compressOne));
});
