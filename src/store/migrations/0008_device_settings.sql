-- A camera's settings as it last reported them (issue #13): `settings` (JSON, from 0003)
-- is now what the camera says in its state and its answers to config.set, and this says
-- when. The app shows these, never its own defaults.
ALTER TABLE devices ADD COLUMN settings_at BIGINT;
-- Where the camera is (set by its owner when adding it: "Hallway", "Back garden").
ALTER TABLE devices ADD COLUMN place TEXT NOT NULL DEFAULT '';

-- When a camera was in privacy mode (it sent nothing and recorded nothing, on purpose), so
-- the timeline shows those hours as privacy, not as a failure. An open period has no end.
-- They belong to the binding: an unbind deletes them with the recordings.
CREATE TABLE device_privacy_periods (
  device_id TEXT NOT NULL REFERENCES devices(id),
  start_ms  BIGINT NOT NULL,
  end_ms    BIGINT
);
CREATE INDEX device_privacy_periods_device ON device_privacy_periods (device_id, start_ms);
