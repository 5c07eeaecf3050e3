-- Territorial restrictions: a chat, or one message of it, withheld from
-- readers in some countries only. The rest of the world reads it as before.
CREATE TABLE restrictions (
	id         AUTO_ID,
	chat_id    BIGINT NOT NULL,
	seq        BIGINT NOT NULL DEFAULT 0, -- the message; 0 for the whole chat
	scope      TEXT NOT NULL DEFAULT '',  -- countries and groups (EU, EEA), comma-separated; '' = where country rules make category illegal
	category   TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL,             -- shown to readers where it applies
	legal_ref  TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	lifted_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX restrictions_chat ON restrictions (chat_id, seq);

-- Every node keeps the active restrictions in memory and reloads them when
-- this number moves.
CREATE TABLE restriction_version (
	id      INTEGER PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO restriction_version (id, version) VALUES (1, 0);
