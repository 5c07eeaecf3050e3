-- Bulk actions run in the background, so that neither a closed browser nor
-- a restart leaves one half done: each target's outcome is kept, and a node
-- claims a running action for a while (claimed_until) before working on it,
-- so several nodes never act on one target twice.
ALTER TABLE mod_bulk ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mod_bulk_running ON mod_bulk (state, claimed_until);
CREATE TABLE mod_bulk_targets (
	bulk_id BIGINT NOT NULL REFERENCES mod_bulk (id),
	pos     BIGINT NOT NULL,                  -- its place in the frozen list
	subject TEXT NOT NULL,
	state   TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
	case_id BIGINT NOT NULL DEFAULT 0,        -- the case filed for it, once filed
	error   TEXT NOT NULL DEFAULT '',         -- why it failed
	PRIMARY KEY (bulk_id, pos)
);

-- Appeals have a due date and an assignee, and a notifier or reporter can
-- ask for a review of a case that was dismissed (DSA Art. 20 covers them
-- too): such a review has no action, names the case and the notice or
-- reporter, and is decided by someone other than decider_id, who dismissed it.
-- SQLite cannot drop a NOT NULL: the table is rebuilt (nothing refers to it).
CREATE TABLE mod_appeals_new (
	id              AUTO_ID,
	action_id       BIGINT REFERENCES mod_actions (id), -- NULL for a review of a dismissal
	user_id         BIGINT NOT NULL,
	text            TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending',
	decided_by      BIGINT NOT NULL DEFAULT 0,
	decision_reason TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	decided_at      BIGINT NOT NULL DEFAULT 0,
	due_at          BIGINT NOT NULL DEFAULT 0,
	assignee_id     BIGINT NOT NULL DEFAULT 0,
	case_id         BIGINT NOT NULL DEFAULT 0,
	notice_id       BIGINT NOT NULL DEFAULT 0,
	decider_id      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO mod_appeals_new (id, action_id, user_id, text, state, decided_by, decision_reason, created_at, decided_at)
	SELECT id, action_id, user_id, text, state, decided_by, decision_reason, created_at, decided_at FROM mod_appeals;
DROP TABLE mod_appeals;
ALTER TABLE mod_appeals_new RENAME TO mod_appeals;
CREATE UNIQUE INDEX mod_appeals_action ON mod_appeals (action_id);
CREATE INDEX mod_appeals_state ON mod_appeals (state, id);
CREATE INDEX mod_appeals_created ON mod_appeals (created_at);
CREATE INDEX mod_appeals_decided ON mod_appeals (decided_at);
UPDATE mod_appeals SET due_at = created_at + 604800000000,
	case_id = (SELECT a.case_id FROM mod_actions a WHERE a.id = mod_appeals.action_id),
	decider_id = (SELECT a.moderator_id FROM mod_actions a WHERE a.id = mod_appeals.action_id);
CREATE INDEX mod_appeals_due ON mod_appeals (state, due_at);
CREATE UNIQUE INDEX mod_appeals_review ON mod_appeals (case_id, user_id, notice_id) WHERE action_id IS NULL;

-- A notifier's name and e-mail address are erased a while after their
-- case closes (Config.NoticeRetention); erased_at says when.
ALTER TABLE mod_notices ADD COLUMN erased_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX mod_notices_case ON mod_notices (case_id);
