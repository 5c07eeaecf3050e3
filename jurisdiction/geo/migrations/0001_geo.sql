-- IP-to-country tables, as operators import them (kurir admin geo import):
-- each row is a whole table in the binary form of geo.Table. Every node
-- serves the newest, and follows MAX(id) to notice a new one; Save keeps
-- only the newest two.
CREATE TABLE geo_tables (
	id          AUTO_ID,
	imported_at BIGINT NOT NULL,
	source      TEXT NOT NULL,             -- what the operator imported, e.g. a file name
	ranges      BIGINT NOT NULL,           -- geo.Table.Len of data
	data        BYTES NOT NULL
);
