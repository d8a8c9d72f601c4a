-- A hash of each file's path (src/shared/snapshot.ts#pathHash), so that a
-- finalized version's snapshot is written a page at a time in hash order.
-- NULL for files listed before snapshots existed (filled in when their
-- version's snapshot is written).
ALTER TABLE files ADD COLUMN path_hash INTEGER;
CREATE INDEX files_by_path_hash ON files (version_id, path_hash);

-- How a finalized version's snapshot is split (into 2^snapshot_bits pages
-- in R2), once it is written; NULL: not written (yet, or any more).
ALTER TABLE versions ADD COLUMN snapshot_bits INTEGER;
