-- Signals: what automated checks found that a person should review. The
-- moderation queue reads them; they are never deleted by the checks.
CREATE TABLE safety_signals (
	id         AUTO_ID,
	source     TEXT NOT NULL,              -- text_rule | hash_bank
	action     TEXT NOT NULL,              -- flag | hold | block
	categories TEXT NOT NULL,              -- comma-separated
	rules      TEXT NOT NULL,              -- what matched: rule sources or bank entries
	author_id  BIGINT NOT NULL DEFAULT 0,
	chat_id    BIGINT NOT NULL DEFAULT 0,
	field      TEXT NOT NULL DEFAULT '',   -- text | title | about | username | media
	excerpt    TEXT NOT NULL DEFAULT '',   -- the text as written (at most 1,024 characters)
	created_at BIGINT NOT NULL
);
CREATE INDEX safety_signals_created ON safety_signals (created_at);
