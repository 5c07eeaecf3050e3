-- Intake: where a case's first signal came from, for queues by language and
-- country; the language a notifier's mail is written in; and the outbox of
-- mail to notifiers, written in the transaction that records what it tells.

-- A case's language and country are its first signal's: the reporter's or
-- notifier's language (the primary subtag of Accept-Language, such as "de")
-- and country (ISO 3166-1 alpha-2); '' when unknown.
ALTER TABLE mod_cases ADD COLUMN lang TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_cases ADD COLUMN country TEXT NOT NULL DEFAULT '';
CREATE INDEX mod_cases_lang ON mod_cases (lang, state);
CREATE INDEX mod_cases_country ON mod_cases (country, state);

-- A notice's mail language (one of moderation.Languages), its notifier's
-- country, and a hash of who sent it (their e-mail address, else their
-- network address), so one notifier counts once per case, as a reporter does.
ALTER TABLE mod_notices ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE mod_notices ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE mod_signals ADD COLUMN notifier TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX mod_signals_notifier_once ON mod_signals (case_id, notifier) WHERE notifier <> '';

-- Mail to notifiers: a receipt when a notice arrives, its decision, and a
-- reversal. A row is written with what it reports and sent later, with
-- retries, by whichever node's sender claims it first.
CREATE TABLE mod_mail (
	id         AUTO_ID,
	notice_id  BIGINT NOT NULL REFERENCES mod_notices (id),
	kind       TEXT NOT NULL,                   -- receipt | decision | reversal
	rcpt       TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	state      TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
	attempts   BIGINT NOT NULL DEFAULT 0,
	next_at    BIGINT NOT NULL,                 -- when to try next, or the end of a claim
	last_error TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	sent_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mod_mail_due ON mod_mail (state, next_at);
CREATE INDEX mod_mail_notice ON mod_mail (notice_id, id);
