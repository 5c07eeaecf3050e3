-- The country an account declares (ISO 3166-1 alpha-2, '' if none): with
-- the country of the network a request comes from, where the law of the
-- place applies to it.
ALTER TABLE users ADD COLUMN country TEXT NOT NULL DEFAULT '';
