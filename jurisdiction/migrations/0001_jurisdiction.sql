-- Jurisdictions: the state of each market and the country rules. A country
-- without a row here is an open market.
CREATE TABLE jur_policies (
	country      TEXT PRIMARY KEY,         -- ISO 3166-1 alpha-2
	status       TEXT NOT NULL,            -- open | restricted | withdrawn
	features_off TEXT NOT NULL DEFAULT '', -- comma-separated, while restricted
	note         TEXT NOT NULL DEFAULT '', -- the operator's explanation
	updated_at   BIGINT NOT NULL,
	updated_by   BIGINT NOT NULL DEFAULT 0
);

-- A category of content illegal in a country or group (EU, EEA), under a law.
CREATE TABLE jur_rules (
	id         AUTO_ID,
	scope      TEXT NOT NULL,
	category   TEXT NOT NULL,
	legal_ref  TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jur_rules_scope_category ON jur_rules (scope, category);

-- Every node keeps the policy in memory and reloads it when this moves.
CREATE TABLE jur_version (
	id      INTEGER PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO jur_version (id, version) VALUES (1, 0);
