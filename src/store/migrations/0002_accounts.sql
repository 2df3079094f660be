-- Accounts (issue #3). Ids are random 128-bit hex strings made by the application (no
-- guessable sequence, and portable to PostgreSQL); times are Unix milliseconds (BIGINT).

CREATE TABLE users (
  id                TEXT PRIMARY KEY,
  email             TEXT NOT NULL UNIQUE,      -- lower-cased; anonymised on cancellation
  email_verified_at BIGINT,
  password_hash     TEXT NOT NULL,             -- Argon2id string ('' once cancelled)
  display_name      TEXT NOT NULL DEFAULT '',
  language          TEXT NOT NULL,             -- 'en' | 'zh-CN'
  status            TEXT NOT NULL,             -- 'active' | 'cancelled'
  created_at        BIGINT NOT NULL,
  cancelled_at      BIGINT,
  totp_secret       TEXT,                      -- base32; pending until totp_enabled_at is set
  totp_enabled_at   BIGINT,
  totp_last_step    BIGINT                     -- the last accepted step: codes are single-use
);

-- Which version of the privacy policy each person accepted, and when.
CREATE TABLE policy_acceptances (
  user_id        TEXT NOT NULL REFERENCES users(id),
  policy_version TEXT NOT NULL,
  accepted_at    BIGINT NOT NULL,
  PRIMARY KEY (user_id, policy_version)
);

-- Sign-in sessions. Only hashes of the token and the CSRF token are stored.
CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,               -- public id, shown on the sessions page
  user_id      TEXT NOT NULL REFERENCES users(id),
  token_hash   TEXT NOT NULL UNIQUE,
  csrf_hash    TEXT NOT NULL,
  client       TEXT NOT NULL DEFAULT '',       -- a short description of the user agent
  created_at   BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL                 -- absolute expiry
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use e-mail tokens (verification, password reset), stored hashed.
CREATE TABLE email_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id),
  purpose    TEXT NOT NULL,                    -- 'verify' | 'reset'
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at    BIGINT
);
CREATE INDEX email_tokens_user ON email_tokens (user_id);

-- TOTP recovery codes, stored hashed, each usable once.
CREATE TABLE recovery_codes (
  user_id   TEXT NOT NULL REFERENCES users(id),
  code_hash TEXT NOT NULL,
  used_at   BIGINT,
  PRIMARY KEY (user_id, code_hash)
);

-- Outgoing mail. Delivered by SMTP when configured; readable by the operator either way.
CREATE TABLE outbox (
  id         TEXT PRIMARY KEY,
  to_addr    TEXT NOT NULL,
  subject    TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  status     TEXT NOT NULL,                    -- 'queued' | 'sent' | 'failed' | 'kept' (no SMTP)
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  sent_at    BIGINT
);
CREATE INDEX outbox_status ON outbox (status, created_at);

-- Background jobs whose progress the operator can see (account anonymisation first).
CREATE TABLE jobs (
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  subject    TEXT NOT NULL,
  state      TEXT NOT NULL,                    -- 'queued' | 'running' | 'done' | 'failed'
  progress   TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_state ON jobs (state, created_at);
