-- Secret chats: the directory of devices' public keys and the relay of
-- their end-to-end encrypted envelopes. The server holds public keys and
-- ciphertext only. A device is an account session, so every row of a device
-- goes with its session (logout, revocation, password change, account
-- deletion) by the cascade of the foreign keys: no path that ends a session
-- can leave its keys or envelopes behind.

-- The server's franking secrets, shared by every node: the highest id stamps
-- new envelopes, the others still verify reports (key rotation). id is the
-- key ID written into every tag (0 to 255).
CREATE TABLE secret_franking_keys (
	id         INTEGER PRIMARY KEY,
	secret     BYTES NOT NULL,
	created_at BIGINT NOT NULL
);

-- A device's published keys.
CREATE TABLE secret_devices (
	device_id     BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	user_id       BIGINT NOT NULL,
	identity      BYTES NOT NULL,  -- X25519 public key (32) || Ed25519 public key (32)
	spk_id        BIGINT NOT NULL,
	spk           BYTES NOT NULL,  -- the signed prekey (X25519, 32)
	spk_signature BYTES NOT NULL,  -- Ed25519 (64)
	spk_at        BIGINT NOT NULL, -- when this signed prekey was published
	updated_at    BIGINT NOT NULL  -- when the keys last changed
);
CREATE INDEX secret_devices_user ON secret_devices (user_id);

-- One-time prekeys. A claimed one keeps its row, with claimed_at set, so
-- that its ID is never stored, and so never handed out, a second time.
CREATE TABLE secret_prekeys (
	device_id  BIGINT NOT NULL REFERENCES secret_devices (device_id) ON DELETE CASCADE,
	key_id     BIGINT NOT NULL,
	pub        BYTES NOT NULL,
	claimed_at BIGINT,
	PRIMARY KEY (device_id, key_id)
);
CREATE INDEX secret_prekeys_unclaimed ON secret_prekeys (device_id, key_id) WHERE claimed_at IS NULL;

-- What each send answered, by the sending device and its client_id, so that
-- a retry gets the same answer and nothing is stored twice. Kept for a day.
CREATE TABLE secret_sends (
	sender_device    BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	client_id        TEXT NOT NULL,
	envelope_id      TEXT NOT NULL,
	recipient        BIGINT NOT NULL,
	recipient_device BIGINT NOT NULL,
	commitment       BYTES NOT NULL,
	tag              BYTES NOT NULL,
	at_us            BIGINT NOT NULL,
	PRIMARY KEY (sender_device, client_id)
);
CREATE INDEX secret_sends_at ON secret_sends (at_us);
