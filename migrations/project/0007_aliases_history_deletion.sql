-- Aliases: named pointers next to the live one (`staging`, `pr-42`), served
-- at <alias>.<project>.<root> and moved as atomically as the live pointer.
CREATE TABLE aliases (
  name TEXT PRIMARY KEY,
  version_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX aliases_by_version ON aliases (version_id);

-- The activation history records every move of every pointer: which
-- pointer ('live' or an alias), what moved it ('deploy', 'activate',
-- 'rollback', 'alias', 'unalias'), and who ('admin' or a deploy token's
-- id; NULL for moves made before this was recorded).
ALTER TABLE activations ADD COLUMN pointer TEXT NOT NULL DEFAULT 'live';
ALTER TABLE activations ADD COLUMN kind TEXT NOT NULL DEFAULT 'activate';
ALTER TABLE activations ADD COLUMN actor TEXT;

CREATE INDEX activations_by_pointer ON activations (pointer, seq);

-- Set while the project is being deleted: nothing may be deployed or
-- served, and its blobs are being removed.
ALTER TABLE project ADD COLUMN deleting INTEGER NOT NULL DEFAULT 0;
