-- Two-way talk (issue #15): who talked to which camera, when and for how long. Never what
-- was said: talk audio is not written anywhere. The camera's owner sees its calls.
CREATE TABLE talk_calls (
  id          TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL REFERENCES devices(id),
  user_id     TEXT NOT NULL REFERENCES users(id),
  start_ms    BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL
);
CREATE INDEX talk_calls_device ON talk_calls (device_id, start_ms);
CREATE INDEX talk_calls_user ON talk_calls (user_id);
