-- Nothing to change on PostgreSQL: SQLite's search index moved off the send
-- path here, and PostgreSQL's GIN index already batches new entries in its
-- pending list (fastupdate).
SELECT 1;
