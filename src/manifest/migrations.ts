/**
 * The schema migrations of a project's manifest (see src/storage/migrate.ts
 * for how they are applied). Never edit a migration that has shipped: add a
 * new file.
 */
import init from "../../migrations/project/0001_init.sql";
import deployTokens from "../../migrations/project/0002_deploy_tokens.sql";
import multipartUploads from "../../migrations/project/0003_multipart_uploads.sql";
import serverCode from "../../migrations/project/0004_server_code.sql";
import serverBundles from "../../migrations/project/0005_server_bundles.sql";
import scopesAndQuotas from "../../migrations/project/0006_scopes_and_quotas.sql";
import aliasesHistoryDeletion from "../../migrations/project/0007_aliases_history_deletion.sql";
import packs from "../../migrations/project/0008_packs.sql";
import authority from "../../migrations/project/0009_authority.sql";
import snapshots from "../../migrations/project/0010_snapshots.sql";
import immutableFiles from "../../migrations/project/0011_immutable_files.sql";
import compressedBytes from "../../migrations/project/0012_compressed_bytes.sql";
import { applyMigrations as apply, type Migration } from "../storage/migrate.ts";
import type { Db } from "../storage/db.ts";

export { isInitialized, schemaVersion } from "../storage/migrate.ts";

export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: "init", sql: init },
  { id: 2, name: "deploy_tokens", sql: deployTokens },
  { id: 3, name: "multipart_uploads", sql: multipartUploads },
  { id: 4, name: "server_code", sql: serverCode },
  { id: 5, name: "server_bundles", sql: serverBundles },
  { id: 6, name: "scopes_and_quotas", sql: scopesAndQuotas },
  { id: 7, name: "aliases_history_deletion", sql: aliasesHistoryDeletion },
  { id: 8, name: "packs", sql: packs },
  { id: 9, name: "authority", sql: authority },
  { id: 10, name: "snapshots", sql: snapshots },
  { id: 11, name: "immutable_files", sql: immutableFiles },
  { id: 12, name: "compressed_bytes", sql: compressedBytes },
];

/** Applies the manifest's migrations not yet applied; returns their ids. */
export function applyMigrations(db: Db, migrations: readonly Migration[] = MIGRATIONS): number[] {
  return apply(db, migrations);
}
