-- Per-project deploy tokens. Only the SHA-256 of a token is kept; `id` is a
-- short public handle to list and revoke it by.
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
