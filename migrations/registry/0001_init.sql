-- The project registry: every project on the platform, and the custom
-- domains mapped to them. One database for the whole platform.

-- A project is 'active', or 'deleting' while its blobs and manifest are
-- removed; the row goes when that is done, and the name is free again.
CREATE TABLE projects (
  name TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deleting'))
) WITHOUT ROWID;

-- A hostname outside the platform's root domain, served by one project:
-- its live version, or the version one of its aliases names.
CREATE TABLE domains (
  hostname TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  alias TEXT,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX domains_by_project ON domains (project);

-- Changes with every write, so that a serving isolate can ask whether its
-- copy of the registry is still current without fetching it.
CREATE TABLE stamp (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  value INTEGER NOT NULL
);
INSERT INTO stamp (id, value) VALUES (1, 0);
