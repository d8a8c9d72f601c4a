/**
 * A project's blobs in R2, content-addressed under
 * projects/<project>/blobs/<hash>. The only module that knows the key
 * scheme. Blobs are written once, after their body is verified, and never
 * overwritten.
 */
import { verifyingStream } from "./verify-stream.ts";

/** The content hash of an empty body. */
export const EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** R2 deletes at most this many keys per call. */
const DELETE_BATCH = 1000;

export type PutOutcome = { stored: true; written: boolean } | { stored: false; problem: string };

export interface StoredBlob {
  hash: string;
  size: number;
  uploaded: Date;
}

export class BlobStore {
  readonly #bucket: R2Bucket;
  readonly #prefix: string;

  constructor(bucket: R2Bucket, project: string) {
    this.#bucket = bucket;
    this.#prefix = `projects/${project}/blobs/`;
  }

  key(hash: string): string {
    return this.#prefix + hash;
  }

  head(hash: string): Promise<R2Object | null> {
    return this.#bucket.head(this.key(hash));
  }

  get(hash: string, options?: R2GetOptions): Promise<R2ObjectBody | R2Object | null> {
    return this.#bucket.get(this.key(hash), options);
  }

  /**
   * Streams `body` into R2 under `hash` if its bytes match `hash` and `size`.
   * A body that does not match is never stored. If the blob already exists
   * nothing is written (`written: false`) and the body is left unread.
   */
  async putVerified(hash: string, size: number, body: ReadableStream<Uint8Array> | null): Promise<PutOutcome> {
    const onlyIf: R2Conditional = { etagDoesNotMatch: "*" };
    if (size === 0) {
      if (hash !== EMPTY_HASH) {
        return { stored: false, problem: `an empty body hashes to ${EMPTY_HASH}, not ${hash}` };
      }
      const written = await this.#bucket.put(this.key(hash), new Uint8Array(0), { onlyIf });
      return { stored: true, written: written !== null };
    }
    if (!body) {
      return { stored: false, problem: `body is empty, ${size} bytes were declared` };
    }
    const { stream, verification } = verifyingStream(hash, size);
    // R2 needs the length of a streamed body up front. The pipes' own
    // failures surface as the put's failure, so they are not awaited.
    const sized = new FixedLengthStream(size);
    body.pipeTo(stream.writable).catch(() => undefined);
    stream.readable.pipeTo(sized.writable).catch(() => undefined);
    try {
      const written = await this.#bucket.put(this.key(hash), sized.readable, { onlyIf });
      return { stored: true, written: written !== null };
    } catch (error) {
      if (verification.problem) {
        return { stored: false, problem: verification.problem };
      }
      throw error;
    }
  }

  async delete(hashes: readonly string[]): Promise<void> {
    for (let start = 0; start < hashes.length; start += DELETE_BATCH) {
      await this.#bucket.delete(hashes.slice(start, start + DELETE_BATCH).map((hash) => this.key(hash)));
    }
  }

  /** Every blob stored for the project. */
  async *list(): AsyncGenerator<StoredBlob> {
    let cursor: string | undefined;
    do {
      const page = await this.#bucket.list({ prefix: this.#prefix, cursor, limit: 1000 });
      for (const object of page.objects) {
        yield { hash: object.key.slice(this.#prefix.length), size: object.size, uploaded: object.uploaded };
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
}
