-- Submissions of statements of reasons to the EU DSA Transparency Database:
-- one row per moderation action once an attempt to submit it has an outcome.
-- An action with no row, or with status 'error', is still to be submitted.
CREATE TABLE dsa_submissions (
	action_id    BIGINT PRIMARY KEY REFERENCES mod_actions (id),
	puid         TEXT NOT NULL UNIQUE,        -- kurir-action-ID, the platform's identifier of the statement
	status       TEXT NOT NULL,               -- accepted | failed | skipped | error
	uuid         TEXT NOT NULL DEFAULT '',    -- the database's identifier, once accepted
	response     TEXT NOT NULL DEFAULT '',    -- why it failed, was skipped or could not be sent
	attempts     BIGINT NOT NULL DEFAULT 0,   -- calls that carried it
	submitted_at BIGINT NOT NULL              -- the last outcome
);
CREATE INDEX dsa_submissions_status ON dsa_submissions (status, action_id);
