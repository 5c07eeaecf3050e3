-- A photo's PDQ perceptual hashes: its eight turns and mirror images, in
-- pdq.Variant order, as 64 hex digits each one after another; '' for none
-- (not a photo, too plain for its hash to mean anything, or not hashed
-- yet). Kept so that hashes banked later can be checked against photos
-- already stored.
ALTER TABLE media ADD COLUMN pdq TEXT NOT NULL DEFAULT '';
-- A photo too large to decode while its upload waits is decoded (for its
-- thumbnail and hashes) and scanned again afterwards: hash_pending until
-- then. hash_claimed_at is when a node took it on; one that died leaves it
-- to be taken again.
ALTER TABLE media ADD COLUMN hash_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN hash_claimed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX media_hash_pending ON media (id) WHERE hash_pending = 1;
-- Banked MD5 hashes are checked against stored files too.
CREATE INDEX media_upload_md5 ON media (upload_md5);
