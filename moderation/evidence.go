package moderation

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
)

// EvidenceKind names how the server established a report's Evidence.
type EvidenceKind string

// EvidenceSecretFranking is a secret-chat message that its recipient
// revealed, whose franking proof the server verified: the sender's device
// really sent this text to the recipient's, at that time.
const EvidenceSecretFranking EvidenceKind = "secret_franking"

// MaxEvidenceText bounds Evidence.Text, in characters: the longest text a
// secret-chat message carries.
const MaxEvidenceText = 4096

// Evidence is what the server itself verified about what a report is
// about, kept apart from the reporter's comment. Only server code sets it
// (see ReportParams): no request a user sends writes it, so a reviewer can
// trust it as far as its Kind's check goes, while a comment is only what
// the reporter says.
type Evidence struct {
	Kind EvidenceKind
	// Text is the content as it was sent: for EvidenceSecretFranking the
	// message's text, with control characters other than newline and tab
	// and invalid UTF-8 replaced by U+FFFD. At most MaxEvidenceText
	// characters; Omitted counts those left out past it (only a client
	// that breaks the message format sends more).
	Text    string
	Omitted int
	// Sender sent it from SenderDevice, to RecipientDevice of Recipient,
	// at SentAt (the server's time, which the proof covers), in Envelope.
	Sender          kurir.UserID
	SenderDevice    int64
	Recipient       kurir.UserID
	RecipientDevice int64
	SentAt          time.Time
	Envelope        string
}

// check refuses evidence of an unknown kind, and text a reviewer's screen
// or terminal should not be given: control characters (C1 ones included,
// which some terminals obey) other than newline and tab.
func (e Evidence) check() error {
	if e.Kind != EvidenceSecretFranking {
		return kurir.Invalid("evidence", "unknown_evidence", "Unknown kind of evidence %q.", e.Kind)
	}
	if !utf8.ValidString(e.Text) {
		return kurir.Invalid("evidence", "invalid_utf8", "The evidence's text is not valid UTF-8.")
	}
	n := 0
	for _, r := range e.Text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return kurir.Invalid("evidence", "invalid_characters", "The evidence's text contains control characters.")
		}
		n++
	}
	if n > MaxEvidenceText {
		return kurir.Invalid("evidence", "too_long", "The evidence's text is %d characters long; the limit is %d.", n, MaxEvidenceText)
	}
	if e.Omitted < 0 {
		return kurir.Invalid("evidence", "invalid", "The evidence omits %d characters.", e.Omitted)
	}
	return nil
}

// storedEvidence is Evidence as mod_signals.evidence keeps it: JSON, with
// the time in Unix microseconds like every stored timestamp.
type storedEvidence struct {
	Kind            string `json:"kind"`
	Text            string `json:"text"`
	Omitted         int    `json:"omitted,omitempty"`
	Sender          int64  `json:"sender"`
	SenderDevice    int64  `json:"sender_device"`
	Recipient       int64  `json:"recipient"`
	RecipientDevice int64  `json:"recipient_device"`
	SentAt          int64  `json:"sent_at_us"`
	Envelope        string `json:"envelope"`
}

// encodeEvidence is the column value of e: "" for none.
func encodeEvidence(e *Evidence) (string, error) {
	if e == nil {
		return "", nil
	}
	b, err := json.Marshal(storedEvidence{Kind: string(e.Kind), Text: e.Text, Omitted: e.Omitted,
		Sender: int64(e.Sender), SenderDevice: e.SenderDevice, Recipient: int64(e.Recipient), RecipientDevice: e.RecipientDevice,
		SentAt: sqldb.Micros(e.SentAt), Envelope: e.Envelope})
	if err != nil {
		return "", fmt.Errorf("encode evidence: %w", err)
	}
	return string(b), nil
}

// decodeEvidence reads a column value written by encodeEvidence.
func decodeEvidence(s string) (*Evidence, error) {
	if s == "" {
		return nil, nil
	}
	var w storedEvidence
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return nil, fmt.Errorf("decode evidence: %w", err)
	}
	return &Evidence{Kind: EvidenceKind(w.Kind), Text: w.Text, Omitted: w.Omitted,
		Sender: kurir.UserID(w.Sender), SenderDevice: w.SenderDevice, Recipient: kurir.UserID(w.Recipient), RecipientDevice: w.RecipientDevice,
		SentAt: sqldb.FromMicros(w.SentAt), Envelope: w.Envelope}, nil
}
