-- Moderation: signals about a subject join one case; a case is decided by
-- actions, each of which is owed a statement of reasons and can be appealed.

-- Cases. A subject has at most one case that is not resolved; new signals
-- about it join that case.
CREATE TABLE mod_cases (
	id           AUTO_ID,
	subject      TEXT NOT NULL,                -- message:CHAT:SEQ | chat:ID | user:ID | media:ID | notice:ID
	chat_id      BIGINT NOT NULL DEFAULT 0,
	seq          BIGINT NOT NULL DEFAULT 0,
	user_id      BIGINT NOT NULL DEFAULT 0,
	media_id     BIGINT NOT NULL DEFAULT 0,
	category     TEXT NOT NULL,                -- the most severe category any signal gave
	priority     BIGINT NOT NULL,              -- 0..100, higher first
	state        TEXT NOT NULL DEFAULT 'open', -- open | escalated | resolved
	assignee_id  BIGINT NOT NULL DEFAULT 0,
	reach        BIGINT NOT NULL DEFAULT 0,    -- members or subscribers who could see the subject
	signal_count BIGINT NOT NULL DEFAULT 0,
	weight_milli BIGINT NOT NULL DEFAULT 0,    -- signals weighted by their reporters' track record, x1000
	sources      TEXT NOT NULL DEFAULT '',     -- every source that signalled, comma-separated
	due_at       BIGINT NOT NULL,              -- the category's SLA from the first signal
	opened_at    BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	resolved_at  BIGINT NOT NULL DEFAULT 0,
	outcome      TEXT NOT NULL DEFAULT ''      -- actioned | dismissed, once resolved
);
CREATE UNIQUE INDEX mod_cases_open_subject ON mod_cases (subject) WHERE state <> 'resolved';
CREATE INDEX mod_cases_queue ON mod_cases (state, priority, due_at);

-- Signals: user reports, trusted flaggers, notices, detection verdicts.
-- A reporter counts once per subject, however often they report it.
CREATE TABLE mod_signals (
	id           AUTO_ID,
	case_id      BIGINT NOT NULL REFERENCES mod_cases (id),
	subject      TEXT NOT NULL,
	source       TEXT NOT NULL,
	category     TEXT NOT NULL,
	reporter_id  BIGINT NOT NULL DEFAULT 0,
	notice_id    BIGINT NOT NULL DEFAULT 0,
	comment      TEXT NOT NULL DEFAULT '',
	detail       TEXT NOT NULL DEFAULT '',
	weight_milli BIGINT NOT NULL,
	created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX mod_signals_once ON mod_signals (subject, reporter_id) WHERE reporter_id <> 0;
CREATE INDEX mod_signals_case ON mod_signals (case_id);
CREATE INDEX mod_signals_reporter ON mod_signals (reporter_id, created_at);

-- A case's history, as its reviewers see it.
CREATE TABLE mod_events (
	id       AUTO_ID,
	case_id  BIGINT NOT NULL REFERENCES mod_cases (id),
	actor_id BIGINT NOT NULL DEFAULT 0,
	kind     TEXT NOT NULL,
	note     TEXT NOT NULL DEFAULT '',
	at       BIGINT NOT NULL
);
CREATE INDEX mod_events_case ON mod_events (case_id, id);

-- Actions: one record per decision against content or an account, which is
-- also its statement of reasons (DSA Art. 17). A reversal is stamped on it.
CREATE TABLE mod_actions (
	id                  AUTO_ID,
	case_id             BIGINT NOT NULL REFERENCES mod_cases (id),
	kind                TEXT NOT NULL,         -- remove_message | takedown | suspend | ban | label
	label               TEXT NOT NULL DEFAULT '', -- for a label action
	subject             TEXT NOT NULL,
	chat_id             BIGINT NOT NULL DEFAULT 0,
	seq                 BIGINT NOT NULL DEFAULT 0,
	user_id             BIGINT NOT NULL DEFAULT 0,
	affected_id         BIGINT NOT NULL,       -- whose content or account it restricts
	category            TEXT NOT NULL,
	ground              TEXT NOT NULL,         -- terms | illegal
	legal_reference     TEXT NOT NULL DEFAULT '',
	facts               TEXT NOT NULL,
	content_type        TEXT NOT NULL,         -- text | image | video | audio | other
	excerpt             TEXT NOT NULL DEFAULT '', -- what was restricted, as it was
	source              TEXT NOT NULL,         -- what led to it: the case's first source
	automated_detection INTEGER NOT NULL,
	automated_decision  INTEGER NOT NULL,
	countries           TEXT NOT NULL DEFAULT '', -- empty: worldwide
	ends_at             BIGINT NOT NULL DEFAULT 0,
	moderator_id        BIGINT NOT NULL,
	created_at          BIGINT NOT NULL,
	reversed_at         BIGINT NOT NULL DEFAULT 0,
	reversed_by         BIGINT NOT NULL DEFAULT 0,
	reversal_reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mod_actions_affected ON mod_actions (affected_id, id);
CREATE INDEX mod_actions_case ON mod_actions (case_id);

-- Appeals (DSA Art. 20): one per action, decided by someone other than the
-- moderator who acted.
CREATE TABLE mod_appeals (
	id              AUTO_ID,
	action_id       BIGINT NOT NULL REFERENCES mod_actions (id),
	user_id         BIGINT NOT NULL,
	text            TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending', -- pending | upheld | rejected
	decided_by      BIGINT NOT NULL DEFAULT 0,
	decision_reason TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	decided_at      BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX mod_appeals_action ON mod_appeals (action_id);
CREATE INDEX mod_appeals_state ON mod_appeals (state, id);

-- Notices from people without an account (DSA Art. 16). The notifier
-- follows theirs with a token; only its hash is kept.
CREATE TABLE mod_notices (
	id          AUTO_ID,
	token_hash  TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	email       TEXT NOT NULL DEFAULT '',
	explanation TEXT NOT NULL,
	location    TEXT NOT NULL,
	category    TEXT NOT NULL,
	good_faith  INTEGER NOT NULL,
	case_id     BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL
);

-- Trusted flaggers (DSA Art. 22): accounts of registered organisations whose
-- reports go ahead of the queue.
CREATE TABLE mod_flaggers (
	user_id      BIGINT PRIMARY KEY REFERENCES users (id),
	organisation TEXT NOT NULL,
	added_at     BIGINT NOT NULL
);

-- How far the intake of automated detection signals has read.
CREATE TABLE mod_intake (
	source  TEXT PRIMARY KEY,
	last_id BIGINT NOT NULL
);
