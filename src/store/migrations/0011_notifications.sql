-- Consents (issue #14 for notifications; the privacy engine of #16 builds on this ledger):
-- every giving and every withdrawing is a row, never changed; the latest row of a purpose is
-- what holds. Each says when, under which policy version, and how it was given.
CREATE TABLE consents (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users(id),
  purpose        TEXT NOT NULL,
  granted        INTEGER NOT NULL,
  at_ms          BIGINT NOT NULL,
  policy_version TEXT NOT NULL,
  method         TEXT NOT NULL,
  seq            BIGINT NOT NULL                -- the person's rows in the order written
);
CREATE INDEX consents_user ON consents (user_id, purpose, seq);

-- What each person wants to be told about: the arming mode (home, away, disarmed), the
-- kinds that notify ('' for the defaults), quiet hours (a weekly schedule as JSON, or NULL),
-- and how long after a notification about a camera and kind further ones are grouped.
CREATE TABLE notify_settings (
  user_id     TEXT PRIMARY KEY REFERENCES users(id),
  mode        TEXT NOT NULL DEFAULT 'away',
  kinds       TEXT NOT NULL DEFAULT '',
  quiet_hours TEXT,
  cooldown_s  INTEGER NOT NULL DEFAULT 60
);
-- Per person and camera: whether it notifies in Home and in Away mode, and a snooze.
CREATE TABLE notify_cameras (
  user_id         TEXT NOT NULL REFERENCES users(id),
  device_id       TEXT NOT NULL REFERENCES devices(id),
  home            INTEGER NOT NULL DEFAULT 0,
  away            INTEGER NOT NULL DEFAULT 1,
  snooze_until_ms BIGINT,
  PRIMARY KEY (user_id, device_id)
);

-- Web Push subscriptions (RFC 8030): where a person's browser receives pushes, and the keys
-- to encrypt for it (RFC 8291: p256dh, 65 bytes; auth, 16 bytes; kept base64url). A push
-- service's 404 or 410 deletes the row.
CREATE TABLE push_subscriptions (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  endpoint   TEXT NOT NULL UNIQUE,
  p256dh     TEXT NOT NULL,
  auth       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
