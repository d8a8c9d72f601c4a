/** The project row: identity, settings and the live-version pointer. */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { DEFAULT_QUOTAS } from "../shared/limits.ts";
import type { Db } from "../storage/db.ts";
import type { ProjectInfo, Quotas } from "./contract.ts";

export interface ProjectRow extends Record<string, SqlStorageValue> {
  name: string;
  created_at: number;
  retention: number;
  active_version: string | null;
  max_open_deploys: number | null;
  max_open_uploads: number | null;
  max_upload_bytes: number | null;
  max_stored_bytes: number | null;
  /** 1 while the project is being deleted. */
  deleting: number;
  /** See authority.ts; null for projects created before it existed. */
  incarnation: string | null;
}

export function getProject(db: Db): ProjectRow | null {
  return db.first<ProjectRow>(
    `SELECT name, created_at, retention, active_version, max_open_deploys, max_open_uploads, max_upload_bytes, max_stored_bytes, deleting, incarnation
     FROM project WHERE id = 1`,
  );
}

/** The project's quotas, its own or the platform's defaults. */
export function quotasOf(row: ProjectRow): Quotas {
  return {
    openDeploys: row.max_open_deploys ?? DEFAULT_QUOTAS.openDeploys,
    openUploads: row.max_open_uploads ?? DEFAULT_QUOTAS.openUploads,
    uploadBytes: row.max_upload_bytes ?? DEFAULT_QUOTAS.uploadBytes,
    storedBytes: row.max_stored_bytes ?? DEFAULT_QUOTAS.storedBytes,
  };
}

/** Sets some of the project's quotas; each must be a whole number, 1 or more. */
export function setQuotas(db: Db, quotas: Partial<Quotas>): Outcome<Quotas> {
  const columns = {
    openDeploys: "max_open_deploys",
    openUploads: "max_open_uploads",
    uploadBytes: "max_upload_bytes",
    storedBytes: "max_stored_bytes",
  } as const;
  for (const [key, value] of Object.entries(quotas)) {
    if (!(key in columns) || typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      return fail("bad_request", "must be a whole number, 1 or more", { field: `quotas.${key}` });
    }
  }
  for (const [key, column] of Object.entries(columns)) {
    const value = quotas[key as keyof Quotas];
    if (value !== undefined) {
      db.run(`UPDATE project SET ${column} = ? WHERE id = 1`, value);
    }
  }
  return succeed(quotasOf(requireProject(db)));
}

/** The project row, for code that only runs once the project exists. */
export function requireProject(db: Db): ProjectRow {
  const row = getProject(db);
  if (!row) {
    throw new Error("the project has not been created");
  }
  return row;
}

export function insertProject(db: Db, name: string, retention: number, incarnation: string, now: number): void {
  db.run(
    "INSERT INTO project (id, name, created_at, retention, incarnation) VALUES (1, ?, ?, ?, ?)",
    name,
    now,
    retention,
    incarnation,
  );
}

/** The project as the API shows it. */
export function projectInfo(db: Db, row: ProjectRow): ProjectInfo {
  const aliases = db.all<{ name: string; version_id: string }>("SELECT name, version_id FROM aliases ORDER BY name");
  return {
    name: row.name,
    createdAt: new Date(row.created_at).toISOString(),
    retention: row.retention,
    activeVersion: row.active_version,
    aliases: Object.fromEntries(aliases.map((alias) => [alias.name, alias.version_id])),
    quotas: quotasOf(row),
    storedBytes: storedBytes(db),
  };
}

/** Bytes of the blobs the project keeps. */
export function storedBytes(db: Db): number {
  return db.first<{ bytes: number | null }>("SELECT SUM(size) AS bytes FROM blobs WHERE deleting = 0")?.bytes ?? 0;
}

/** Whether `incoming` more bytes of blobs fit the project's stored-bytes quota. */
export function checkStoredQuota(db: Db, incoming: number): Outcome<null> {
  const limit = quotasOf(requireProject(db)).storedBytes;
  const stored = storedBytes(db);
  if (incoming > 0 && stored + incoming > limit) {
    return fail(
      "quota_exceeded",
      `this project keeps ${stored} bytes of blobs and this upload would take it past its limit of ${limit}; run gc (blobs no version lists are collected within an hour of their upload), delete versions, or have an admin raise quotas.storedBytes`,
      { quota: "storedBytes", limit, stored },
    );
  }
  return succeed(null);
}
