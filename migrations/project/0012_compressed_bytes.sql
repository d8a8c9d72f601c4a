-- The bytes of a finalized version's precompressed variants (see
-- src/rules/encoding.ts; stored as files named `br:/path`), summed when it is
-- finalized. NULL for versions finalized before they were counted.
ALTER TABLE versions ADD COLUMN compressed_bytes INTEGER;
