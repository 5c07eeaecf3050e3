-- Territorial actions: a restrict action withholds its subject only in the
-- countries and groups named (scope; '' = wherever country rules make the
-- category illegal), through the restriction it created.
ALTER TABLE mod_actions ADD COLUMN territory TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_actions ADD COLUMN restriction_id BIGINT NOT NULL DEFAULT 0;
