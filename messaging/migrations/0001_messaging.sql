-- Chats: private (two users), groups and channels. Every change to a chat
-- takes the next number of its own sequence (seq).
CREATE TABLE chats (
	id                AUTO_ID,
	kind              TEXT NOT NULL,              -- private | group | channel
	title             TEXT NOT NULL DEFAULT '',
	about             TEXT NOT NULL DEFAULT '',
	username          TEXT,                       -- public @name of a group or channel
	username_key      TEXT UNIQUE,
	username_skeleton TEXT UNIQUE,
	private_key       TEXT UNIQUE,                -- "low:high" user IDs of a private chat
	creator_id        BIGINT NOT NULL REFERENCES users (id),
	seq               BIGINT NOT NULL DEFAULT 0,  -- the last sequence number taken
	member_count      BIGINT NOT NULL DEFAULT 0,
	-- large chats (channels, and groups past the size threshold) write no
	-- per-member update rows: members sync them by the chat's own seq.
	large             INTEGER NOT NULL DEFAULT 0,
	members_can_post  INTEGER NOT NULL DEFAULT 1,
	members_can_add   INTEGER NOT NULL DEFAULT 1,
	members_can_pin   INTEGER NOT NULL DEFAULT 0,
	members_can_edit_info INTEGER NOT NULL DEFAULT 0,
	pinned_seq        BIGINT NOT NULL DEFAULT 0,
	last_message_seq  BIGINT NOT NULL DEFAULT 0,
	last_activity_at  BIGINT NOT NULL,
	created_at        BIGINT NOT NULL
);

CREATE TABLE chat_members (
	chat_id     BIGINT NOT NULL REFERENCES chats (id),
	user_id     BIGINT NOT NULL REFERENCES users (id),
	role        TEXT NOT NULL DEFAULT 'member',   -- owner | admin | member
	status      TEXT NOT NULL DEFAULT 'member',   -- member | left | banned
	read_seq    BIGINT NOT NULL DEFAULT 0,        -- read up to here
	cleared_seq BIGINT NOT NULL DEFAULT 0,        -- history deleted for this member up to here
	joined_at   BIGINT NOT NULL,
	PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id, status);

-- Every change to a chat, one row per seq: a message, an edit, a deletion,
-- a pin, a membership change. Syncing a chat reads these.
CREATE TABLE chat_events (
	chat_id     BIGINT NOT NULL REFERENCES chats (id),
	seq         BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	actor_id    BIGINT NOT NULL DEFAULT 0,
	message_seq BIGINT NOT NULL DEFAULT 0,        -- the message it concerns
	user_id     BIGINT NOT NULL DEFAULT 0,        -- the member it concerns
	at          BIGINT NOT NULL,
	PRIMARY KEY (chat_id, seq)
);

-- Messages are stored once, keyed by the seq of the event that created them.
CREATE TABLE messages (
	chat_id       BIGINT NOT NULL REFERENCES chats (id),
	seq           BIGINT NOT NULL,
	sender_id     BIGINT NOT NULL REFERENCES users (id),
	text          TEXT NOT NULL,
	reply_to      BIGINT NOT NULL DEFAULT 0,
	fwd_chat_id   BIGINT NOT NULL DEFAULT 0,
	fwd_seq       BIGINT NOT NULL DEFAULT 0,
	fwd_sender_id BIGINT NOT NULL DEFAULT 0,
	fwd_at        BIGINT NOT NULL DEFAULT 0,
	created_at    BIGINT NOT NULL,
	edited_at     BIGINT NOT NULL DEFAULT 0,
	deleted_at    BIGINT NOT NULL DEFAULT 0,      -- deleted for everyone: text is wiped
	PRIMARY KEY (chat_id, seq)
);

-- Each user's update log (pts) for their private chats and small groups.
CREATE TABLE user_updates (
	user_id  BIGINT NOT NULL REFERENCES users (id),
	pts      BIGINT NOT NULL,
	chat_id  BIGINT NOT NULL,
	chat_seq BIGINT NOT NULL,
	PRIMARY KEY (user_id, pts)
);
CREATE TABLE user_pts (
	user_id BIGINT PRIMARY KEY REFERENCES users (id),
	pts     BIGINT NOT NULL
);

-- Idempotency keys: a retried send returns the message it first created.
CREATE TABLE send_keys (
	user_id    BIGINT NOT NULL,
	idem_key   TEXT NOT NULL,
	chat_id    BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX send_keys_created ON send_keys (created_at);

-- Messages a member deleted for themselves only.
CREATE TABLE hidden_messages (
	user_id BIGINT NOT NULL,
	chat_id BIGINT NOT NULL,
	seq     BIGINT NOT NULL,
	PRIMARY KEY (user_id, chat_id, seq)
);

CREATE TABLE blocks (
	user_id    BIGINT NOT NULL REFERENCES users (id),
	blocked_id BIGINT NOT NULL REFERENCES users (id),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (user_id, blocked_id)
);

CREATE TABLE chat_invites (
	code        TEXT PRIMARY KEY,
	chat_id     BIGINT NOT NULL REFERENCES chats (id),
	creator_id  BIGINT NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL DEFAULT 0,
	usage_limit BIGINT NOT NULL DEFAULT 0,
	usage_count BIGINT NOT NULL DEFAULT 0,
	revoked_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX chat_invites_chat ON chat_invites (chat_id);
