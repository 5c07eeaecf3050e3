-- The notice form takes any e-mail address, so receipts to one address are
-- bounded per day (moderation.receiptsPerDay): counted by address, in any
-- letter case.
CREATE INDEX mod_mail_rcpt ON mod_mail (lower(rcpt), created_at);
