-- Family sharing (issue #5). An owner (or an admin of the device) invites an e-mail address
-- with a role; the person with that address accepts or declines; the owner revokes, or the
-- invitee leaves. Only accepted, unrevoked shares give access, checked on every request.
CREATE TABLE device_shares (
  id         TEXT PRIMARY KEY,
  device_id  TEXT NOT NULL REFERENCES devices(id),
  invited_by TEXT NOT NULL REFERENCES users(id),
  email      TEXT NOT NULL,                      -- lower-cased
  user_id    TEXT REFERENCES users(id),          -- who accepted
  role       TEXT NOT NULL,                      -- 'viewer' | 'family' | 'admin'
  state      TEXT NOT NULL,                      -- 'pending' | 'accepted' | 'declined' | 'revoked'
  created_at BIGINT NOT NULL,
  decided_at BIGINT
);
CREATE INDEX device_shares_device ON device_shares (device_id, state);
CREATE INDEX device_shares_user ON device_shares (user_id, state);
CREATE INDEX device_shares_email ON device_shares (email, state);
