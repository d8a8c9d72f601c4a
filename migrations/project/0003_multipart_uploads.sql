-- Multipart uploads of large blobs. Each is resumable part by part: a part
-- is recorded, with the SHA-256 digests of its blocks, only once R2 holds it
-- and its bytes matched the hash the client declared for it.
CREATE TABLE multipart_uploads (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  part_size INTEGER NOT NULL,
  r2_upload_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- Pushed back by every part; an upload idle past it is aborted.
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE multipart_parts (
  hash TEXT NOT NULL,
  part_number INTEGER NOT NULL,
  etag TEXT NOT NULL,
  -- The part's block digests, concatenated (32 bytes each).
  block_digests BLOB NOT NULL,
  PRIMARY KEY (hash, part_number)
) WITHOUT ROWID;
