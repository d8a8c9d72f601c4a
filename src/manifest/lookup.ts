/**
 * Serving lookups: which version a request is served from and what the
 * routing rules make of its path, answered from the manifest in one
 * synchronous step so that an activation can never split a request.
 */
import type { ServingConfig } from "../shared/config.ts";
import { resolveIntent, type Intent } from "../serve/resolve.ts";
import type { Db } from "./db.ts";
import type { ProjectRow } from "./project.ts";
import { getVersion, unavailability } from "./versions.ts";

export interface ResolveInput {
  /** The decoded request path. */
  pathname: string;
  /** Serve this version instead of the live one. */
  version?: string;
}

export interface FileRef {
  path: string;
  hash: string;
  size: number;
  contentType: string;
}

export type Resolution =
  | { kind: "unavailable"; reason: "no-project" | "no-live-version" | "no-such-version"; message?: string }
  | { kind: "resolved"; version: string; intent: Intent; file: FileRef | null };

export function resolveRequest(db: Db, project: ProjectRow, input: ResolveInput, now: number): Resolution {
  const versionId = input.version ?? project.active_version;
  if (versionId === null) {
    return { kind: "unavailable", reason: "no-live-version" };
  }
  const row = getVersion(db, versionId);
  const problem = unavailability(row, versionId, now);
  if (!row || problem) {
    return { kind: "unavailable", reason: "no-such-version", message: problem ?? undefined };
  }
  const config = JSON.parse(row.config) as ServingConfig;
  const files = new Map<string, FileRef>();
  const exists = (path: string): string | null => {
    const file = lookupFile(db, versionId, path);
    if (file) {
      files.set(path, file);
    }
    return file?.hash ?? null;
  };
  const intent = resolveIntent(input.pathname, config, exists);
  const file = intent.kind === "asset" ? (files.get(intent.path) ?? lookupFile(db, versionId, intent.path)) : null;
  return { kind: "resolved", version: versionId, intent, file };
}

function lookupFile(db: Db, version: string, path: string): FileRef | null {
  return db.first<{ path: string; hash: string; size: number; contentType: string }>(
    "SELECT path, hash, size, content_type AS contentType FROM files WHERE version_id = ? AND path = ?",
    version,
    path,
  );
}
