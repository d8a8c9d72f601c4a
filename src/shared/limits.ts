/**
 * Limits shared by the platform and the CLI. The CLI checks them before it
 * sends anything so that a bad deploy fails fast and locally; the platform
 * checks them again because it cannot trust the client.
 */

/** Content hashes are computed over consecutive blocks of this size. */
export const BLOCK_SIZE = 4 * 1024 * 1024;

/** A manifest path is at most this many UTF-8 bytes. */
export const MAX_PATH_BYTES = 1024;

/** Files in one version. */
export const MAX_FILES_PER_VERSION = 1_000_000;

/** Entries in one manifest page (one request). */
export const MAX_PAGE_ENTRIES = 10_000;

/** Bytes of one JSON request body (a manifest page is the largest). */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Largest body accepted in a single upload request. Workers refuse request
 * bodies over 100 MB on most plans; larger files go through multipart.
 */
export const MAX_SINGLE_UPLOAD_BYTES = 95 * 1024 * 1024;

/** Versions kept per project unless the project says otherwise. */
export const DEFAULT_RETENTION = 10;

/** Upper bound for a project's retention setting. */
export const MAX_RETENTION = 1000;

/** An unfinished deploy (upload session) expires after this long. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

/** Length of a deploy message, in characters. */
export const MAX_MESSAGE_LENGTH = 1000;
