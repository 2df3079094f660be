-- The access transparency log (issue #16): every access to a camera's video or pictures and
-- every share or operator action, appended to a hash chain. Rows are never changed: each
-- row's hash is SHA-256 over its sequence number, the previous row's hash and the row, so a
-- changed, removed or inserted row breaks the chain (`nightjar admin verify-audit`).
-- People appear only by pseudonym: the pseudonym's link to the person is the one row of
-- audit_pseudonyms, deleted when they cancel, which leaves the chain whole and verifiable.
CREATE TABLE audit_log (
  seq         BIGINT PRIMARY KEY,  -- 1, 2, 3, … with no gaps
  at_ms       BIGINT NOT NULL,
  kind        TEXT NOT NULL,       -- live, playback, export, snapshot, talk, sd_playback, share.*, operator.*
  device_id   TEXT NOT NULL,       -- '' for an action on no camera
  generation  BIGINT NOT NULL,     -- the camera's binding then: an owner sees only their own
  actor       TEXT NOT NULL,       -- 'u:' and a pseudonym, 'operator' or 'device'
  session     TEXT NOT NULL,       -- a pseudonym of the session or token, '' if none
  detail      TEXT NOT NULL,       -- a short JSON object, no personal data
  hash        TEXT NOT NULL        -- lower-case hex
);
CREATE INDEX audit_log_device ON audit_log (device_id, generation, seq);
CREATE TABLE audit_pseudonyms (
  user_id    TEXT PRIMARY KEY REFERENCES users(id),
  pseudonym  TEXT NOT NULL UNIQUE
);
