-- What waits for the external classifier: uploads and messages, by
-- reference (the content is read when the job runs, so a message deleted
-- meanwhile is never sent). A job stays until it is answered, so a restart,
-- a full queue or a classifier that is down loses none; a node claims one
-- by moving next_at past now, and a failed call moves it later still.
CREATE TABLE safety_classify_jobs (
	id         AUTO_ID,
	kind       TEXT NOT NULL,                   -- media | message
	media_id   BIGINT NOT NULL DEFAULT 0,
	chat_id    BIGINT NOT NULL DEFAULT 0,
	seq        BIGINT NOT NULL DEFAULT 0,
	state      TEXT NOT NULL DEFAULT 'pending', -- pending | failed (given up)
	attempts   BIGINT NOT NULL DEFAULT 0,
	next_at    BIGINT NOT NULL,                 -- when to try next, or the end of a claim
	last_error TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
CREATE INDEX safety_classify_due ON safety_classify_jobs (state, next_at);
