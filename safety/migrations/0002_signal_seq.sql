-- A message held for review is stored unseen, and its signal names it by
-- its chat and seq, so the moderation case is about that message.
ALTER TABLE safety_signals ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;

-- An upload a hash bank holds or flags is named by its media ID, so the
-- moderation case is about that file.
ALTER TABLE safety_signals ADD COLUMN media_id BIGINT NOT NULL DEFAULT 0;
