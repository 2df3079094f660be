-- Several nodes (issue #17): which node writes each recording segment. A node starting up
-- recovers the segments left open by itself or by nodes that are gone, never those another
-- node is writing now. '' for segments written before nodes had names.
ALTER TABLE recording_segments ADD COLUMN writer TEXT NOT NULL DEFAULT '';
