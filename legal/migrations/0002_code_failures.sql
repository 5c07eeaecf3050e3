-- Wrong e-mail codes over every code an officer was sent: a new code does
-- not reset it, so guessing cannot go on by asking for codes.
ALTER TABLE legal_officers ADD COLUMN code_failures BIGINT NOT NULL DEFAULT 0;
