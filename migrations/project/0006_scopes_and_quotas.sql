-- Deploy tokens get a scope, chosen when they are created: 'deploy'
-- (upload and finalize without going live), 'activate' (also make versions
-- live and roll back) or 'manage' (also retention, deleting versions,
-- pins and garbage collection). Tokens made before scopes existed could do
-- all of that, and keep doing so.
ALTER TABLE tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'manage'
  CHECK (scope IN ('deploy', 'activate', 'manage'));

-- Quotas on what a project may hold open at once; NULL takes the
-- platform's default (src/shared/limits.ts).
ALTER TABLE project ADD COLUMN max_open_deploys INTEGER;
ALTER TABLE project ADD COLUMN max_open_uploads INTEGER;
ALTER TABLE project ADD COLUMN max_upload_bytes INTEGER;
