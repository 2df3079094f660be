-- Data exports (issue #16: access and portability): a person asks in the app, a background
-- job writes a ZIP of their personal records and pictures, they are told and download it
-- while it lasts (a day); then the file goes. One export at a time per person.
CREATE TABLE exports (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users(id),
  state       TEXT NOT NULL,   -- queued | building | ready | failed | expired
  done        BIGINT NOT NULL DEFAULT 0,
  total       BIGINT NOT NULL DEFAULT 0,
  created_at  BIGINT NOT NULL,
  ready_at    BIGINT,
  expires_at  BIGINT
);
CREATE INDEX exports_user ON exports (user_id, created_at);
CREATE INDEX exports_state ON exports (state, created_at);
