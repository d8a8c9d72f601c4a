-- How many of a finalized version's files are served immutable (their names
-- carry a content fingerprint; src/rules/fingerprint.ts), counted when it is
-- finalized. NULL for versions finalized before it was counted.
ALTER TABLE versions ADD COLUMN immutable_files INTEGER;
