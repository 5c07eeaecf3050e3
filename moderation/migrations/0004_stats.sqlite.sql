-- Per-day counts of actions and of reversals, written in the same
-- transaction as each action and reversal: a day's transparency report
-- reads a few hundred rows, however many actions the day held. kurir
-- transparency rebuild recomputes them from mod_actions.
CREATE TABLE mod_action_stats (
	day                 TEXT NOT NULL,   -- YYYY-MM-DD, UTC
	event               TEXT NOT NULL,   -- action | reversal
	kind                TEXT NOT NULL,
	category            TEXT NOT NULL,
	source              TEXT NOT NULL,
	scope               TEXT NOT NULL,   -- worldwide; for restrict its countries, comma-separated, or rules
	content_type        TEXT NOT NULL,
	automated_detection INTEGER NOT NULL,
	automated_decision  INTEGER NOT NULL,
	bucket              BIGINT NOT NULL, -- time from the first signal (moderation.TimeBucket); 0 for reversals
	count               BIGINT NOT NULL,
	PRIMARY KEY (day, event, kind, category, source, scope, content_type, automated_detection, automated_decision, bucket)
);
CREATE INDEX mod_actions_created ON mod_actions (created_at);
CREATE INDEX mod_actions_reversed ON mod_actions (reversed_at) WHERE reversed_at <> 0;
CREATE INDEX mod_appeals_created ON mod_appeals (created_at);
CREATE INDEX mod_appeals_decided ON mod_appeals (decided_at);

-- The actions recorded before this table existed.
INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type, automated_detection, automated_decision, bucket, count)
SELECT strftime('%Y-%m-%d', a.created_at / 1000000, 'unixepoch'), 'action', a.kind, a.category, a.source,
	CASE WHEN a.kind <> 'restrict' THEN 'worldwide' WHEN a.territory = '' THEN 'rules' ELSE a.territory END,
	a.content_type, a.automated_detection, a.automated_decision,
	CASE WHEN a.created_at - c.opened_at < 0 THEN 0
		WHEN a.created_at - c.opened_at < 60000000 THEN (a.created_at - c.opened_at) / 1000000
		WHEN a.created_at - c.opened_at < 3600000000 THEN 60 + (a.created_at - c.opened_at) / 60000000
		WHEN a.created_at - c.opened_at < 604800000000 THEN 120 + (a.created_at - c.opened_at) / 3600000000
		ELSE 288 END,
	COUNT(*)
FROM mod_actions a JOIN mod_cases c ON c.id = a.case_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
INSERT INTO mod_action_stats (day, event, kind, category, source, scope, content_type, automated_detection, automated_decision, bucket, count)
SELECT strftime('%Y-%m-%d', reversed_at / 1000000, 'unixepoch'), 'reversal', kind, category, '', '', '', 0, 0, 0, COUNT(*)
FROM mod_actions WHERE reversed_at <> 0
GROUP BY 1, 2, 3, 4;
