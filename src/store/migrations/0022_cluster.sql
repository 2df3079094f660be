-- Several nodes on one database (issue #17). Each node says it is alive every second; a node
-- not heard from for a few seconds is gone. Times are the database's own clock, so nodes whose
-- clocks disagree still agree on who is alive and who holds what.
CREATE TABLE nodes (
  id           TEXT PRIMARY KEY,   -- stable for a data directory (DIR/node-id)
  http_url     TEXT NOT NULL,      -- where other nodes reach its API
  rtsp_url     TEXT NOT NULL,      -- where other nodes pull its streams
  started_ms   BIGINT NOT NULL,
  heartbeat_ms BIGINT NOT NULL
);

-- Work that one node at a time must do (the reapers, anonymisation, exports, region moves):
-- held by a node until expires_ms, renewed while it lives, taken over once it has expired.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_ms BIGINT NOT NULL
);
