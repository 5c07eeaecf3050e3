-- Bulk actions: one decision applied to every subject a query finds (say,
-- every channel that posted a file). The targets are frozen when the
-- request is made, so what a second person approves is what was previewed.
CREATE TABLE mod_bulk (
	id              AUTO_ID,
	kind            TEXT NOT NULL,           -- remove_message | takedown
	query           TEXT NOT NULL,           -- sha256:HEX
	category        TEXT NOT NULL,
	ground          TEXT NOT NULL,
	legal_reference TEXT NOT NULL DEFAULT '',
	facts           TEXT NOT NULL,
	targets         TEXT NOT NULL,           -- subject keys, comma-separated
	state           TEXT NOT NULL,           -- pending | done | rejected
	requested_by    BIGINT NOT NULL,
	requested_role  TEXT NOT NULL,
	decided_by      BIGINT NOT NULL DEFAULT 0,
	decision_reason TEXT NOT NULL DEFAULT '',
	done            BIGINT NOT NULL DEFAULT 0,
	failed          BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	decided_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mod_bulk_state ON mod_bulk (state, id);
