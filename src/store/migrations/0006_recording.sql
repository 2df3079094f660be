-- Cloud recording (issue #6, docs/recording.md). A segment is one fragmented MP4 file in
-- the media store; its row says when it starts and ends, which run of uninterrupted
-- recording it belongs to, and holds its fragment table (per fragment: duration in 90 kHz
-- ticks, keyframe flag, stored size; packed varints). A row is inserted ('open') before
-- its file exists and closed when the file is; rows left open by a crash are recovered at
-- start from the files themselves.
CREATE TABLE recording_segments (
  id          INTEGER PRIMARY KEY,
  device_id   TEXT NOT NULL REFERENCES devices(id),
  region      TEXT NOT NULL,
  store_key   TEXT NOT NULL UNIQUE,
  run_id      TEXT NOT NULL,
  start_ms    BIGINT NOT NULL,
  end_ms      BIGINT NOT NULL,
  start_ticks BIGINT NOT NULL,              -- decode time of its first fragment (the run's clock)
  init_size   BIGINT NOT NULL,
  bytes       BIGINT NOT NULL,              -- the file's size: init + whole fragments
  media_bytes BIGINT NOT NULL DEFAULT 0,    -- the samples' bytes in it (for the overhead figure)
  state       TEXT NOT NULL DEFAULT 'open', -- open | closed
  fragments   BLOB NOT NULL
);
CREATE INDEX recording_segments_device_time ON recording_segments (device_id, start_ms);
CREATE INDEX recording_segments_state ON recording_segments (state);

-- Cloud recording plans ("cloud video recording package", policy item 36): how long media
-- are kept and what is recorded. Granted per device by the operator or an integration
-- (payment is outside Nightjar) for a period.
CREATE TABLE plans (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  retention_days INTEGER NOT NULL,
  mode           TEXT NOT NULL,             -- continuous | events
  pre_roll_s     INTEGER NOT NULL DEFAULT 5,
  post_roll_s    INTEGER NOT NULL DEFAULT 10,
  created_at     BIGINT NOT NULL
);
CREATE TABLE device_plans (
  id         TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL REFERENCES devices(id),
  plan_id    TEXT NOT NULL REFERENCES plans(id),
  starts_at  BIGINT NOT NULL,
  ends_at    BIGINT NOT NULL,
  granted_at BIGINT NOT NULL
);
CREATE INDEX device_plans_device ON device_plans (device_id, ends_at);
