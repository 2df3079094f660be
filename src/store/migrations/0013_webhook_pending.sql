-- Webhook deliveries not yet through (issue #14), kept so that a restart loses none: each is
-- tried again at its time after a start, and goes once it got through or was dead-lettered.
CREATE TABLE webhook_pending (
  id          TEXT PRIMARY KEY,  -- the delivery's id (Nightjar-Delivery)
  webhook_id  TEXT NOT NULL REFERENCES webhooks(id),
  user_id     TEXT NOT NULL REFERENCES users(id),
  payload     TEXT NOT NULL,
  attempts    INTEGER NOT NULL,  -- made so far
  due_ms      BIGINT NOT NULL    -- when the next one is
);
CREATE INDEX webhook_pending_webhook ON webhook_pending (webhook_id);
CREATE INDEX webhook_pending_user ON webhook_pending (user_id);
