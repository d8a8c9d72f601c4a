/**
 * The RPC contract of the ProjectManifest Durable Object: the methods it
 * implements and the values they return. Values are plain data
 * (structured-clonable); times are ISO 8601 strings. Expected failures are
 * `Outcome` values, because error classes do not survive RPC. The API and
 * the CLI take their result types from here.
 */
import type { Outcome } from "../outcome.ts";
import type { ServingConfig } from "../rules/config.ts";
import type { TokenScope } from "../shared/limits.ts";
import type { ServerSettings } from "../shared/server-code.ts";
import type { SnapshotFile } from "../shared/snapshot.ts";
import type { Encoding } from "../rules/encoding.ts";

export interface ProjectInfo {
  name: string;
  createdAt: string;
  /** How many of the newest versions are kept. */
  retention: number;
  activeVersion: string | null;
  /** Alias name → the version it names. */
  aliases: Record<string, string>;
  quotas: Quotas;
  /** Bytes of the blobs the project keeps in R2. */
  storedBytes: number;
}

/** What a project may hold open at once. */
export interface Quotas {
  /** Deploys started and neither finalized nor expired. */
  openDeploys: number;
  /** Multipart uploads under way. */
  openUploads: number;
  /** Bytes the open multipart uploads declare, together. */
  uploadBytes: number;
  /** Bytes of blobs the project keeps in R2, listed by a version or not. */
  storedBytes: number;
}

export type VersionState = "staged" | "ready" | "pruned" | "deleted" | "expired";

export interface VersionInfo {
  version: string;
  createdAt: string;
  files: number;
  bytes: number;
  message: string;
  active: boolean;
  pinned: boolean;
  /** The aliases that name this version. */
  aliases: string[];
  /** Its files served immutable (fingerprinted names); null if finalized before they were counted. */
  immutableFiles: number | null;
  /** The bytes of its precompressed variants (`bytes` counts the files as deployed); null if not counted. */
  compressedBytes: number | null;
}

/** One file of a manifest page. */
export interface FileEntry {
  path: string;
  hash: string;
  size: number;
  contentType: string;
  /** Precompressed variants of the file, each a blob of its own (see src/rules/encoding.ts). */
  encodings?: Partial<Record<Encoding, { hash: string; size: number }>>;
}

export interface StartedDeploy {
  version: string;
  expiresAt: string;
  /** Blobs the deploy itself names (its server code's bundle) that must still be uploaded. */
  missing: string[];
}

export interface PageResult {
  /** Hashes in this page that the platform does not have yet. */
  missing: string[];
  /** Files the deploy lists so far. */
  files: number;
}

export interface FinalizeResult {
  version: string;
  active: boolean;
  /** The alias the deploy moved, if any. */
  alias: string | null;
  /** The version that was live before this deploy activated, if it did. */
  previous: string | null;
  files: number;
  bytes: number;
  /** Versions this deploy pushed out of the retention window. */
  pruned: string[];
  /** The deploy repeated `version` (its files, configuration and server code): no version was made, nothing moved. */
  unchanged?: true;
}

export interface ActivationResult {
  active: string;
  previous: string | null;
}

export interface AliasResult {
  alias: string;
  /** What the alias names now: null once it is removed. */
  version: string | null;
  previous: string | null;
}

/** What moved a pointer. */
export type MoveKind = "deploy" | "activate" | "rollback" | "alias" | "unalias";

/** One move of a pointer, from the activation history. */
export interface HistoryEntry {
  at: string;
  /** `live`, or an alias. */
  pointer: string;
  kind: MoveKind;
  from: string | null;
  to: string | null;
  /** `admin`, or the id of the deploy token that did it; null for moves recorded before this was. */
  actor: string | null;
}

/** Where a project's deletion has got to. */
export type PurgeProgress =
  | { state: "purging"; deletedObjects: number }
  | { state: "waiting"; uploads: number; deletedObjects: number }
  | { state: "purged"; deletedObjects: number };

export interface GcResult {
  deleted: number;
  bytesFreed: number;
  /** Hashes of the deleted blobs. */
  blobs: string[];
}

export interface TokenInfo {
  id: string;
  createdAt: string;
  scope: TokenScope;
}

/** A multipart upload as the platform's own API sees it. */
export interface UploadSession {
  hash: string;
  size: number;
  partSize: number;
  partCount: number;
  /** Part numbers already stored, ascending. */
  uploadedParts: number[];
  expiresAt: string;
  /** R2's id of the upload; never shown to clients. */
  r2UploadId: string;
}

// ── Serving ───────────────────────────────────────────────────────────────

/** What the platform needs to run a version's server code. */
export interface ServerRef extends ServerSettings {
  /** The bundle's blob: JSON `{mainModule, modules}`. */
  bundleHash: string;
  /** Where the bundle is stored, once it is (see FileRef). */
  bundle?: { size: number; pack: string | null; offset: number | null };
}

/** A finalized version's serving configuration: immutable, so cacheable forever. */
export interface VersionConfig {
  serving: ServingConfig;
  server: ServerRef | null;
}

/** A file of a version, as the serving Worker needs it (and as its snapshot stores it). */
export type FileRef = SnapshotFile;

/** A file as it is served: with its precompressed variants, each a blob of its own. */
export interface ServedFile extends FileRef {
  encodings?: Partial<Record<Encoding, FileRef>>;
}

/** Which version a request is for: the one a pointer names (`live`, or an alias), or an exact one. */
export type Target = { pointer: string } | { version: string };

export interface LookupQuery {
  target: Target;
  /** Decoded paths to look up in that version. */
  paths: string[];
  /** Versions whose configuration the caller has already; any other comes back with the answer. */
  known: string[];
  /**
   * Present when the caller leases which version the target names: the
   * grace it will trust that past the lease (see src/shared/lease.ts).
   */
  graceMs?: number;
}

export interface Lookup {
  version: string;
  /** Present unless the caller said it knows this version's configuration. */
  config?: VersionConfig;
  /** The files among the paths asked for that exist. */
  files: FileRef[];
  /**
   * How the version's manifest snapshot is split (2^bits pages in R2; see
   * src/shared/snapshot.ts), or null while it has none: then paths are
   * asked of the Durable Object.
   */
  snapshotBits: number | null;
}

/** Why a target cannot be served. */
export type Unavailable = "no-project" | "no-live-version" | "no-such-alias" | "no-such-version";

/** A lookup's answer: what the target names, or why it cannot be served. */
export type LookupAnswer = { ok: true; value: Lookup } | { ok: false; reason: Unavailable; message: string };

// ── Authority ─────────────────────────────────────────────────────────────

/**
 * Who asks for a change, as the API authenticated them: the Durable Object
 * checks it again where the change commits (see authority.ts).
 */
export interface Authority {
  /** The incarnation of the project the caller authenticated against. */
  incarnation: string;
  /** The SHA-256 of the caller's deploy token; null for the admin token. */
  token: string | null;
}

/** A deploy token, as authentication finds it. */
export interface TokenGrant {
  id: string;
  scope: TokenScope;
  incarnation: string;
}

// ── The contract ──────────────────────────────────────────────────────────

export interface ManifestRpc {
  /**
   * Opens the project for the API, setting this Durable Object up from the
   * registry on first use: the project's incarnation, or null if it does
   * not exist.
   */
  open(name: string): Promise<string | null>;
  getProject(): Outcome<ProjectInfo>;
  /** Changes the retention setting and prunes at once to match it. */
  setRetention(by: Authority, retention: number): Promise<Outcome<{ project: ProjectInfo; pruned: string[] }>>;

  setQuotas(by: Authority, quotas: Partial<Quotas>): Outcome<ProjectInfo>;

  addToken(by: Authority, hash: string, id: string, scope: TokenScope): Outcome<{ id: string; scope: TokenScope }>;
  /** The token whose SHA-256 is `hash`, or null. */
  tokenOf(hash: string): TokenGrant | null;
  listTokens(): Outcome<TokenInfo[]>;
  revokeToken(by: Authority, id: string): Outcome<{ id: string }>;

  startDeploy(
    by: Authority,
    message: string,
    config: ServingConfig,
    server: ServerRef | null,
  ): Promise<Outcome<StartedDeploy>>;
  addFiles(by: Authority, version: string, entries: FileEntry[]): Outcome<PageResult>;
  /** Finalizes a staged version; `activate` makes it live, `alias` points an alias at it. */
  finalize(
    by: Authority,
    version: string,
    options: { activate: boolean; alias?: string },
  ): Promise<Outcome<FinalizeResult>>;
  /** The server code of a staged version, to check before it is finalized. */
  stagedServer(version: string): Outcome<ServerRef | null>;

  /** Which of `hashes` the project does not have stored. */
  missingOf(hashes: string[]): Outcome<string[]>;
  /** Before a blob of `size` bytes is uploaded: whether it is stored; if not, it is leased. */
  prepareUpload(by: Authority, hash: string, size: number): Promise<Outcome<{ present: boolean }>>;
  recordUpload(by: Authority, hash: string, size: number): Promise<Outcome<{ hash: string; size: number }>>;
  releaseUpload(hash: string): void;
  /** Before a batch of small blobs is uploaded: which are stored; the rest are leased. */
  prepareBatch(by: Authority, blobs: { hash: string; size: number }[]): Promise<Outcome<{ present: string[] }>>;
  /** Records a stored pack and the blobs in it, and releases the batch's leases. */
  recordBatch(
    by: Authority,
    pack: { id: string; size: number },
    blobs: { hash: string; size: number; offset: number }[],
    leased: string[],
  ): Promise<Outcome<{ recorded: string[] }>>;
  /** Releases the leases of a batch that failed. */
  releaseBatch(hashes: string[]): void;

  startUpload(
    by: Authority,
    hash: string,
    size: number,
    partSize: number,
  ): Promise<Outcome<{ present: true } | UploadSession>>;
  uploadSession(hash: string): Outcome<UploadSession>;
  recordPart(
    by: Authority,
    hash: string,
    partNumber: number,
    etag: string,
    blockDigests: Uint8Array[],
  ): Outcome<{ partNumber: number }>;
  completeUpload(by: Authority, hash: string): Promise<Outcome<{ hash: string; size: number }>>;
  abortUpload(by: Authority, hash: string): Promise<Outcome<{ hash: string }>>;

  listVersions(): Outcome<VersionInfo[]>;
  // Changes that serving isolates hold leases on answer once those leases
  // have run out (see src/env.ts#waitOutLeases).
  activate(by: Authority, version: string): Promise<Outcome<ActivationResult>>;
  rollback(by: Authority, to: string | null): Promise<Outcome<ActivationResult>>;
  setAlias(by: Authority, name: string, version: string): Promise<Outcome<AliasResult>>;
  deleteAlias(by: Authority, name: string): Promise<Outcome<AliasResult>>;
  /** The activation history, newest first. */
  history(limit: number): Outcome<HistoryEntry[]>;
  /** Deletes the project a step at a time: call again until it says `purged`. */
  purge(): Promise<Outcome<PurgeProgress>>;
  deleteVersion(by: Authority, version: string): Promise<Outcome<{ version: string }>>;
  setPinned(by: Authority, version: string, pinned: boolean): Outcome<{ version: string; pinned: boolean }>;
  collectGarbage(by: Authority): Promise<Outcome<GcResult>>;

  /**
   * Serving: which version a target names, its configuration if asked, and
   * the files asked for. A finalized version without a snapshot (finalized
   * before snapshots existed) gets one written in the background.
   */
  lookup(query: LookupQuery): LookupAnswer;
}
