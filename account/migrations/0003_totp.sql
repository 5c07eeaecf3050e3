-- A second factor: an authenticator app's TOTP secret (RFC 6238, base32).
-- totp_pending is a secret being set up, until a first code confirms it;
-- totp_secret is the confirmed one (NULL: no second factor); totp_last_step
-- is the time step of the last code accepted, so that a code works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
