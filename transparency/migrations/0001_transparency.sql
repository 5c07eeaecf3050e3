-- Daily transparency reports, computed once a day is over from the records
-- moderation and the legal team write. One row per day, whichever node
-- computed it; a rebuild replaces it.
CREATE TABLE transparency_days (
	day         TEXT PRIMARY KEY,  -- YYYY-MM-DD, UTC
	report      TEXT NOT NULL,     -- JSON: the raw numbers (legal counts before banding)
	computed_at BIGINT NOT NULL
);
