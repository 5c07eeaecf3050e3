-- An import stages its entries in batches of a few thousand rows, so that
-- it never holds the database's writer for long, under an import whose
-- state is 'staging': lookups, exports and counts leave such entries out.
-- It then flips the import to 'done' in one short transaction, with one
-- change-log row (import_id set) that tells every node to load the
-- import's entries. A failed import's entries are deleted ('failed' until
-- they are gone).
CREATE TABLE hash_imports (
	id         AUTO_ID,
	bank       TEXT NOT NULL REFERENCES hash_banks (name),
	state      TEXT NOT NULL,              -- staging | done | failed
	started_at BIGINT NOT NULL
);
ALTER TABLE hash_entries ADD COLUMN import_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX hash_entries_import ON hash_entries (import_id, id) WHERE import_id <> 0;
ALTER TABLE hash_changes ADD COLUMN import_id BIGINT NOT NULL DEFAULT 0;

-- Media already stored are checked again against entries as they are
-- enabled (imported, or enabled again), which their upload was never
-- checked against: how far along the change log that check is, and until
-- when the node doing it holds the job. It starts at the log's end: what
-- was enabled before was checked at upload.
CREATE TABLE hash_recheck (
	id           INTEGER PRIMARY KEY,
	seq          BIGINT NOT NULL,
	leased_until BIGINT NOT NULL
);
INSERT INTO hash_recheck (id, seq, leased_until) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM hash_changes;
