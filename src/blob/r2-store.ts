/**
 * A project's blobs in R2, content-addressed under
 * projects/<project>/blobs/<hash> (or in packs, projects/<project>/packs/<id>),
 * and its versions' manifest snapshots, projects/<project>/manifests/<version>/<page>.
 * The only module that knows the key scheme. Blobs are written once, after their body is verified, and never
 * overwritten.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { verifiedBody, type Verification } from "./verify-stream.ts";

/** The content hash of an empty body. */
export const EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** R2 deletes at most this many keys per call. */
const DELETE_BATCH = 1000;

/**
 * Long bodies are read as a run of ranged reads ("windows") of at least
 * this size, and of no more than MAX_WINDOWS reads in all. Each read
 * streams; windows bound what any one read can hold (the local R2 simulator
 * buffers whole reads of multipart objects) for a few more R2 reads, and the
 * cap keeps a huge file well inside a request's subrequest limit.
 */
export const MIN_READ_WINDOW = 16 * 1024 * 1024;
const MAX_WINDOWS = 256;

/** A body that failed verification: it was not stored. */
function rejected(problem: string): Outcome<never> {
  return fail("bad_request", `body: ${problem}`, { field: "body" });
}

/** The size of the ranged reads a read of `length` bytes is made of. */
function windowFor(length: number): number {
  return Math.max(MIN_READ_WINDOW, Math.ceil(length / MAX_WINDOWS));
}

export interface StoredBlob {
  hash: string;
  size: number;
  uploaded: Date;
}

/**
 * A blob to read: its content hash when it is an R2 object of its own, or
 * with the pack that holds it and where (small blobs uploaded together
 * share one object).
 */
export type BlobRef = string | { hash: string; pack?: string | null; offset?: number | null };

/** The object a blob's bytes are in, and where they start. */
interface Place {
  hash: string;
  key: string;
  base: number;
}

export class BlobStore {
  readonly #bucket: R2Bucket;
  readonly #prefix: string;
  readonly #projectPrefix: string;

  constructor(bucket: R2Bucket, project: string) {
    this.#bucket = bucket;
    this.#projectPrefix = `projects/${project}/`;
    this.#prefix = `${this.#projectPrefix}blobs/`;
  }

  key(hash: string): string {
    return this.#prefix + hash;
  }

  /** The R2 key of a pack. */
  packKey(id: string): string {
    return `${this.#projectPrefix}packs/${id}`;
  }

  #place(blob: BlobRef): Place {
    if (typeof blob === "string") {
      return { hash: blob, key: this.key(blob), base: 0 };
    }
    return blob.pack
      ? { hash: blob.hash, key: this.packKey(blob.pack), base: blob.offset ?? 0 }
      : { hash: blob.hash, key: this.key(blob.hash), base: 0 };
  }

  /**
   * Streams bytes `start` to `end` (inclusive) of a blob, or null if the
   * blob is not stored. If the reader cancels, the R2 read is cancelled.
   */
  async read(blob: BlobRef, start: number, end: number): Promise<ReadableStream | null> {
    const place = this.#place(blob);
    const length = end - start + 1;
    const window = windowFor(length);
    const first = await this.#window(place, start, Math.min(end, start + window - 1));
    if (!first || length <= window) {
      return first;
    }
    const { readable, writable } = new FixedLengthStream(length);
    this.#pipeFrom(first, place, start + window, end, window, writable)
      .then(() => writable.close())
      .catch((error: unknown) => writable.abort(error).catch(() => undefined));
    return readable;
  }

  /**
   * Pipes bytes `start` to `end` (inclusive) of a blob into `writable`,
   * window by window, and leaves it open; false if the blob is not stored.
   */
  async pipeRange(blob: BlobRef, start: number, end: number, writable: WritableStream): Promise<boolean> {
    const place = this.#place(blob);
    const window = windowFor(end - start + 1);
    const first = await this.#window(place, start, Math.min(end, start + window - 1));
    if (!first) {
      return false;
    }
    await this.#pipeFrom(first, place, start + window, end, window, writable);
    return true;
  }

  /** One ranged R2 read, as a stream; null if the blob is not stored. */
  async #window(place: Place, start: number, end: number): Promise<ReadableStream | null> {
    const object = await this.#bucket.get(place.key, {
      range: { offset: place.base + start, length: end - start + 1 },
    });
    return object && "body" in object ? object.body : null;
  }

  /** Pipes `first`, then the windows from `next` to `end`, into `writable` without closing it. */
  async #pipeFrom(
    first: ReadableStream,
    place: Place,
    next: number,
    end: number,
    window: number,
    writable: WritableStream,
  ): Promise<void> {
    await first.pipeTo(writable, { preventClose: true });
    for (let offset = next; offset <= end; offset += window) {
      const body = await this.#window(place, offset, Math.min(end, offset + window - 1));
      if (!body) {
        throw new Error(`blob ${place.hash} vanished while it was read`);
      }
      await body.pipeTo(writable, { preventClose: true });
    }
  }

  /** A whole small blob of `size` bytes, or null if it is not stored. */
  async bytes(blob: BlobRef, size: number): Promise<Uint8Array | null> {
    const place = this.#place(blob);
    if (size === 0) {
      return (await this.#bucket.head(place.key)) ? new Uint8Array(0) : null;
    }
    const object = await this.#bucket.get(place.key, { range: { offset: place.base, length: size } });
    return object && "body" in object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /**
   * Bytes `start` to `start + length` of a pack, or fewer where the pack
   * ends first; null if the pack is not stored.
   */
  async packWindow(pack: string, start: number, length: number): Promise<Uint8Array | null> {
    const object = await this.#bucket.get(this.packKey(pack), { range: { offset: start, length } });
    return object && "body" in object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** Stores a pack: the bytes of many small blobs, one after the other. */
  async putPack(id: string, pieces: readonly Uint8Array[]): Promise<void> {
    await this.#bucket.put(this.packKey(id), new Blob([...pieces]));
  }

  /** Deletes packs. */
  async deletePacks(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += DELETE_BATCH) {
      await this.#bucket.delete(ids.slice(start, start + DELETE_BATCH).map((id) => this.packKey(id)));
    }
  }

  /** Every pack stored for the project. */
  async *listPacks(): AsyncGenerator<{ id: string; size: number; uploaded: Date }> {
    const prefix = this.packKey("");
    let cursor: string | undefined;
    do {
      const page = await this.#bucket.list({ prefix, cursor, limit: 1000 });
      for (const object of page.objects) {
        yield { id: object.key.slice(prefix.length), size: object.size, uploaded: object.uploaded };
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  /**
   * Streams `body` into R2 under `hash` if its bytes match `hash` and `size`.
   * A body that does not match is never stored, and the failure says why.
   * If the blob already exists nothing is written (`written: false`).
   */
  async putVerified(
    hash: string,
    size: number,
    body: ReadableStream<Uint8Array> | null,
  ): Promise<Outcome<{ written: boolean }>> {
    const onlyIf: R2Conditional = { etagDoesNotMatch: "*" };
    if (size === 0) {
      if (hash !== EMPTY_HASH) {
        return rejected(`an empty body hashes to ${EMPTY_HASH}, not ${hash}`);
      }
      const written = await this.#bucket.put(this.key(hash), new Uint8Array(0), { onlyIf });
      return succeed({ written: written !== null });
    }
    if (!body) {
      return rejected(`body is empty, ${size} bytes were declared`);
    }
    const sized = this.#verified(hash, size, body);
    try {
      const written = await this.#bucket.put(this.key(hash), sized.readable, { onlyIf });
      return succeed({ written: written !== null });
    } catch (error) {
      if (sized.verification.problem) {
        return rejected(sized.verification.problem);
      }
      throw error;
    }
  }

  /** Starts a multipart upload of `hash`; returns R2's upload id. */
  async createMultipart(hash: string): Promise<string> {
    return (await this.#bucket.createMultipartUpload(this.key(hash))).uploadId;
  }

  /**
   * Streams one part of a multipart upload into R2 if its bytes hash to
   * `partHash` (the content hash of the part alone) and are `size` long.
   * Returns R2's part, and the digests of the part's blocks.
   */
  async putPartVerified(
    hash: string,
    uploadId: string,
    partNumber: number,
    partHash: string,
    size: number,
    body: ReadableStream<Uint8Array> | null,
  ): Promise<Outcome<{ part: R2UploadedPart; blockDigests: Uint8Array[] }>> {
    if (!body) {
      return rejected(`body is empty, ${size} bytes were declared`);
    }
    const sized = this.#verified(partHash, size, body);
    try {
      const part = await this.#bucket
        .resumeMultipartUpload(this.key(hash), uploadId)
        .uploadPart(partNumber, sized.readable);
      const blockDigests = sized.verification.blockDigests;
      if (!blockDigests) {
        throw new Error(`part ${partNumber} of ${hash} was stored without being verified`);
      }
      return succeed({ part, blockDigests });
    } catch (error) {
      if (sized.verification.problem) {
        return rejected(sized.verification.problem);
      }
      throw error;
    }
  }

  async completeMultipart(hash: string, uploadId: string, parts: R2UploadedPart[]): Promise<void> {
    await this.#bucket.resumeMultipartUpload(this.key(hash), uploadId).complete(parts);
  }

  async abortMultipart(hash: string, uploadId: string): Promise<void> {
    await this.#bucket.resumeMultipartUpload(this.key(hash), uploadId).abort();
  }

  /**
   * `body` checked against `expectedHash` and `size` on its way through a
   * fixed-length stream, as R2 needs the length of a streamed body up front.
   * The pipes' own failures surface as the consumer's failure.
   */
  #verified(
    expectedHash: string,
    size: number,
    body: ReadableStream<Uint8Array>,
  ): { readable: ReadableStream; verification: Verification } {
    const { readable, verification } = verifiedBody(body, expectedHash, size);
    const sized = new FixedLengthStream(size);
    readable.pipeTo(sized.writable).catch(() => undefined);
    return { readable: sized.readable, verification };
  }

  /** Stores one page of a version's manifest snapshot (see src/shared/snapshot.ts). */
  async putSnapshotPage(version: string, page: number, bytes: Uint8Array): Promise<void> {
    await this.#bucket.put(this.#snapshotKey(version, page), bytes);
  }

  /** One page of a version's manifest snapshot, or null if it is not stored. */
  async snapshotPage(version: string, page: number): Promise<Uint8Array | null> {
    const object = await this.#bucket.get(this.#snapshotKey(version, page));
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  }

  /** Deletes the `pages` pages of a version's manifest snapshot. */
  async deleteSnapshot(version: string, pages: number): Promise<void> {
    const keys = Array.from({ length: pages }, (_, page) => this.#snapshotKey(version, page));
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      await this.#bucket.delete(keys.slice(start, start + DELETE_BATCH));
    }
  }

  #snapshotKey(version: string, page: number): string {
    return `${this.#projectPrefix}manifests/${version}/${page}`;
  }

  /** Deletes up to a batch of the project's objects in R2 (blobs, and any others under its prefix); returns how many. */
  async purgePage(): Promise<number> {
    const page = await this.#bucket.list({ prefix: this.#projectPrefix, limit: DELETE_BATCH });
    if (page.objects.length > 0) {
      await this.#bucket.delete(page.objects.map((object) => object.key));
    }
    return page.objects.length;
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
