-- Envelopes waiting for their recipient device to acknowledge them. seq
-- orders a device's envelopes; id is the random name clients and franking
-- tags use. (PostgreSQL keys the table by device and seq instead: see the
-- other file of this version.)
CREATE TABLE secret_envelopes (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	id               TEXT NOT NULL UNIQUE,
	recipient_device BIGINT NOT NULL REFERENCES secret_devices (device_id) ON DELETE CASCADE,
	recipient        BIGINT NOT NULL,
	sender           BIGINT NOT NULL,
	sender_device    BIGINT NOT NULL,
	body             BLOB NOT NULL,
	commitment       BLOB NOT NULL,
	tag              BLOB NOT NULL,
	at_us            BIGINT NOT NULL
);
CREATE INDEX secret_envelopes_device ON secret_envelopes (recipient_device, seq);
CREATE INDEX secret_envelopes_at ON secret_envelopes (at_us);
