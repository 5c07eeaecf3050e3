-- Law enforcement: registered agencies, their officers, and the requests
-- they file, with every step of each request on its timeline.

-- An agency is registered by the operator. Its officers sign up with an
-- e-mail address at one of its domains.
CREATE TABLE legal_agencies (
	id            AUTO_ID,
	name          TEXT NOT NULL,
	country       TEXT NOT NULL,               -- ISO 3166-1 alpha-2
	jurisdiction  TEXT NOT NULL DEFAULT '',    -- e.g. "Federal", "Bavaria"
	domains       TEXT NOT NULL,               -- lower case, comma-separated
	removal       INTEGER NOT NULL DEFAULT 0,  -- a competent authority for removal orders
	created_at    BIGINT NOT NULL,
	disabled_at   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE legal_officers (
	id                 AUTO_ID,
	agency_id          BIGINT NOT NULL REFERENCES legal_agencies (id),
	email              TEXT NOT NULL UNIQUE,   -- lower case
	name               TEXT NOT NULL,
	badge              TEXT NOT NULL DEFAULT '',
	password_hash      TEXT NOT NULL,
	code_hash          TEXT NOT NULL DEFAULT '', -- the e-mail code, until verified
	code_expires_at    BIGINT NOT NULL DEFAULT 0,
	code_attempts      BIGINT NOT NULL DEFAULT 0,
	verified_at        BIGINT NOT NULL DEFAULT 0,
	totp_secret        TEXT NOT NULL DEFAULT '',
	totp_enabled_at    BIGINT NOT NULL DEFAULT 0,
	totp_last_step     BIGINT NOT NULL DEFAULT 0, -- a code is accepted once
	attested_at        BIGINT NOT NULL DEFAULT 0,
	attestation        TEXT NOT NULL DEFAULT '',
	lang               TEXT NOT NULL DEFAULT 'en',
	created_at         BIGINT NOT NULL,
	disabled_at        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE legal_sessions (
	id           AUTO_ID,
	officer_id   BIGINT NOT NULL REFERENCES legal_officers (id),
	token_hash   TEXT NOT NULL UNIQUE,
	second_factor INTEGER NOT NULL DEFAULT 0, -- opened with a TOTP code
	ip           TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);

-- A request. number is its case number, LE-YEAR-NNNNNN.
CREATE TABLE legal_requests (
	id                AUTO_ID,
	number            TEXT NOT NULL UNIQUE,
	agency_id         BIGINT NOT NULL REFERENCES legal_agencies (id),
	officer_id        BIGINT NOT NULL REFERENCES legal_officers (id),
	kind              TEXT NOT NULL,  -- emergency | preservation | disclosure | removal | other
	state             TEXT NOT NULL,  -- received | in_review | needs_info | approved | fulfilled | rejected | withdrawn
	case_reference    TEXT NOT NULL,
	legal_basis       TEXT NOT NULL,
	process           TEXT NOT NULL,  -- subpoena | court_order | warrant | mlat | emergency | preservation | removal_order | tco_removal_order | other
	issuing_authority TEXT NOT NULL,
	jurisdiction      TEXT NOT NULL,  -- ISO 3166-1 alpha-2 of the issuing country
	targets           TEXT NOT NULL,  -- JSON: [{kind, value, user_id, chat_id, seq}]
	date_from         BIGINT NOT NULL DEFAULT 0,
	date_to           BIGINT NOT NULL DEFAULT 0,
	categories        TEXT NOT NULL DEFAULT '', -- data categories asked for, comma-separated
	approved          TEXT NOT NULL DEFAULT '', -- data categories approved
	description       TEXT NOT NULL DEFAULT '',
	deadline          BIGINT NOT NULL DEFAULT 0, -- the date the authority asks for
	due_at            BIGINT NOT NULL,           -- our clock: when it must be answered
	nondisclosure     INTEGER NOT NULL DEFAULT 0,
	nondisclosure_until BIGINT NOT NULL DEFAULT 0,
	decision          TEXT NOT NULL DEFAULT '',  -- the reasons of an approval or rejection
	received_at       BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	closed_at         BIGINT NOT NULL DEFAULT 0,
	paged_at          BIGINT NOT NULL DEFAULT 0, -- emergency: when on-call staff were paged
	answered_at       BIGINT NOT NULL DEFAULT 0, -- first decision by the legal team
	enforced_at       BIGINT NOT NULL DEFAULT 0, -- removal: when the content was withheld
	preserved_until   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX legal_requests_agency ON legal_requests (agency_id, id);
CREATE INDEX legal_requests_state ON legal_requests (state, due_at);

-- Officers of the agency who follow a request besides the one who filed it.
CREATE TABLE legal_followers (
	request_id BIGINT NOT NULL REFERENCES legal_requests (id),
	officer_id BIGINT NOT NULL REFERENCES legal_officers (id),
	PRIMARY KEY (request_id, officer_id)
);

-- Legal documents attached to a request, stored as blobs and never opened
-- by the server; only the legal team downloads them.
CREATE TABLE legal_attachments (
	id           AUTO_ID,
	request_id   BIGINT NOT NULL REFERENCES legal_requests (id),
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         BIGINT NOT NULL,
	sha256       TEXT NOT NULL,
	uploaded_at  BIGINT NOT NULL
);

-- A request's timeline. officer_visible steps are shown in the portal;
-- the others (internal notes) only to the legal team.
CREATE TABLE legal_events (
	id              AUTO_ID,
	request_id      BIGINT NOT NULL REFERENCES legal_requests (id),
	at              BIGINT NOT NULL,
	actor           TEXT NOT NULL,  -- officer | legal | system
	actor_id        BIGINT NOT NULL DEFAULT 0,
	kind            TEXT NOT NULL,
	note            TEXT NOT NULL DEFAULT '',
	officer_visible INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX legal_events_request ON legal_events (request_id, id);

-- The restrictions and holds a request put in place, to lift or extend.
CREATE TABLE legal_effects (
	id          AUTO_ID,
	request_id  BIGINT NOT NULL REFERENCES legal_requests (id),
	kind        TEXT NOT NULL,   -- restriction | hold
	ref_id      BIGINT NOT NULL, -- the moderation action or the account hold
	target      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	ended_at    BIGINT NOT NULL DEFAULT 0
);

-- Disclosure packages and who downloaded them.
CREATE TABLE legal_packages (
	id          AUTO_ID,
	request_id  BIGINT NOT NULL REFERENCES legal_requests (id),
	created_at  BIGINT NOT NULL,
	created_by  BIGINT NOT NULL,
	sha256      TEXT NOT NULL,     -- the package file (a zip) in the blob store
	size        BIGINT NOT NULL,
	manifest    TEXT NOT NULL,     -- JSON, as signed
	signature   TEXT NOT NULL      -- base64 Ed25519 signature of manifest
);
CREATE TABLE legal_downloads (
	id          AUTO_ID,
	package_id  BIGINT NOT NULL REFERENCES legal_packages (id),
	officer_id  BIGINT NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	at          BIGINT NOT NULL
);

-- Users told of a disclosure of their data (after fulfilment, once no
-- non-disclosure order stands in the way).
CREATE TABLE legal_user_notices (
	id          AUTO_ID,
	user_id     BIGINT NOT NULL,
	request_id  BIGINT NOT NULL REFERENCES legal_requests (id),
	categories  TEXT NOT NULL,
	authority   TEXT NOT NULL,
	country     TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (user_id, request_id)
);

-- The signing key of disclosure manifests (one row).
CREATE TABLE legal_keys (
	id          INTEGER PRIMARY KEY,
	private_key TEXT NOT NULL,  -- base64 Ed25519 seed
	public_key  TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
