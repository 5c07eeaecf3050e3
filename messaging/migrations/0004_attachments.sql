-- A message may carry one media object: its ID (for access checks) and its
-- description as the media service gave it when attached (JSON), so that
-- history and sync need not join another component's tables.
ALTER TABLE messages ADD COLUMN media_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN media TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_media ON messages (media_id) WHERE media_id <> 0;
