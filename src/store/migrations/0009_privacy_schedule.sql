-- A camera's privacy-mode schedule (issue #13): JSON as device::read_privacy_schedule reads
-- it, NULL for none; and the last edge of it already applied (Unix ms; NULL when the schedule
-- was just set), so an edge is applied once and the owner's own switch wins until the next.
-- They belong to the binding: an unbind clears both.
ALTER TABLE devices ADD COLUMN privacy_schedule TEXT;
ALTER TABLE devices ADD COLUMN privacy_schedule_edge BIGINT;
