package secret

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/moderation"
	"kurir/secret/franking"
)

// MaxReportComment bounds the reporter's own comment on a secret-chat
// report, in characters. The revealed message is not part of it: it is
// the report's evidence (moderation.Evidence).
const MaxReportComment = 500

// Report files a report of a secret-chat message with moderation, once its
// franking proof verifies: r's commitment opens to r's plaintext under its
// franking key, and r's tag is this server's for exactly that commitment,
// sender, recipient, time and envelope. Only the recipient device the
// envelope was sent to may report it (EForbidden otherwise). A proof that
// does not verify is EInvalid with reason franking_invalid, and nothing is
// filed.
//
// The report is about the sender's account, with reason and comment as
// given; the revealed text, with the verified sender, devices, time and
// envelope, is its evidence (moderation.EvidenceSecretFranking), which no
// ordinary report can carry, so a comment that imitates it is told apart.
// This is the only way a secret chat's plaintext reaches the server:
// revealed by a participant, to report it.
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
		Comment:  comment,
		Evidence: evidence(r),
	})
}

// evidence is what a verified report r establishes: which device sent
// which text to which, when, in which envelope. The text is as it was sent
// except for control characters and invalid UTF-8, which are replaced; a
// text longer than moderation keeps (more than a client of the message
// format sends) is cut, and the evidence says by how much.
func evidence(r franking.Report) *moderation.Evidence {
	c := r.Context
	text := printable(string(r.Plaintext))
	omitted := 0
	if n := utf8.RuneCountInString(text); n > moderation.MaxEvidenceText {
		text, omitted = truncateRunes(text, moderation.MaxEvidenceText), n-moderation.MaxEvidenceText
	}
	return &moderation.Evidence{Kind: moderation.EvidenceSecretFranking, Text: text, Omitted: omitted,
		Sender: kurir.UserID(c.Sender), SenderDevice: c.SenderDevice, Recipient: kurir.UserID(c.Recipient), RecipientDevice: c.RecipientDevice,
		SentAt: c.At, Envelope: c.Envelope}
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
