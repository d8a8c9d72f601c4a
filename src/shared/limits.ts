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

/**
 * Batched uploads (POST …/blobs/batch): at most this many blobs, each at
 * most BATCH_MAX_BLOB_BYTES, BATCH_MAX_BYTES in all. The platform holds a
 * batch in memory while it checks it, so a batch stays well inside a
 * Worker's 128 MB; larger files are uploaded one per request.
 */
export const BATCH_MAX_BLOBS = 1000;
export const BATCH_MAX_BLOB_BYTES = 1024 * 1024;
export const BATCH_MAX_BYTES = 16 * 1024 * 1024;

/** Files larger than this are uploaded in parts by default. */
export const MULTIPART_THRESHOLD = 64 * 1024 * 1024;

/**
 * Multipart parts are whole multiples of BLOCK_SIZE, so that each part's
 * blocks can be hashed on their own; R2 wants parts of at least 5 MiB (all
 * but the last the same size), and each part must fit in one request.
 */
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
export const MIN_PART_SIZE = 8 * 1024 * 1024;
export const MAX_PART_SIZE = 92 * 1024 * 1024;

/** R2 allows at most this many parts in a multipart upload. */
export const MAX_PARTS = 10_000;

/**
 * Largest file, unless the platform's MAX_FILE_BYTES says otherwise. The
 * hard ceiling is MAX_PARTS × MAX_PART_SIZE (about 965 GB); R2 itself
 * stores objects of up to about 5 TiB.
 */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024 * 1024;

/** An idle multipart upload is aborted after this long. */
export const MULTIPART_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The part size for a file of `size` bytes: at least `preferred`, a
 * multiple of BLOCK_SIZE, and large enough to need no more than MAX_PARTS
 * parts. Null if the file is too large for any allowed part size.
 */
export function choosePartSize(size: number, preferred: number = DEFAULT_PART_SIZE): number | null {
  const needed = Math.max(preferred, MIN_PART_SIZE, Math.ceil(size / MAX_PARTS));
  const partSize = Math.ceil(needed / BLOCK_SIZE) * BLOCK_SIZE;
  return partSize <= MAX_PART_SIZE ? partSize : null;
}

export function partCountOf(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** The size of part `partNumber` (1-based): all are `partSize` but the last. */
export function partLength(size: number, partSize: number, partNumber: number): number {
  return Math.min(partSize, size - (partNumber - 1) * partSize);
}

/** Whether `partSize` is one the platform accepts. */
export function isValidPartSize(partSize: number): boolean {
  return (
    Number.isSafeInteger(partSize) &&
    partSize % BLOCK_SIZE === 0 &&
    partSize >= MIN_PART_SIZE &&
    partSize <= MAX_PART_SIZE
  );
}

/** Versions kept per project unless the project says otherwise. */
export const DEFAULT_RETENTION = 10;

/** Upper bound for a project's retention setting. */
export const MAX_RETENTION = 1000;

/** An unfinished deploy (upload session) expires after this long. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

/** Length of a deploy message, in characters. */
export const MAX_MESSAGE_LENGTH = 1000;

// ── Serving caches, per isolate ────────────────────────────────────────────

/**
 * How long a serving isolate trusts what it learned about a pointer (which
 * version is live) or a version (that it exists), unless the
 * POINTER_LEASE_MS variable says otherwise. Activations and deletions
 * return this long after they commit.
 */
export const DEFAULT_POINTER_LEASE_MS = 1000;

/** Projects in a page of GET /api/projects, unless `limit` asks for fewer. */
export const DEFAULT_PROJECTS_PAGE = 100;
/** The most a page of GET /api/projects holds. */
export const MAX_PROJECTS_PAGE = 1000;

/** Pointers and versions an isolate holds leases on. */
export const LEASE_CACHE_ENTRIES = 10_000;

/** Versions whose compiled configuration an isolate keeps (a configuration is at most about 1 MiB). */
export const CONFIG_CACHE_ENTRIES = 64;
export const CONFIG_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * Small blobs stored together in a pack are read a window of the pack at a
 * time: a cold pass over a site's files (uploaded together) then reads R2
 * once per window rather than once per file. Windows an isolate keeps, in
 * bytes.
 */
export const PACK_WINDOW_BYTES = 256 * 1024;
export const PACK_WINDOW_CACHE_BYTES = 32 * 1024 * 1024;

/** Manifest snapshot pages an isolate keeps decoded (a page is about 100 KiB for PAGE_ENTRIES files). */
export const SNAPSHOT_CACHE_ENTRIES = 1024;
export const SNAPSHOT_CACHE_BYTES = 32 * 1024 * 1024;

/** Routing answers an isolate keeps, by (project, version, request shape). */
export const ANSWER_CACHE_ENTRIES = 20_000;
export const ANSWER_CACHE_BYTES = 16 * 1024 * 1024;

/** Bodies up to this size are kept in the Cache API, keyed by project and content hash. */
export const CACHED_BODY_MAX_BYTES = 1024 * 1024;

/** Bodies up to this size are also kept in the isolate's memory, up to MEMORY_BODY_CACHE_BYTES in all. */
export const MEMORY_BODY_MAX_BYTES = 64 * 1024;
export const MEMORY_BODY_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * Any one value a Durable Object stores as JSON (a version's serving
 * configuration, its server code's variables): Cloudflare limits a row of
 * a Durable Object's SQLite to 2 MB, so the API refuses larger ones (413).
 */
export const MAX_STORED_JSON_BYTES = 1024 * 1024;

/** The bytes `value` takes as stored JSON. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

// ── Quotas per project (admins can raise them: PATCH /api/projects/:p) ─────

/** Deploys open at once (started, neither finalized nor expired). */
export const DEFAULT_MAX_OPEN_DEPLOYS = 10;
/** Multipart uploads open at once. */
export const DEFAULT_MAX_OPEN_UPLOADS = 20;
/** Bytes the open multipart uploads may declare, together. */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024 * 1024;
/** Bytes of blobs a project may keep in R2, whether a version lists them or not. */
export const DEFAULT_MAX_STORED_BYTES = 1024 * 1024 * 1024 * 1024;
/** Every project's quotas until an admin sets its own. */
export const DEFAULT_QUOTAS = {
  openDeploys: DEFAULT_MAX_OPEN_DEPLOYS,
  openUploads: DEFAULT_MAX_OPEN_UPLOADS,
  uploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
  storedBytes: DEFAULT_MAX_STORED_BYTES,
} as const;
/** A blob no version or open deploy lists is collected within this long of its upload. */
export const COLLECT_UNLISTED_AFTER_MS = 60 * 60 * 1000;

/** What deploy tokens may do; each scope includes the ones before it. */
export const TOKEN_SCOPES = ["deploy", "activate", "manage"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** What a new deploy token may do unless its creator says otherwise: what a CI's `deploy` needs. */
export const DEFAULT_TOKEN_SCOPE: TokenScope = "activate";

/** Analytics: minutes are kept this long, then summed into hours. */
export const MINUTE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** Hours, and the busiest paths of each hour, are kept this long. */
export const HOUR_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** The longest window an analytics report covers, in minutes. */
export const MAX_REPORT_MINUTES = HOUR_RETENTION_MS / 60_000;
/** A project's server-code log: at most this many lines, none older than LOG_RETENTION_MS. */
export const LOG_LINES = 10_000;
export const LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
