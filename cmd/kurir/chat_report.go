package main

import (
	"context"
	"fmt"
	"strings"

	"kurir/client"
)

const chatReportHelp = `Usage: kurir chat report --chat ID|--to @NAME [--seq N] --reason REASON [--comment TEXT]
       kurir chat report --user @NAME --reason REASON [--comment TEXT]
       kurir chat report --reasons

Reports something you can see to the moderators: a message (--seq, in the
chat --chat or --to names; --to is your private chat with that person), a
group or channel (--chat alone), or a user (--user). You can report each
thing once. --reasons lists the reasons, in the language of $LANG.

Examples:
  kurir chat report --chat 12 --seq 17 --reason spam
  kurir chat report --user @scammer --reason scam --comment "asks for card numbers"
`

// report files a report, or lists the reasons.
func (c *chatCmd) report(ctx context.Context, args []string) error {
	var t chatTarget
	var seq int64
	var user, reason, comment string
	var list bool
	e := c.flags("report", chatReportHelp)
	t.register(e)
	e.fs.Int64Var(&seq, "seq", 0, "the message's number in the chat (as kurir chat history shows it)")
	e.fs.StringVar(&user, "user", "", "report this user (@username or ID) instead of a chat")
	e.fs.StringVar(&reason, "reason", "", "why: one of the reasons --reasons lists")
	e.fs.StringVar(&comment, "comment", "", "anything the moderators should know")
	e.fs.BoolVar(&list, "reasons", false, "list the reasons and exit")
	if _, err := c.parse(e, args, 0); err != nil {
		return err
	}
	s, err := c.connect()
	if err != nil {
		return err
	}
	if list {
		rs, err := s.c.ReportReasons(ctx, c.getenv("LANG"))
		if err != nil {
			return s.explain(err)
		}
		for _, r := range rs {
			fmt.Fprintf(c.stdout, "%-22s %s\n", r.ID, r.Label)
		}
		return nil
	}
	if reason == "" {
		e.fs.Usage()
		return usagef("chat report: --reason is required (kurir chat report --reasons lists them)")
	}
	if err := s.whoAmI(ctx); err != nil {
		return err
	}
	var subj client.Subject
	var what string
	switch {
	case user != "" && (t.chat != 0 || t.to != "" || seq != 0):
		return usagef("chat report: report either a --user or something in a chat, not both")
	case user != "":
		u, err := s.c.User(ctx, strings.TrimPrefix(user, "@"))
		if err != nil {
			return s.explain(err)
		}
		subj, what = client.UserSubject(u.ID), "user @"+u.Username
	default:
		if err := t.check(e, true); err != nil {
			return err
		}
		chatID, err := s.chatByTarget(ctx, t.chat, t.to)
		if err != nil {
			return err
		}
		subj, what = client.ChatSubject(chatID), fmt.Sprintf("chat %d", chatID)
		if seq != 0 {
			subj, what = client.MessageSubject(chatID, seq), fmt.Sprintf("message %d of chat %d", seq, chatID)
		}
	}
	rep, err := s.c.Report(ctx, client.ReportParams{Subject: subj, Reason: strings.TrimSpace(reason), Comment: comment})
	if err != nil {
		return s.explain(err)
	}
	fmt.Fprintf(c.stdout, "reported %s (report %d, case %d); you can follow it in the web app under Settings\n", what, rep.ID, rep.CaseID)
	return nil
}
