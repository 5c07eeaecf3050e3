CREATE TABLE widgets (
	id      AUTO_ID,
	name    TEXT NOT NULL UNIQUE,
	payload BYTES,
	made_at BIGINT NOT NULL
);
CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO counters (name, n) VALUES ('hits', 0);
