-- A data export may hold the person's recordings too, when they ask for them (issue #16):
-- each recorded segment of their cameras as a plain MP4 in the ZIP.
ALTER TABLE exports ADD COLUMN with_recordings INTEGER NOT NULL DEFAULT 0;
