package secret

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/moderation"
	"kurir/secret/franking"
)

// Bounds on a report's comment. moderation keeps one comment per report, of
// at most 2,000 characters (its default MaxComment), and it carries both the
// reporter's words and the evidence: the reporter's words are limited to
// MaxReportComment, and the revealed text is shortened to fit the rest.
const (
	MaxReportComment = 500
	reportBudget     = 2000
)

// Report files a report of a secret-chat message with moderation, once its
// franking proof verifies: r's commitment opens to r's plaintext under its
// franking key, and r's tag is this server's for exactly that commitment,
// sender, recipient, time and envelope. Only the recipient device the
// envelope was sent to may report it (EForbidden otherwise). A proof that
// does not verify is EInvalid with reason franking_invalid, and nothing is
// filed.
//
// The report is about the sender's account, with reason and comment as
// given; the revealed text, and the fact that it was verified, are its
// evidence, written into the comment (moderation keeps no separate
// evidence for a user report). This is the only way a secret chat's
// plaintext reaches the server: revealed by a participant, to report it.
func (s *Service) Report(ctx context.Context, by Device, r franking.Report, reason moderation.Category, comment string) (moderation.Report, error) {
	if s.reports == nil {
		return moderation.Report{}, &kurir.Error{Code: kurir.EUnavailable, Reason: "no_moderation",
			Message: "This server does not take reports of secret-chat messages."}
	}
	if !reason.Valid() {
		return moderation.Report{}, kurir.Invalid("reason", "unknown_reason", "Choose a reason from the list (GET /api/v1/report-reasons).")
	}
	if !utf8.ValidString(comment) {
		return moderation.Report{}, kurir.Invalid("comment", "invalid_utf8", "The comment is not valid UTF-8 text.")
	}
	comment = strings.TrimSpace(comment)
	if n := utf8.RuneCountInString(comment); n > MaxReportComment {
		return moderation.Report{}, kurir.Invalid("comment", "too_long", "The comment is %d characters long; the limit is %d.", n, MaxReportComment)
	}
	ctxt := r.Context
	if kurir.UserID(ctxt.Recipient) != by.User || ctxt.RecipientDevice != by.ID {
		return moderation.Report{}, &kurir.Error{Code: kurir.EForbidden, Reason: "secret_not_recipient", Field: "report",
			Message: "Only the device a secret-chat message was sent to can report it."}
	}
	if err := s.stamper.Verify(r); err != nil {
		return moderation.Report{}, &kurir.Error{Code: kurir.EInvalid, Reason: "franking_invalid", Field: "report",
			Message: "The report's franking proof does not verify: " + kurir.ErrorMessage(err) + ".", Err: err}
	}
	return s.reports.Report(ctx, by.User, moderation.ReportParams{
		Subject:  moderation.Subject{Kind: moderation.SubjectUser, User: kurir.UserID(ctxt.Sender)},
		Category: reason,
		Comment:  reportComment(r, comment),
	})
}

// reportComment is the comment a verified report is filed with: where the
// message came from, its text as revealed, and the reporter's words, within
// reportBudget characters. The text is shown as it was sent except for
// control characters and invalid UTF-8, which moderation refuses and which
// are replaced.
func reportComment(r franking.Report, comment string) string {
	c := r.Context
	head := fmt.Sprintf("Secret-chat message, verified by message franking: sent by user %d from device %d to device %d of user %d at %s (envelope %s). Its text:\n",
		c.Sender, c.SenderDevice, c.RecipientDevice, c.Recipient, c.At.UTC().Format(time.RFC3339Nano), c.Envelope)
	var tail string
	if comment != "" {
		tail = "\n\nThe reporter's comment:\n" + comment
	}
	text := printable(string(r.Plaintext))
	room := reportBudget - utf8.RuneCountInString(head) - utf8.RuneCountInString(tail)
	if n := utf8.RuneCountInString(text); n > room {
		keep := max(room-len("\n[… 1000000 more characters]"), 0) // room for the note, whatever its number
		text = truncateRunes(text, keep) + fmt.Sprintf("\n[… %d more characters]", n-keep)
	}
	return head + text + tail
}

// printable makes s valid UTF-8 without control characters other than
// newlines and tabs.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// truncateRunes returns the first n characters of s.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
