-- Each project's summary, written by the project's own Durable Object
-- whenever it changes, so that the project list is answered from the
-- registry alone, a page at a time, at any number of projects.
ALTER TABLE projects ADD COLUMN live_version TEXT;
-- JSON: alias name → version.
ALTER TABLE projects ADD COLUMN aliases TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN last_deploy_at INTEGER;
-- When the summary was taken (the project's clock): an older one never replaces a newer.
ALTER TABLE projects ADD COLUMN summary_at INTEGER NOT NULL DEFAULT 0;
