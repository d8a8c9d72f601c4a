/**
 * The deploy flow. A deploy opens a staged version, adds the manifest page by
 * page (learning which blobs to upload), and is finalized once every blob is
 * stored. Every function is synchronous and runs inside the Durable Object,
 * so each one is atomic with respect to every other request.
 */
import { fail, succeed, type Outcome } from "../outcome.ts";
import type { ServingConfig } from "../rules/config.ts";
import { variantPath, type Encoding } from "../rules/encoding.ts";
import { compileHashedFiles, isFingerprinted } from "../rules/fingerprint.ts";
import { MAX_FILES_PER_VERSION, SESSION_TTL_MS } from "../shared/limits.ts";
import { formatVersionId } from "../shared/names.ts";
import { aliasTarget, deployLive, setAlias } from "./pointers.ts";
import type { Db } from "../storage/db.ts";
import { quotasOf, requireProject } from "./project.ts";
import { pruneVersions } from "./retention.ts";
import { pathHash } from "../shared/snapshot.ts";
import type { Actor } from "./authority.ts";
import type { FileEntry, FinalizeResult, PageResult, ServerRef, StartedDeploy } from "./contract.ts";
import { saveServerRef } from "./server-code.ts";
import { endVersion, getVersion, hasLapsed, unavailability, type VersionRow } from "./versions.ts";

/** Opens a deploy: a staged version that files are added to page by page. */
export function startDeploy(
  db: Db,
  message: string,
  config: ServingConfig,
  server: ServerRef | null,
  createdBy: string,
  now: number,
): Outcome<StartedDeploy> {
  const limit = quotasOf(requireProject(db)).openDeploys;
  const open =
    db.first<{ n: number }>("SELECT COUNT(*) AS n FROM versions WHERE state = 'staged' AND expires_at > ?", now)?.n ??
    0;
  if (open >= limit) {
    return fail(
      "quota_exceeded",
      `this project has ${open} deploys open, its limit; finalize them or let them expire (after 24 hours), or have an admin raise quotas.openDeploys`,
      { quota: "openDeploys", limit },
    );
  }
  // Version ids encode the creation time; keep them strictly increasing so
  // that they sort by creation even when two deploys start in the same ms.
  const latest = db.first<{ t: number | null }>("SELECT MAX(created_at) AS t FROM versions")?.t ?? 0;
  const createdAt = Math.max(now, latest + 1);
  const id = formatVersionId(createdAt);
  const expiresAt = now + SESSION_TTL_MS;
  db.run(
    `INSERT INTO versions (id, state, created_at, expires_at, message, config, created_by)
     VALUES (?, 'staged', ?, ?, ?, ?, ?)`,
    id,
    createdAt,
    expiresAt,
    message,
    JSON.stringify(config),
    createdBy,
  );
  if (server) {
    saveServerRef(db, id, server);
  }
  return succeed({ version: id, expiresAt: new Date(expiresAt).toISOString(), missing: missingBlobs(db, id, 1000) });
}

/** Returns the staged version `id`, or why files cannot be added to it. */
function openDeploy(db: Db, id: string, now: number): Outcome<VersionRow> {
  const row = getVersion(db, id);
  if (!row) {
    return fail("version_not_found", `deploy ${id} does not exist`);
  }
  if (row.state === "ready") {
    return fail("version_immutable", `version ${id} is finalized; its files cannot change`);
  }
  if (row.state !== "staged" || hasLapsed(row, now)) {
    return fail("version_unavailable", unavailability(row, id, now) ?? `deploy ${id} is closed`);
  }
  return succeed(row);
}

/**
 * Adds one page of the manifest to a staged version and reports which of
 * its blobs the platform lacks. Listing a blob here protects it from garbage
 * collection for as long as the deploy stays open. Sending the same page
 * again is harmless.
 */
export function addFiles(db: Db, id: string, entries: readonly FileEntry[], now: number): Outcome<PageResult> {
  return db.atomically(() => {
    const open = openDeploy(db, id, now);
    if (!open.ok) {
      return open;
    }
    const field = (path: string): string => `files[${JSON.stringify(path)}]`;
    const seen = new Set<string>();
    for (const [index, entry] of entries.entries()) {
      if (seen.has(entry.path)) {
        return fail("bad_request", `${field(entry.path)}: the path is listed twice in this page`, {
          field: field(entry.path),
          index,
        });
      }
      seen.add(entry.path);
    }
    // The page goes to SQLite as one JSON parameter, and each step below is
    // one statement over all of it: a statement per file costs far more.
    // A file's variants are rows of their own (`br:/app.js`), beside it in
    // its snapshot page (they share its path hash); `v` marks them.
    const page = JSON.stringify(
      entries.flatMap((entry) => {
        const ph = pathHash(entry.path);
        const file = { path: entry.path, hash: entry.hash, size: entry.size, type: entry.contentType, ph, v: 0 };
        const variants = Object.entries(entry.encodings ?? {}).map(([coding, variant]) => ({
          path: variantPath(coding as Encoding, entry.path),
          hash: variant.hash,
          size: variant.size,
          type: entry.contentType,
          ph,
          v: 1,
        }));
        return [file, ...variants];
      }),
    );
    // Three passes over the page: what this deploy lists already, what is
    // not stored (or stored at another size), and the insert.
    const listed = db.all<{ idx: number; path: string; differs: number }>(
      `${PAGE} SELECT page.idx, page.path, f.hash != page.hash OR f.size != page.size AS differs
        FROM page CROSS JOIN files f ON f.version_id = ?2 AND f.path = page.path ORDER BY page.idx`,
      page,
      id,
    );
    const conflict = listed.find((row) => row.differs === 1);
    if (conflict) {
      return fail("bad_request", `${field(conflict.path)}: the path is already listed with other content`, {
        field: field(conflict.path),
        index: conflict.idx,
      });
    }
    const unstored = db.all<{ hash: string; wrong: number }>(
      `${PAGE} SELECT DISTINCT page.hash, b.hash IS NOT NULL AND b.deleting = 0 AS wrong
        FROM page LEFT JOIN blobs b ON b.hash = page.hash
        WHERE b.hash IS NULL OR b.deleting != 0 OR b.size != page.size`,
      page,
    );
    const wrongSize = unstored.some((row) => row.wrong === 1)
      ? db.first<{ path: string; hash: string; listed: number; stored: number }>(
          `${PAGE} SELECT page.path, page.hash, page.size AS listed, b.size AS stored FROM page CROSS JOIN blobs b ON b.hash = page.hash
            WHERE b.deleting = 0 AND b.size != page.size ORDER BY page.idx LIMIT 1`,
          page,
        )
      : null;
    if (wrongSize) {
      const sizeField = `${field(wrongSize.path)}.size`;
      return fail(
        "bad_request",
        `${sizeField}: content ${wrongSize.hash} is ${wrongSize.stored} bytes, not ${wrongSize.listed}`,
        {
          field: sizeField,
        },
      );
    }
    const missing = unstored.map((row) => row.hash);
    const already = new Set(listed.map((row) => row.path));
    const added = entries.filter((entry) => !already.has(entry.path));
    const files = open.value.file_count + added.length;
    if (files > MAX_FILES_PER_VERSION) {
      return fail("bad_request", `files: a version holds at most ${MAX_FILES_PER_VERSION} files`, { field: "files" });
    }
    // A path listed already has the same content (a conflict was refused above): its row stays.
    db.run(
      `${PAGE} INSERT INTO files (version_id, path, hash, size, content_type, path_hash)
        SELECT ?2, page.path, page.hash, page.size, page.type, page.ph FROM page WHERE true
        ON CONFLICT (version_id, path) DO NOTHING`,
      page,
      id,
    );
    const addedBytes = added.reduce((sum, entry) => sum + entry.size, 0);
    db.run("UPDATE versions SET file_count = ?, total_bytes = total_bytes + ? WHERE id = ?", files, addedBytes, id);
    return succeed({ missing, files });
  });
}

/**
 * A manifest page given as the JSON parameter ?1, one row per file in page
 * order, parsed once. Each row is taken as JSONB (jsonb_each), so reading
 * its fields does not print the row as text and parse it again for each
 * (with json_each that was a fifth of a page's cost). Queries over it name
 * it first and join with CROSS JOIN, which keeps it the outer loop: SQLite
 * would otherwise scan a whole table and look each row up in the page.
 */
const PAGE = `WITH page AS MATERIALIZED (
  SELECT key AS idx, value ->> 'path' AS path, value ->> 'hash' AS hash, value ->> 'size' AS size, value ->> 'type' AS type,
    value ->> 'ph' AS ph, value ->> 'v' AS v
  FROM jsonb_each(?1))`;

/**
 * Finalizes a staged version once every blob it lists is stored, makes it
 * live unless told not to, and applies the retention policy; all in one
 * transaction. Finalizing a finalized version returns the same result.
 */
export function finalize(
  db: Db,
  id: string,
  options: { activate: boolean; alias?: string; force?: boolean },
  actor: Actor,
  now: number,
): Outcome<FinalizeResult> {
  return db.atomically(() => {
    const project = requireProject(db);
    const row = getVersion(db, id);
    if (row?.state === "ready") {
      return succeed(finalizedResult(row, project.active_version === id, null, null, []));
    }
    const open = openDeploy(db, id, now);
    if (!open.ok) {
      return open;
    }
    if (open.value.file_count === 0) {
      return fail("bad_request", `files: deploy ${id} lists no files`, { field: "files" });
    }
    const unstored = unstoredFailure(db, id);
    if (unstored) {
      return unstored;
    }
    // A deploy that changes nothing makes no version and moves nothing.
    const same = options.force === true ? null : sameAs(db, id, options, project.active_version);
    if (same) {
      endVersion(db, id, "deleted");
      const active = project.active_version === same.id;
      return succeed({
        ...finalizedResult(same, active, options.alias ?? null, active ? same.id : null, []),
        unchanged: true,
      });
    }
    db.run(
      `UPDATE versions SET state = 'ready', finalized_at = ?1, expires_at = NULL, immutable_files = ?2,
         compressed_bytes = (SELECT COALESCE(SUM(size), 0) FROM files WHERE version_id = ?3 AND path NOT LIKE '/%')
       WHERE id = ?3`,
      now,
      countImmutable(db, open.value),
      id,
    );
    const previous = options.activate ? deployLive(db, id, actor.name, now) : null;
    if (options.alias !== undefined) {
      const aliased = setAlias(db, options.alias, id, actor.name, now);
      if (!aliased.ok) {
        return aliased;
      }
    }
    const pruned = pruneVersions(db, project.retention, actor);
    return succeed(finalizedResult(open.value, options.activate, options.alias ?? null, previous, pruned));
  });
}

/**
 * The version a staged deploy would only repeat: the one its alias (or
 * live) names, or, for a deploy that moves no pointer, the newest one; the
 * same files (paths, contents, types, variants), configuration and server
 * code. Null if there is none.
 */
function sameAs(
  db: Db,
  id: string,
  options: { activate: boolean; alias?: string },
  live: string | null,
): VersionRow | null {
  const newest = db.first<{ id: string }>("SELECT id FROM versions WHERE state = 'ready' ORDER BY id DESC LIMIT 1")?.id;
  const target =
    options.alias !== undefined ? aliasTarget(db, options.alias) : options.activate ? live : (newest ?? null);
  if (target === null) {
    return null;
  }
  const same = db.first<{ same: number }>(
    `SELECT (SELECT config FROM versions WHERE id = ?1) = (SELECT config FROM versions WHERE id = ?2)
       AND (SELECT COUNT(*) FROM files WHERE version_id = ?1) = (SELECT COUNT(*) FROM files WHERE version_id = ?2)
       AND NOT EXISTS (SELECT 1 FROM files a WHERE a.version_id = ?1 AND NOT EXISTS (
         SELECT 1 FROM files b WHERE b.version_id = ?2 AND b.path = a.path AND b.hash = a.hash
           AND b.content_type = a.content_type))
       AND COALESCE((SELECT json_array(bundle_hash, vars, compatibility_date, compatibility_flags)
                     FROM version_server WHERE version_id = ?1), '')
         = COALESCE((SELECT json_array(bundle_hash, vars, compatibility_date, compatibility_flags)
                     FROM version_server WHERE version_id = ?2), '') AS same`,
    id,
    target,
  );
  return same?.same === 1 ? getVersion(db, target) : null;
}

/** How many of a version's files its configuration serves immutable. */
function countImmutable(db: Db, row: VersionRow): number {
  const hashed = compileHashedFiles((JSON.parse(row.config) as ServingConfig).hashed);
  return db
    .all<{ path: string }>("SELECT path FROM files WHERE version_id = ? AND path LIKE '/%'", row.id)
    .filter(({ path }) => isFingerprinted(path, hashed)).length;
}

function finalizedResult(
  row: VersionRow,
  active: boolean,
  alias: string | null,
  previous: string | null,
  pruned: string[],
): FinalizeResult {
  return { version: row.id, active, alias, previous, files: row.file_count, bytes: row.total_bytes, pruned };
}

/** Blobs a deploy lists (its files, and its server code's bundle) that are not stored. */
const MISSING = `
  SELECT hash FROM (SELECT hash FROM files WHERE version_id = ?1
                    UNION SELECT bundle_hash AS hash FROM version_server WHERE version_id = ?1) listed
  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = listed.hash AND b.deleting = 0)`;

/**
 * Why a deploy cannot be finalized for its blobs (one missing, or stored at
 * another size than listed), or null. One pass over its files says whether
 * anything is wrong; counting what is missing (with its sort of every hash)
 * and finding a wrong size run only when it says so.
 */
function unstoredFailure(db: Db, id: string): ReturnType<typeof fail> | null {
  const problem = db.first(
    `SELECT 1 AS problem FROM files f LEFT JOIN blobs b ON b.hash = f.hash
      WHERE f.version_id = ?1 AND (b.hash IS NULL OR b.deleting != 0 OR b.size != f.size)
     UNION ALL
     SELECT 1 FROM version_server s
      WHERE s.version_id = ?1 AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = s.bundle_hash AND b.deleting = 0)
     LIMIT 1`,
    id,
  );
  if (problem === null) {
    return null;
  }
  const missingCount = countMissingBlobs(db, id);
  if (missingCount > 0) {
    return fail("blobs_missing", `${missingCount} blob(s) listed by deploy ${id} have not been uploaded`, {
      missing: missingBlobs(db, id, 1000),
      missingCount,
    });
  }
  const wrongSize = db.first<{ path: string; size: number; actual: number }>(
    `SELECT f.path, f.size, b.size AS actual FROM files f JOIN blobs b ON b.hash = f.hash
     WHERE f.version_id = ? AND f.size != b.size LIMIT 1`,
    id,
  );
  if (wrongSize) {
    const field = `files[${JSON.stringify(wrongSize.path)}].size`;
    return fail("bad_request", `${field}: the content is ${wrongSize.actual} bytes, not ${wrongSize.size}`, {
      field,
    });
  }
  return null;
}

function countMissingBlobs(db: Db, id: string): number {
  return db.first<{ n: number }>(`SELECT COUNT(*) AS n FROM (${MISSING})`, id)?.n ?? 0;
}

function missingBlobs(db: Db, id: string, limit: number): string[] {
  return db.all<{ hash: string }>(`${MISSING} ORDER BY hash LIMIT ${limit}`, id).map((row) => row.hash);
}

/** Expires deploys whose upload session has lapsed; returns how many. */
export function expireDeploys(db: Db, now: number): number {
  const lapsed = db.all<{ id: string }>("SELECT id FROM versions WHERE state = 'staged' AND expires_at <= ?", now);
  for (const { id } of lapsed) {
    endVersion(db, id, "expired");
  }
  return lapsed.length;
}

/** The earliest time a staged deploy lapses, if any is open. */
export function nextExpiry(db: Db): number | null {
  return db.first<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM versions WHERE state = 'staged'")?.t ?? null;
}
