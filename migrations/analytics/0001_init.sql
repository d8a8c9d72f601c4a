-- A project's request analytics and its server code's logs.

-- Counts per minute and version (at: minutes since the epoch), kept
-- MINUTE_RETENTION; then rolled into hours.
CREATE TABLE minutes (
  at INTEGER NOT NULL,
  version TEXT NOT NULL,
  requests INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  s2xx INTEGER NOT NULL,
  s3xx INTEGER NOT NULL,
  s4xx INTEGER NOT NULL,
  s5xx INTEGER NOT NULL,
  cache_hits INTEGER NOT NULL,
  server_calls INTEGER NOT NULL,
  PRIMARY KEY (at, version)
) WITHOUT ROWID;

-- The same per hour (at: hours since the epoch), kept HOUR_RETENTION.
CREATE TABLE hours (
  at INTEGER NOT NULL,
  version TEXT NOT NULL,
  requests INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  s2xx INTEGER NOT NULL,
  s3xx INTEGER NOT NULL,
  s4xx INTEGER NOT NULL,
  s5xx INTEGER NOT NULL,
  cache_hits INTEGER NOT NULL,
  server_calls INTEGER NOT NULL,
  PRIMARY KEY (at, version)
) WITHOUT ROWID;

-- The busiest paths of each hour, all requests and 404s ('all' | '404').
CREATE TABLE paths (
  hour INTEGER NOT NULL,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  requests INTEGER NOT NULL,
  PRIMARY KEY (hour, kind, path)
) WITHOUT ROWID;

-- The server code's log lines, a bounded ring (seq grows, old lines go).
CREATE TABLE logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  version TEXT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  request TEXT
);
CREATE INDEX logs_at ON logs (at);

-- Flushes already counted, so that a retried one counts once.
CREATE TABLE flushes (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;

-- When the project's analytics were last erased (its deletion): flushes of
-- requests from before then are dropped.
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  erased_at INTEGER NOT NULL
);
