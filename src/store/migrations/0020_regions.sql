-- Data regions (issue #16, policy item 36): each account's recordings, pictures and exports
-- are stored only under its region's root. NULL: the operator's default region (accounts made
-- before regions, and sign-ups that chose none).
ALTER TABLE users ADD COLUMN region TEXT;

-- A move to another region happens only when the person asks for it and says yes to it in
-- the app; each move is that consent's record (when, from where, to where) and the job's
-- progress. Kept with the account's other consents (keyed by its random id once cancelled).
CREATE TABLE region_moves (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  from_region  TEXT NOT NULL,
  to_region    TEXT NOT NULL,
  consented_at INTEGER NOT NULL,
  state        TEXT NOT NULL DEFAULT 'moving',  -- moving | done
  done_at      INTEGER
);
CREATE INDEX region_moves_user ON region_moves (user_id, consented_at);
CREATE INDEX region_moves_state ON region_moves (state);
