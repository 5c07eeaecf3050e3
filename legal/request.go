package legal

import (
	"time"

	"kurir"
	"kurir/messaging"
)

// TargetKind is how a request names what it is about.
type TargetKind string

// The kinds of target.
const (
	TargetUser     TargetKind = "user"     // a user ID
	TargetUsername TargetKind = "username" // an @username
	TargetPhone    TargetKind = "phone"    // a phone number, E.164
	TargetLink     TargetKind = "link"     // a link to a channel or group (@name) or a message (@name/17)
)

// Target is one thing a request is about, as the officer named it and as
// kurir resolved it when the request was filed.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value string     `json:"value"`
	// What it resolved to: an account, a chat, or a message of a chat.
	User kurir.UserID     `json:"user_id,omitempty"`
	Chat messaging.ChatID `json:"chat_id,omitempty"`
	Seq  int64            `json:"seq,omitempty"`
}

// Request is a law-enforcement request.
type Request struct {
	ID               int64
	Number           string // LE-2026-000042
	AgencyID         int64
	OfficerID        int64
	Kind             Kind
	State            State
	CaseReference    string
	LegalBasis       string
	Process          Process
	IssuingAuthority string
	Jurisdiction     string // the issuing country, ISO 3166-1 alpha-2
	Targets          []Target
	From, To         time.Time // the date range asked about; zero: open
	Categories       []Category
	Approved         []Category
	Description      string
	Deadline         time.Time // what the authority asks for; zero: none
	Due              time.Time // when kurir must answer by
	NonDisclosure    bool
	NonDisclosureEnd time.Time // zero: until lifted
	Decision         string    // reasons given with an approval or rejection
	Received         time.Time
	Updated          time.Time
	Closed           time.Time
	Paged            time.Time // an emergency's page to on-call staff
	Answered         time.Time // the legal team's first decision
	Enforced         time.Time // a removal order's enforcement
	PreservedUntil   time.Time
}

// Open reports whether the request still waits for something.
func (r Request) Open() bool {
	return r.State != Fulfilled && r.State != Rejected && r.State != Withdrawn
}

// Event is a step on a request's timeline.
type Event struct {
	ID      int64
	At      time.Time
	Actor   string // officer, legal or system
	ActorID int64
	Kind    string // filed, paged, enforced, in_review, needs_info, info, approved, fulfilled, rejected, withdrawn, downloaded, note, ...
	Note    string
	// Internal events (the legal team's notes) are not shown to officers.
	Internal bool
}

// Attachment is a legal document attached to a request.
type Attachment struct {
	ID          int64
	RequestID   int64
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	Uploaded    time.Time
}

// Package is a disclosure package: a zip of JSON files per category with a
// manifest of their hashes, signed with the operator's Ed25519 key.
type Package struct {
	ID        int64
	RequestID int64
	Created   time.Time
	CreatedBy kurir.UserID
	SHA256    string
	Size      int64
	Manifest  []byte // JSON, as signed
	Signature []byte // Ed25519 over Manifest

	summary string // what the audit log says of a package just made
}
