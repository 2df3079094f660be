-- Recordings sealed at rest (issue #16, docs/keys.md): each record of a segment file (its init
-- segment, then each fragment) is one XChaCha20-Poly1305 box under the key of the device's
-- binding. The column names that binding's generation; NULL is a file written before sealing
-- (plain, read as it is). Sizes and the fragment table stay those of the plain MP4, which is
-- what playback and clips address; the file is 48 bytes longer per record.
ALTER TABLE recording_segments ADD COLUMN key_generation INTEGER;
