-- Moderation tombstones. A chat taken down stays stored (an appeal may bring
-- it back) but nobody can read it: one row changes, whatever its size.
ALTER TABLE chats ADD COLUMN taken_down_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN takedown_reason TEXT NOT NULL DEFAULT '';
-- Labels moderation put on a chat (such as "graphic"), comma-separated:
-- shown to readers, who still see the chat.
ALTER TABLE chats ADD COLUMN labels TEXT NOT NULL DEFAULT '';

-- A message removed by moderation reads as deleted everywhere; what it said
-- is kept here, out of every read path and the search index, so that a
-- reversal can put it back.
CREATE TABLE removed_messages (
	chat_id    BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	text       TEXT NOT NULL,
	media_id   BIGINT NOT NULL,
	media      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	removed_at BIGINT NOT NULL,
	held       INTEGER NOT NULL DEFAULT 0, -- held for review when sent, never shown yet
	PRIMARY KEY (chat_id, seq)
);
