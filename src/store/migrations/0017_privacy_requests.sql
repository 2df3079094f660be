-- Privacy requests (issue #16, policy item 37): a person asks for access, a correction, a
-- deletion, makes a complaint or asks a question, in the app; the operator answers within
-- 15 working days (weekends and the operator's holidays not counted). The person sees the
-- status and the answer. They go with the account when it is cancelled.
CREATE TABLE privacy_requests (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id),
  kind         TEXT NOT NULL,    -- access | correction | deletion | complaint | question
  body         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  due_at       BIGINT NOT NULL,  -- the end of the 15th working day after it came
  status       TEXT NOT NULL,    -- open | answered
  answer       TEXT NOT NULL DEFAULT '',
  answered_at  BIGINT
);
CREATE INDEX privacy_requests_user ON privacy_requests (user_id, created_at);
CREATE INDEX privacy_requests_open ON privacy_requests (status, due_at);
