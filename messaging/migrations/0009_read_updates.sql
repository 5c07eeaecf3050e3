-- Read marks travel in the update log too, so that a user's other devices
-- and, in a private chat, the other person learn of them live and by sync.
-- An entry with read_seq > 0 says that reader_id read chat_id up to
-- read_seq at read_at; its chat_seq is 0, since a read takes no seq of its
-- chat.
ALTER TABLE user_updates ADD COLUMN reader_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_updates ADD COLUMN read_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE user_updates ADD COLUMN read_at BIGINT NOT NULL DEFAULT 0;
