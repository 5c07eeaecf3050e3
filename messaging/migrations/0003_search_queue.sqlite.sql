-- Messages are indexed for search off the send path. FTS5 writes out its
-- pending terms at every statement of a transaction that has touched it, so
-- indexing each message in its own send was the largest single cost of a
-- send. Now a send only queues its message here (by trigger) and the indexer
-- moves queued messages into messages_fts in batches. An edit or deletion of
-- a message still in the queue leaves the index alone: the indexer reads the
-- text as it is when it runs.
CREATE TABLE search_pending (msg_rowid INTEGER PRIMARY KEY);

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
	INSERT INTO search_pending (msg_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE msg_rowid = old.rowid) BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
	INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, text)
		SELECT 'delete', old.rowid, old.text WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE msg_rowid = old.rowid);
	DELETE FROM search_pending WHERE msg_rowid = old.rowid;
END;
