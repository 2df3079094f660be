-- The camera's SD card as it last reported it in telemetry (issue #5, policy items 19 and
-- 23): {"capacity_bytes","used_bytes","health"} as JSON, and when it said so. Shown to the
-- people who manage the device even while the camera is offline.
ALTER TABLE devices ADD COLUMN sd_state TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN sd_state_at BIGINT;
