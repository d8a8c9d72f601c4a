-- The project's manifest: its settings, its versions and their files, the
-- blobs it has stored in R2, and the history of which version was live.

-- Exactly one row, written when the project is created.
CREATE TABLE project (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- How many of the newest finalized versions are kept.
  retention INTEGER NOT NULL,
  -- The live version; NULL until the first activation.
  active_version TEXT
);

-- A version is created 'staged' when a deploy starts (it is the deploy's
-- upload session), becomes 'ready' when finalized, and ends 'pruned',
-- 'deleted' or 'expired'. Ended rows stay as tombstones so that errors can
-- say what happened to a version; their files are removed.
CREATE TABLE versions (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('staged', 'ready', 'pruned', 'deleted', 'expired')),
  created_at INTEGER NOT NULL,
  -- Staged versions lapse at this time (epoch ms).
  expires_at INTEGER,
  finalized_at INTEGER,
  message TEXT NOT NULL DEFAULT '',
  file_count INTEGER NOT NULL DEFAULT 0,
  total_bytes INTEGER NOT NULL DEFAULT 0,
  -- Serving configuration (JSON), fixed when the deploy starts.
  config TEXT NOT NULL,
  -- Pinned versions are never pruned.
  pinned INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX versions_by_state ON versions (state, id);

CREATE TABLE files (
  version_id TEXT NOT NULL,
  path TEXT NOT NULL,
  hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  -- Decided from the path when the deploy lists the file.
  content_type TEXT NOT NULL,
  PRIMARY KEY (version_id, path)
) WITHOUT ROWID;

-- Garbage collection asks whether any version still uses a blob.
CREATE INDEX files_by_hash ON files (hash);

-- Blobs known to be in R2. A row is written only after R2 accepted a
-- verified body; 'deleting' marks a blob that garbage collection is
-- removing, which uploads of the same content wait for.
CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  stored_at INTEGER NOT NULL,
  deleting INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Uploads under way. While a hash holds a lease, garbage collection leaves
-- its blob alone, so an upload that found the blob already stored can rely
-- on it until the upload is recorded.
CREATE TABLE upload_leases (
  hash TEXT PRIMARY KEY,
  holders INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every change of the live version. `back_to` is where a rollback from this
-- activation goes: the version that was live before it, or, for an
-- activation made by a rollback, the one live before that.
CREATE TABLE activations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  version_id TEXT NOT NULL,
  previous_id TEXT,
  back_to TEXT,
  at INTEGER NOT NULL
);
