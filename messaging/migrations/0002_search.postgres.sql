-- Full-text search of message text (a GIN index over the 'simple' text
-- search configuration: no stemming, like SQLite's unicode61), and a folded
-- search key for public chats' titles and names.
ALTER TABLE chats ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
CREATE INDEX chats_public ON chats (username_key, member_count) WHERE username_key IS NOT NULL;

CREATE INDEX messages_fts ON messages USING GIN (to_tsvector('simple', text));
