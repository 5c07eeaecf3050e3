-- Accounts. Personal data (username, display name, email, phone, password
-- hash) lives only here, so deletion and legal holds have one place to act.
CREATE TABLE users (
	id                    AUTO_ID,
	username              TEXT,            -- as typed, NFKC-normalised; NULL once purged
	username_key          TEXT UNIQUE,     -- NFKC + case fold: lookup key
	username_skeleton     TEXT UNIQUE,     -- UTS #39 skeleton: confusable names collide here
	display_name          TEXT NOT NULL,
	password_hash         TEXT,            -- argon2id PHC string; NULL once purged
	email                 TEXT,
	phone                 TEXT,
	role                  TEXT NOT NULL DEFAULT 'user',
	state                 TEXT NOT NULL DEFAULT 'active', -- active | suspended | banned | deleted
	state_reason          TEXT NOT NULL DEFAULT '',
	suspended_until       BIGINT,
	created_at            BIGINT NOT NULL,
	deletion_scheduled_at BIGINT,          -- set while a deletion request waits out its grace period
	deleted_at            BIGINT,          -- the account is gone for its owner
	purged_at             BIGINT           -- personal data wiped (later than deleted_at while a legal hold lasts)
);
CREATE INDEX users_deletion ON users (deletion_scheduled_at);

-- Device sessions. The bearer token is never stored, only its SHA-256.
CREATE TABLE sessions (
	id           AUTO_ID,
	user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash   TEXT NOT NULL UNIQUE,
	device_name  TEXT NOT NULL,
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Legal holds keep an account's personal data through deletion while a
-- preservation request or legal order is in force.
CREATE TABLE legal_holds (
	id          AUTO_ID,
	user_id     BIGINT NOT NULL REFERENCES users (id),
	reference   TEXT NOT NULL,
	placed_at   BIGINT NOT NULL,
	expires_at  BIGINT,                    -- NULL: until released
	released_at BIGINT
);
CREATE INDEX legal_holds_user ON legal_holds (user_id);
