-- Facts about this installation: its id (stable across restarts, shown in /healthz so an
-- operator can tell nodes apart) and when it was created. Portable SQL: SQLite and PostgreSQL.
CREATE TABLE server_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
