-- Blobs are stored once per content (by SHA-256) and reference counted by
-- the media objects and thumbnails that use them. A blob nobody references
-- is collected after a grace period. A removed blob is served nowhere and
-- refused at upload.
CREATE TABLE blobs (
	sha256          TEXT PRIMARY KEY,
	md5             TEXT NOT NULL,
	size            BIGINT NOT NULL,
	refs            BIGINT NOT NULL DEFAULT 0,
	unreferenced_at BIGINT NOT NULL DEFAULT 0,   -- when refs last fell to 0
	removed_at      BIGINT NOT NULL DEFAULT 0,
	removed_reason  TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL
);
CREATE INDEX blobs_unreferenced ON blobs (unreferenced_at) WHERE refs = 0;

-- A media object: one upload by one user. What is served is the blob (for
-- images, with identifying metadata stripped); upload_sha256 and upload_md5
-- are of the bytes exactly as uploaded, which is what hash lists match.
CREATE TABLE media (
	id            AUTO_ID,
	owner_id      BIGINT NOT NULL REFERENCES users (id),
	blob          TEXT NOT NULL REFERENCES blobs (sha256),
	thumb         TEXT REFERENCES blobs (sha256),
	upload_sha256 TEXT NOT NULL,
	upload_md5    TEXT NOT NULL,
	size          BIGINT NOT NULL,
	content_type  TEXT NOT NULL,
	kind          TEXT NOT NULL,                 -- photo | video | audio | file
	name          TEXT NOT NULL,
	width         INTEGER NOT NULL DEFAULT 0,
	height        INTEGER NOT NULL DEFAULT 0,
	status        TEXT NOT NULL,                 -- ready | held (for review)
	status_reason TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	attached_at   BIGINT NOT NULL DEFAULT 0       -- first attached to a message; unsent objects are collected
);
CREATE INDEX media_owner ON media (owner_id, created_at);
CREATE INDEX media_unattached ON media (created_at) WHERE attached_at = 0;
CREATE INDEX media_blob ON media (blob);
CREATE INDEX media_thumb ON media (thumb);
CREATE INDEX media_upload_sha256 ON media (upload_sha256);

-- Resumable uploads in progress. The bytes received so far are in a file
-- named by id in the uploads directory; received counts only bytes synced
-- to it.
CREATE TABLE uploads (
	id           TEXT PRIMARY KEY,
	owner_id     BIGINT NOT NULL REFERENCES users (id),
	name         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	kind         TEXT NOT NULL,
	size         BIGINT NOT NULL,
	received     BIGINT NOT NULL DEFAULT 0,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX uploads_owner ON uploads (owner_id);
CREATE INDEX uploads_expires ON uploads (expires_at);
