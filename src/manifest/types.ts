/**
 * Values the ProjectManifest Durable Object returns over RPC. They are plain
 * data (structured-clonable), and times are ISO 8601 strings.
 */

export interface ProjectInfo {
  name: string;
  createdAt: string;
  /** How many of the newest versions are kept. */
  retention: number;
  activeVersion: string | null;
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
}

/** One file of a manifest page. */
export interface FileEntry {
  path: string;
  hash: string;
  size: number;
  contentType: string;
}

export interface StartedDeploy {
  version: string;
  expiresAt: string;
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
  /** The version that was live before this deploy activated, if it did. */
  previous: string | null;
  files: number;
  bytes: number;
  /** Versions this deploy pushed out of the retention window. */
  pruned: string[];
}

export interface ActivationResult {
  active: string;
  previous: string | null;
}

export interface GcResult {
  deleted: number;
  bytesFreed: number;
  /** Hashes of the deleted blobs. */
  blobs: string[];
}

/** What an asset lookup found: the file to serve and the version it is from. */
export interface AssetMatch {
  version: string;
  path: string;
  hash: string;
  size: number;
}
