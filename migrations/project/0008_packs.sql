-- Small blobs uploaded together are stored together: one R2 object, a
-- pack (projects/<project>/packs/<id>), holds many blobs, each at its
-- offset, so that a deploy of many small files makes few R2 writes. A
-- blob keeps its content hash as its name; a pack is deleted once none of
-- its blobs is kept.
CREATE TABLE packs (
  id TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  -- 1 while garbage collection deletes it.
  deleting INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- NULL: the blob is an R2 object of its own (projects/<project>/blobs/<hash>).
ALTER TABLE blobs ADD COLUMN pack TEXT;
ALTER TABLE blobs ADD COLUMN pack_offset INTEGER;
CREATE INDEX blobs_by_pack ON blobs (pack);
