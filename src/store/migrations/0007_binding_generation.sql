-- Which binding of a device is current (issue #12): raised on every bind and unbind. Stream
-- tokens carry the generation they were minted under, so a token of a camera's last owner
-- (or their family) never opens what the next owner's camera shows.
ALTER TABLE devices ADD COLUMN binding_generation BIGINT NOT NULL DEFAULT 0;
