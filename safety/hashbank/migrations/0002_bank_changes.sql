-- A change to a bank's action or description goes into the change log as
-- well (entry_id 0, bank naming it), so every node following the log
-- applies it, as it applies entry changes.
ALTER TABLE hash_changes ADD COLUMN bank TEXT NOT NULL DEFAULT '';

-- For finding an entry by its hash in any bank (kurir admin bank find).
CREATE INDEX hash_entries_by_value ON hash_entries (value);
