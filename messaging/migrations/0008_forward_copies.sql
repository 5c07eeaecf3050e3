-- Forwarded copies name their first origin; this finds the copies of a
-- message when moderation removes it.
CREATE INDEX messages_forwarded ON messages (fwd_chat_id, fwd_seq) WHERE fwd_chat_id <> 0;

-- A copy removed together with the message it copies names that message,
-- so that reversing the removal brings the copies back with it.
ALTER TABLE removed_messages ADD COLUMN copy_of_chat BIGINT NOT NULL DEFAULT 0;
ALTER TABLE removed_messages ADD COLUMN copy_of_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX removed_messages_copies ON removed_messages (copy_of_chat, copy_of_seq) WHERE copy_of_chat <> 0;
