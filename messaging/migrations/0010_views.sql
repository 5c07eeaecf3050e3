-- View counts of channel posts and large-group messages. messages.views is
-- the number of distinct users whose device showed the message, counted
-- once each: message_viewers remembers who was counted, but only for
-- messages younger than messaging.ViewWindow. Rows older than that are
-- deleted by the janitor, and a message that old takes no more views, so
-- a post seen by a million people holds a million small rows for a week,
-- not for ever, and its count then stays as it is.
ALTER TABLE messages ADD COLUMN views BIGINT NOT NULL DEFAULT 0;

CREATE TABLE message_viewers (
	chat_id   BIGINT NOT NULL,
	seq       BIGINT NOT NULL,
	user_id   BIGINT NOT NULL,
	viewed_at BIGINT NOT NULL,
	PRIMARY KEY (chat_id, seq, user_id)
);
CREATE INDEX message_viewers_viewed_at ON message_viewers (viewed_at);
