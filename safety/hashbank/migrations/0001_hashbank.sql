-- Hash banks: named lists of hashes of known content (child abuse
-- material, terrorist content, non-consensual intimate imagery, spam),
-- each with the action its matches take.
CREATE TABLE hash_banks (
	name        TEXT PRIMARY KEY,
	action      TEXT NOT NULL,             -- block | hold | flag
	description TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);

CREATE TABLE hash_entries (
	id         AUTO_ID,
	bank       TEXT NOT NULL REFERENCES hash_banks (name),
	signal     TEXT NOT NULL,              -- pdq | md5 | sha256
	value      TEXT NOT NULL,              -- lower-case hex
	enabled    INTEGER NOT NULL DEFAULT 1,
	provenance TEXT NOT NULL DEFAULT '',   -- where it came from: a file, a list, a person
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX hash_entries_value ON hash_entries (bank, signal, value);

-- Every change to entries, in order: nodes follow it to keep their
-- in-memory index current without rebuilding it.
CREATE TABLE hash_changes (
	seq      AUTO_ID,
	entry_id BIGINT NOT NULL,
	enabled  INTEGER NOT NULL
);
