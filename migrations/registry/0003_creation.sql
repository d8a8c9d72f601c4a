-- What a project was created with, kept here so that creating a project is
-- one row: its own Durable Object is set up from it on first use.
-- NULL: the platform's default retention.
ALTER TABLE projects ADD COLUMN retention INTEGER;
