-- What the server itself verified about a report's subject, kept apart from
-- the reporter's comment, which anyone can write: a secret-chat message whose
-- franking proof verified, with its text. JSON (moderation.Evidence); '' for
-- none, as for every signal filed before.
ALTER TABLE mod_signals ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
