/**
 * Serving lookups: which version a request is served from, and what that
 * version's files and rules make of its URL, answered from the manifest.
 * The version is chosen and its files read without waiting on any I/O, so
 * an activation can never split a request between two versions.
 */
import type { CompiledConfig } from "../serve/config.ts";
import { runsWorkerFirst } from "../serve/dispatch.ts";
import type { HeaderOp } from "../serve/headers.ts";
import { route, type Intent } from "../serve/resolve.ts";
import type { Db } from "./db.ts";
import type { ProjectRow } from "./project.ts";
import { serverRefOf, type ServerRef } from "./server-code.ts";
import { getVersion, unavailability, type VersionRow } from "./versions.ts";

export interface ResolveInput {
  /** The request URL, as received. */
  url: string;
  /** Serve this version instead of the live one. */
  version?: string;
  /**
   * Set when the platform routes a request to the project, so that the
   * project's server code may be chosen to answer it; unset when the server
   * code itself asks its ASSETS binding.
   */
  routing?: { navigate: boolean };
}

export interface FileRef {
  path: string;
  hash: string;
  size: number;
  contentType: string;
  /** When the blob was stored (epoch ms): the file's Last-Modified. */
  storedAt: number;
}

export type Resolution =
  | { kind: "unavailable"; reason: "no-project" | "no-live-version" | "no-such-version"; message?: string }
  /** The version's server code answers. */
  | { kind: "server"; version: string; server: ServerRef }
  | { kind: "resolved"; version: string; intent: Intent; file: FileRef | null; headers: HeaderOp[] };

export async function resolveRequest(
  db: Db,
  project: ProjectRow,
  input: ResolveInput,
  configOf: (row: VersionRow) => CompiledConfig,
  now: number,
): Promise<Resolution> {
  const versionId = input.version ?? project.active_version;
  if (versionId === null) {
    return { kind: "unavailable", reason: "no-live-version" };
  }
  const row = getVersion(db, versionId);
  const problem = unavailability(row, versionId, now);
  if (!row || problem) {
    return { kind: "unavailable", reason: "no-such-version", message: problem ?? undefined };
  }
  const exists = (path: string): string | null =>
    db.first<{ hash: string }>("SELECT hash FROM files WHERE version_id = ? AND path = ?", versionId, path)?.hash ?? null;
  const url = new URL(input.url);
  const compiled = configOf(row);
  // See src/serve/dispatch.ts for the routing order with server code.
  const server = input.routing ? serverRefOf(db, versionId) : null;
  if (server && runsWorkerFirst(compiled.workerFirst, url.pathname)) {
    return { kind: "server", version: versionId, server };
  }
  const spaNavigation = input.routing?.navigate === true && compiled.config.not_found_handling === "single-page-application";
  const { intent, headers } = await route(url, compiled, exists, { notFound: !server || spaNavigation });
  if (server && intent.kind === "none" && !intent.rewritten) {
    return { kind: "server", version: versionId, server };
  }
  const file = intent.kind === "asset" ? lookupFile(db, versionId, intent.path) : null;
  return { kind: "resolved", version: versionId, intent, file, headers };
}

function lookupFile(db: Db, version: string, path: string): FileRef | null {
  return db.first<{ path: string; hash: string; size: number; contentType: string; storedAt: number }>(
    `SELECT f.path, f.hash, f.size, f.content_type AS contentType, b.stored_at AS storedAt
     FROM files f JOIN blobs b ON b.hash = f.hash WHERE f.version_id = ? AND f.path = ?`,
    version,
    path,
  );
}
