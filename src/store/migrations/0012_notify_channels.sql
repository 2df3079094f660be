-- Notification channels beyond the app (issue #14).
-- Webhooks: a person's own endpoints. The signing secret is not stored (it is derived from
-- the server's notify key and the id); the last attempt's status is shown to the person.
CREATE TABLE webhooks (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id),
  url         TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_user ON webhooks (user_id);
-- Deliveries that never got through (the dead-letter list), at most 100 per person.
CREATE TABLE webhook_failures (
  id          TEXT PRIMARY KEY,
  webhook_id  TEXT NOT NULL REFERENCES webhooks(id),
  user_id     TEXT NOT NULL REFERENCES users(id),
  payload     TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  last_status INTEGER NOT NULL,
  failed_at   BIGINT NOT NULL
);
CREATE INDEX webhook_failures_user ON webhook_failures (user_id, failed_at);
-- Home automation over MQTT: who has a topic space and credentials on the broker. The
-- password is derived from the server's key and the generation, which a reset raises.
CREATE TABLE mqtt_homes (
  user_id    TEXT PRIMARY KEY REFERENCES users(id),
  generation BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
-- Arming on a schedule: the mode in the schedule's hours and outside them (JSON, or NULL),
-- and the last edge applied (between edges, the person's own one-tap choice holds).
ALTER TABLE notify_settings ADD COLUMN arming_schedule TEXT;
ALTER TABLE notify_settings ADD COLUMN arming_edge BIGINT;
-- Per camera, set by its owner: the modes in which an events-only plan records its events
-- (all three unless the owner says otherwise).
ALTER TABLE notify_cameras ADD COLUMN record_modes TEXT NOT NULL DEFAULT 'home,away,disarmed';
-- Server-side detection (issue #14), per camera, set by its owner: on or off, the zones,
-- the minimum area, the threshold, and whether to look for people (JSON).
CREATE TABLE detection_settings (
  device_id TEXT PRIMARY KEY REFERENCES devices(id),
  settings  TEXT NOT NULL
);
