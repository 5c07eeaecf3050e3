-- A message held for review is stored unseen, and its signal names it by
-- its chat and seq, so the moderation case is about that message.
ALTER TABLE safety_signals ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
