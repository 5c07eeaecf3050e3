-- A reporter counts once per case rather than once per subject for ever:
-- once a subject's case is resolved, the same person can report new abuse
-- by it, which opens a new case. A subject has at most one case that is not
-- resolved, so this is still once per subject while it is being handled.
DROP INDEX mod_signals_once;
CREATE UNIQUE INDEX mod_signals_once ON mod_signals (case_id, reporter_id) WHERE reporter_id <> 0;
