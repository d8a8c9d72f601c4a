/**
 * The compressor's thread (see compress.ts): small files compressed off
 * the CLI's main thread, so that hashing and uploading go on meanwhile
 * (in line, brotli 6 held the main thread ~0.2 ms a file). Each message is
 * a list of files, [{id, bytes, jobs: [{encoding, options}]}]; the answer
 * is one buffer holding every result, handed over rather than copied, and
 * for each file {id, results: [[offset, length], ...]} in the order of
 * `jobs`, or {id, error}. One buffer, not one a result: zlib returns each
 * result as a view of a 16 KiB buffer, and a message copies a view's whole
 * buffer, so a 1 KB variant cost 16 KiB to send and to hold until uploaded.
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

export type CompressAnswer =
  | { id: number; results: [offset: number, length: number][] }
  | { id: number; error: string };

export interface CompressAnswers {
  buffer: ArrayBuffer;
  answers: CompressAnswer[];
}

const compressors: Record<Encoding, ((bytes: Uint8Array, options: object) => Buffer) | undefined> = {
  br: zlib.brotliCompressSync,
  gzip: zlib.gzipSync,
  zstd: (zlib as unknown as { zstdCompressSync?: (bytes: Uint8Array, options: object) => Buffer }).zstdCompressSync,
};

function compressOne({
  id,
  jobs,
  bytes,
}: CompressRequest): { id: number; results: Buffer[] } | { id: number; error: string } {
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

/** The files' results, laid end to end in one buffer. */
function compressAll(requests: readonly CompressRequest[]): CompressAnswers {
  const made = requests.map(compressOne);
  let total = 0;
  for (const answer of made) {
    for (const result of "results" in answer ? answer.results : []) {
      total += result.byteLength;
    }
  }
  const joined = new Uint8Array(total);
  let offset = 0;
  const answers = made.map((answer): CompressAnswer => {
    if (!("results" in answer)) {
      return answer;
    }
    return {
      id: answer.id,
      results: answer.results.map((result) => {
        joined.set(result, offset);
        offset += result.byteLength;
        return [offset - result.byteLength, result.byteLength];
      }),
    };
  });
  return { buffer: joined.buffer, answers };
}

parentPort?.on("message", (requests: CompressRequest[]) => {
  const answered = compressAll(requests);
  // A worker thread's port, not a window: there is no origin to name.
  // oxlint-disable-next-line unicorn/require-post-message-target-origin
  parentPort?.postMessage(answered, [answered.buffer]);
});
