-- Events (issue #14): what happened in front of a camera or to it. A camera's own reports
-- (motion, person, sound, device_alarm) and the server's (offline, privacy_mode), each with
-- when it started and ended (NULL while open), a score, the zones it touched (JSON, '' for
-- none), its picture's size (NULL: none), and how many reports were grouped into it (a busy
-- scene is one event with a count, not a hundred). Events belong to the binding: an unbind
-- deletes them with the recordings.
CREATE TABLE events (
  id             TEXT PRIMARY KEY,
  device_id      TEXT NOT NULL REFERENCES devices(id),
  kind           TEXT NOT NULL,
  start_ms       BIGINT NOT NULL,
  end_ms         BIGINT,
  score          REAL NOT NULL DEFAULT 0,
  zones          TEXT NOT NULL DEFAULT '',
  snapshot_bytes BIGINT,
  reports        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX events_device_start ON events (device_id, start_ms, id);
CREATE INDEX events_start ON events (start_ms);

-- Read or unread, per person: everything that started at or before a person's mark is read
-- ("mark all read"), and a row here overrides that for one event either way.
CREATE TABLE event_reads (
  user_id  TEXT NOT NULL,
  event_id TEXT NOT NULL,
  is_read  INTEGER NOT NULL,
  PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_reads_event ON event_reads (event_id);
CREATE TABLE event_read_marks (
  user_id   TEXT PRIMARY KEY,
  before_ms BIGINT NOT NULL
);
-- The server's long events (offline, privacy mode) overlapping a timeline's start.
CREATE INDEX events_device_kind_start ON events (device_id, kind, start_ms);
