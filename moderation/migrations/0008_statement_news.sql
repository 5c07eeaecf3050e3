-- What the person affected by a decision is told, and how.
--
-- news_at: when the decision was taken or reversed, until its person has
-- read their statements since (0 then): the badge on their decisions, the
-- same on every device.
-- template, template_args and typed_facts: the reason template a moderator
-- or automated means chose for the facts (a key of moderation's catalog,
-- with its parameters as a JSON object) and what the moderator typed
-- after it, so that the statement gives the template in the reader's
-- language and the typed words as written; facts keeps the whole in
-- English for staff and the DSA database. An empty template: the facts
-- are free text, shown as written.
ALTER TABLE mod_actions ADD COLUMN news_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mod_actions ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_actions ADD COLUMN template_args TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_actions ADD COLUMN typed_facts TEXT NOT NULL DEFAULT '';
