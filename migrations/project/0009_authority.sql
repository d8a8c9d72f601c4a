-- Which incarnation of the project this is. A project deleted and created
-- again under the same name gets a new one, so that a request that was
-- authenticated against the old project changes nothing in the new one.
ALTER TABLE project ADD COLUMN incarnation TEXT;

-- Who started each deploy: 'admin', or the id of a deploy token. A token
-- below the manage scope prunes only versions it made itself and that were
-- never live (see src/manifest/retention.ts).
ALTER TABLE versions ADD COLUMN created_by TEXT;

-- The most bytes of blobs the project may keep in R2, listed by a version
-- or not; NULL: the platform's default (see src/shared/limits.ts).
ALTER TABLE project ADD COLUMN max_stored_bytes INTEGER;
