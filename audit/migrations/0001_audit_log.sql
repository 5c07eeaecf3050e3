-- The audit log: every privileged read or write, one row each, chained by
-- hash so that editing, deleting or cutting off rows shows (see audit.Verify).
-- IDs come from audit_head, not from the engine, so that they are gap-free:
-- a gap means a deleted row.
CREATE TABLE audit_log (
	id       BIGINT PRIMARY KEY,
	at       BIGINT NOT NULL,
	actor_id BIGINT NOT NULL,             -- 0: the system or the operator's CLI
	role     TEXT NOT NULL,               -- the actor's role when acting
	action   TEXT NOT NULL,               -- e.g. case.view
	subject  TEXT NOT NULL,               -- e.g. message:5:17
	detail   TEXT NOT NULL,
	prev     TEXT NOT NULL,               -- hex SHA-256 of the entry before ('' for the first)
	hash     TEXT NOT NULL                -- hex SHA-256 of prev and this entry
);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id);

-- The head of the chain: the last entry's ID and hash, in one row. Every
-- append updates it in its own transaction, which serialises appends from
-- every node (the row lock on PostgreSQL, the single writer on SQLite), and
-- lets Verify notice rows cut off the end.
CREATE TABLE audit_head (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	last_id   BIGINT NOT NULL,
	last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '');
