-- Server code of the versions that ship it: the sources as deployed, and
-- the bundle built from them when the version was finalized (a blob in R2,
-- kept from garbage collection while the version is).
CREATE TABLE version_server (
  version_id TEXT PRIMARY KEY,
  entry TEXT NOT NULL,
  -- JSON object: path → source text.
  sources TEXT NOT NULL,
  compatibility_date TEXT NOT NULL,
  -- JSON array of strings.
  compatibility_flags TEXT NOT NULL,
  -- JSON object: name → value, plain-text variables.
  vars TEXT NOT NULL,
  bundle_hash TEXT,
  main_module TEXT
) WITHOUT ROWID;

CREATE INDEX version_server_by_bundle ON version_server (bundle_hash);
