/** The project row: identity, settings and the live-version pointer. */
import { fail, succeed, type Outcome } from "../errors.ts";
import { MAX_RETENTION } from "../shared/limits.ts";
import type { Db } from "./db.ts";
import type { ProjectInfo } from "./contract.ts";

export interface ProjectRow extends Record<string, SqlStorageValue> {
  name: string;
  created_at: number;
  retention: number;
  active_version: string | null;
}

export function getProject(db: Db): ProjectRow | null {
  return db.first<ProjectRow>("SELECT name, created_at, retention, active_version FROM project WHERE id = 1");
}

/** The project row, for code that only runs once the project exists. */
export function requireProject(db: Db): ProjectRow {
  const row = getProject(db);
  if (!row) {
    throw new Error("the project has not been created");
  }
  return row;
}

export function insertProject(db: Db, name: string, retention: number, now: number): void {
  db.run("INSERT INTO project (id, name, created_at, retention) VALUES (1, ?, ?, ?)", name, now, retention);
}

export function toProjectInfo(row: ProjectRow): ProjectInfo {
  return {
    name: row.name,
    createdAt: new Date(row.created_at).toISOString(),
    retention: row.retention,
    activeVersion: row.active_version,
  };
}

/** Checks a retention setting. */
export function checkRetention(value: number): Outcome<number> {
  if (!Number.isInteger(value) || value < 1 || value > MAX_RETENTION) {
    return fail("bad_request", `retention: must be a whole number from 1 to ${MAX_RETENTION}`, { field: "retention" });
  }
  return succeed(value);
}
