/**
 * Parsing of one manifest page, `{"files": {"/path": {"hash", "size",
 * "contentType"?, "encodings"?: {"br"|"zstd"|"gzip": {"hash", "size"}}}}}`,
 * into checked entries. Pure: no I/O.
 */
import { AppError } from "../errors.ts";
import type { FileEntry } from "../manifest/contract.ts";
import { MAX_PAGE_ENTRIES } from "../shared/limits.ts";
import { ENCODINGS, isEncoding } from "../rules/encoding.ts";
import { checkAssetPath, checkContentType, DEFAULT_CONTENT_TYPE, isContentHash } from "../shared/names.ts";
import { badField, isPlainObject } from "./body.ts";

/** Checks a page; files over `maxFileBytes` are refused before any byte of them is sent. */
export function parseManifestPage(body: Record<string, unknown>, maxFileBytes: number): FileEntry[] {
  const files = body.files;
  if (!isPlainObject(files)) {
    throw badField("files", 'must be an object mapping paths to {"hash", "size", "contentType"?}');
  }
  const paths = Object.keys(files);
  if (paths.length === 0) {
    throw badField("files", "must list at least one file");
  }
  if (paths.length > MAX_PAGE_ENTRIES) {
    throw badField("files", `a page holds at most ${MAX_PAGE_ENTRIES} files; send the manifest in several pages`);
  }
  return paths.map((path) => {
    const field = `files[${JSON.stringify(path)}]`;
    const problem = checkAssetPath(path);
    if (problem) {
      throw badField(field, `the path ${problem}`);
    }
    const entry = files[path];
    if (!isPlainObject(entry)) {
      throw badField(field, 'must be {"hash", "size", "contentType"?}');
    }
    const { hash, size, contentType = DEFAULT_CONTENT_TYPE } = entry;
    if (typeof hash !== "string" || !isContentHash(hash)) {
      throw badField(`${field}.hash`, "must be 64 lowercase hex digits");
    }
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw badField(`${field}.size`, "must be a whole number of bytes, 0 or more");
    }
    if (size > maxFileBytes) {
      throw new AppError(
        "payload_too_large",
        `${field}.size: ${size} bytes is over this platform's limit of ${maxFileBytes} bytes per file`,
        {
          field: `${field}.size`,
        },
      );
    }
    const typeProblem = typeof contentType === "string" ? checkContentType(contentType) : "must be a string";
    if (typeProblem) {
      throw badField(`${field}.contentType`, typeProblem);
    }
    const encodings = checkEncodings(entry.encodings, `${field}.encodings`, size);
    return { path, hash, size, contentType: contentType as string, ...(encodings ? { encodings } : {}) };
  });
}

/** A file's precompressed variants: known codings, each a blob smaller than the file. */
function checkEncodings(value: unknown, field: string, size: number): FileEntry["encodings"] {
  if (value === undefined) {
    return undefined;
  }
  if (!isPlainObject(value)) {
    throw badField(field, `must map content codings (${ENCODINGS.join(", ")}) to {"hash", "size"}`);
  }
  const encodings: NonNullable<FileEntry["encodings"]> = {};
  for (const [coding, variant] of Object.entries(value)) {
    if (!isEncoding(coding)) {
      throw badField(`${field}.${coding}`, `unknown content coding; the codings are ${ENCODINGS.join(", ")}`);
    }
    if (!isPlainObject(variant) || typeof variant.hash !== "string" || !isContentHash(variant.hash)) {
      throw badField(`${field}.${coding}.hash`, "must be 64 lowercase hex digits");
    }
    const bytes = variant.size;
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes <= 0 || bytes >= size) {
      throw badField(
        `${field}.${coding}.size`,
        `must be a whole number of bytes, more than 0 and less than the file's ${size}`,
      );
    }
    encodings[coding] = { hash: variant.hash, size: bytes };
  }
  return encodings;
}
