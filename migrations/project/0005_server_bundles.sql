-- Server code arrives bundled (the CLI bundles it), as a blob the deploy
-- lists from the start, so a version's server code is its bundle's hash and
-- how to run it: the sources are no longer kept. Deploys still open whose
-- server code was never bundled cannot be finalized any more; they expire.
UPDATE versions SET state = 'expired', expires_at = NULL
WHERE state = 'staged' AND id IN (SELECT version_id FROM version_server WHERE bundle_hash IS NULL);

CREATE TABLE version_server_bundles (
  version_id TEXT PRIMARY KEY,
  -- The bundle's blob: JSON {mainModule, modules}.
  bundle_hash TEXT NOT NULL,
  compatibility_date TEXT NOT NULL,
  -- JSON array of strings.
  compatibility_flags TEXT NOT NULL,
  -- JSON object: name → value, plain-text variables.
  vars TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO version_server_bundles (version_id, bundle_hash, compatibility_date, compatibility_flags, vars)
SELECT s.version_id, s.bundle_hash, s.compatibility_date, s.compatibility_flags, s.vars
FROM version_server s JOIN versions v ON v.id = s.version_id
WHERE s.bundle_hash IS NOT NULL AND v.state IN ('staged', 'ready');

DROP TABLE version_server;
ALTER TABLE version_server_bundles RENAME TO version_server;
CREATE INDEX version_server_by_bundle ON version_server (bundle_hash);
