package client

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"
)

// This file is the law-enforcement portal and the legal team's side of it.
//
// Officers of agencies the operator registered sign up with an address at
// their agency's domain, verify it with the code mailed to them, log in
// with OfficerLogin, set up an authenticator (BeginTOTP, ConfirmTOTP), log
// in again with its code, and attest (Attest). A Client made WithToken of
// the officer's session token then files and follows requests. An
// officer's token is not a user's: every other method refuses it with a
// kurir.EUnauthenticated *Error, as the portal's methods refuse a user's.
//
// The legal team (users with the role legal, and admins) registers
// agencies and works the requests; anyone else gets a kurir.EForbidden
// *Error with Reason "legal_only". A server run without the portal answers
// kurir.EUnavailable, Reason "no_legal".

// Officer is a law-enforcement officer with access to the portal.
type Officer struct {
	ID       int64  `json:"id"`
	AgencyID int64  `json:"agency_id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Badge    string `json:"badge,omitempty"`
	// Lang is the language the portal writes to the officer in.
	Lang string `json:"lang"`
	// EmailVerified, TOTPEnabled and Attested are the setup steps done.
	EmailVerified bool      `json:"email_verified"`
	TOTPEnabled   bool      `json:"totp_enabled"`
	Attested      bool      `json:"attested"`
	CreatedAt     time.Time `json:"created_at"`
}

// OfficerSignUpParams are what an officer signs up with.
type OfficerSignUpParams struct {
	// Email is at one of a registered agency's domains (a kurir.EInvalid
	// *Error with Reason "unknown_domain" otherwise).
	Email    string `json:"email"`
	Name     string `json:"name"`
	Badge    string `json:"badge,omitempty"`
	Password string `json:"password"`
	// Lang is the officer's language; by default the server picks English.
	Lang string `json:"lang,omitempty"`
}

// OfficerSignUp registers an officer, who is mailed a 6-digit code to
// verify the address with VerifyOfficerEmail before logging in.
func (c *Client) OfficerSignUp(ctx context.Context, p OfficerSignUpParams) (Officer, error) {
	var o Officer
	err := c.do(ctx, http.MethodPost, c.url("/legal/officers"), p, &o)
	return o, err
}

// VerifyOfficerEmail verifies an officer's address with the code mailed to
// it and the password it was signed up with. A wrong code spends one of
// five attempts.
func (c *Client) VerifyOfficerEmail(ctx context.Context, email, password, code string) error {
	return c.do(ctx, http.MethodPost, c.url("/legal/officers/verify"), struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Code     string `json:"code"`
	}{email, password, code}, nil)
}

// ResendOfficerCode mails a new verification code, at most once a minute
// (a kurir.ERateLimited *Error with RetryAfter otherwise).
func (c *Client) ResendOfficerCode(ctx context.Context, email string) error {
	return c.do(ctx, http.MethodPost, c.url("/legal/officers/code"), struct {
		Email string `json:"email"`
	}{email}, nil)
}

// OfficerSession is an officer's new portal session.
type OfficerSession struct {
	// Token is the session's token for WithToken; it is shown only once.
	Token   string  `json:"token"`
	Officer Officer `json:"officer"`
	// SetupComplete says the session may see and file requests; otherwise
	// it may only finish setting up (see OfficerMe).
	SetupComplete bool `json:"setup_complete"`
}

// OfficerLogin opens a portal session of 12 hours. totp is the code of the
// officer's authenticator, required once one is set up (a
// kurir.EUnauthenticated *Error with Reason "totp_required", or
// "totp_invalid" for a wrong code or one already used); "" before that,
// which opens a setup session.
func (c *Client) OfficerLogin(ctx context.Context, email, password, totp string) (OfficerSession, error) {
	var s OfficerSession
	err := c.do(ctx, http.MethodPost, c.url("/legal/sessions"), struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		TOTP     string `json:"totp,omitempty"`
	}{email, password, totp}, &s)
	return s, err
}

// OfficerLogout ends the officer's session.
func (c *Client) OfficerLogout(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, c.url("/legal/sessions/current"), nil, nil)
}

// OfficerStatus is the officer of a session and what setup step is next.
type OfficerStatus struct {
	Officer Officer `json:"officer"`
	// SecondFactor says the session was opened (or confirmed) with an
	// authenticator code.
	SecondFactor  bool `json:"second_factor"`
	SetupComplete bool `json:"setup_complete"`
	// NextStep is "totp" (set up an authenticator), "login_with_totp"
	// (log in again with its code), "attestation", or "" when done.
	NextStep string `json:"next_step,omitempty"`
}

// OfficerMe returns the session's officer and their next setup step.
func (c *Client) OfficerMe(ctx context.Context) (OfficerStatus, error) {
	var s OfficerStatus
	err := c.do(ctx, http.MethodGet, c.url("/legal/me"), nil, &s)
	return s, err
}

// TOTPSetup is a new authenticator secret.
type TOTPSetup struct {
	// Secret is in base32, for typing into an authenticator app; URI is the
	// otpauth:// URI, for a QR code.
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// BeginTOTP makes a new authenticator secret for the officer, replacing one
// not confirmed yet.
func (c *Client) BeginTOTP(ctx context.Context) (TOTPSetup, error) {
	var s TOTPSetup
	err := c.do(ctx, http.MethodPost, c.url("/legal/me/totp"), nil, &s)
	return s, err
}

// ConfirmTOTP enables the authenticator with a code it shows; the session
// becomes a second-factor session.
func (c *Client) ConfirmTOTP(ctx context.Context, code string) error {
	return c.do(ctx, http.MethodPost, c.url("/legal/me/totp/confirm"), struct {
		Code string `json:"code"`
	}{code}, nil)
}

// Attestation returns the attestation of official capacity that Attest
// takes word for word.
func (c *Client) Attestation(ctx context.Context) (string, error) {
	var out struct {
		Text string `json:"text"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/legal/attestation"), nil, &out)
	return out.Text, err
}

// Attest makes the officer's attestation: statement is Attestation's text.
func (c *Client) Attest(ctx context.Context, statement string) error {
	return c.do(ctx, http.MethodPost, c.url("/legal/me/attestation"), struct {
		Statement string `json:"statement"`
	}{statement}, nil)
}

// LegalPublicKey returns the Ed25519 key disclosure packages are signed
// with.
func (c *Client) LegalPublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	var out struct {
		Algorithm string `json:"algorithm"`
		PublicKey string `json:"public_key"`
	}
	if err := c.do(ctx, http.MethodGet, c.url("/legal/public-key"), nil, &out); err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(out.PublicKey)
	if out.Algorithm != "Ed25519" || err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("client: GET /api/v1/legal/public-key: not an Ed25519 public key: %q %q", out.Algorithm, out.PublicKey)
	}
	return ed25519.PublicKey(key), nil
}

// LegalTarget is what a request is about: Kind "user" (a user ID),
// "username", "phone" (E.164) or "link" (to a public channel, group or
// message), and, in a request the server returns, what it resolved to.
type LegalTarget struct {
	Kind   string `json:"kind"`
	Value  string `json:"value"`
	UserID int64  `json:"user_id,omitempty"`
	ChatID int64  `json:"chat_id,omitempty"`
	Seq    int64  `json:"seq,omitempty"`
}

// LegalRequestParams are a request an officer files.
type LegalRequestParams struct {
	// Kind is "emergency", "preservation", "disclosure", "removal" or
	// "other"; Process the legal process it rests on, such as "subpoena",
	// "court_order", "warrant", "mlat", "emergency", "removal_order".
	Kind             string `json:"kind"`
	Process          string `json:"process"`
	CaseReference    string `json:"case_reference"`
	LegalBasis       string `json:"legal_basis"`
	IssuingAuthority string `json:"issuing_authority"`
	// Jurisdiction is the issuing country (default: the agency's).
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Targets carry Kind and Value only; each must exist.
	Targets []LegalTarget `json:"targets"`
	From    time.Time     `json:"date_from,omitzero"`
	To      time.Time     `json:"date_to,omitzero"`
	// Categories are the data asked for: "subscriber", "access", "content".
	Categories         []string  `json:"categories,omitempty"`
	Description        string    `json:"description,omitempty"`
	Deadline           time.Time `json:"deadline,omitzero"`
	NonDisclosure      bool      `json:"nondisclosure,omitempty"`
	NonDisclosureUntil time.Time `json:"nondisclosure_until,omitzero"`
	// Category is, for a removal order, the moderation category of the
	// content (default "terrorism").
	Category string `json:"category,omitempty"`
}

// LegalRequest is a law-enforcement request. Optional times are zero when
// unset.
type LegalRequest struct {
	ID int64 `json:"id"`
	// Number is the case number, such as "LE-2026-000042".
	Number           string        `json:"number"`
	AgencyID         int64         `json:"agency_id"`
	OfficerID        int64         `json:"officer_id"`
	Kind             string        `json:"kind"`
	State            string        `json:"state"` // received, in_review, needs_info, approved, fulfilled, rejected, withdrawn
	CaseReference    string        `json:"case_reference"`
	LegalBasis       string        `json:"legal_basis"`
	Process          string        `json:"process"`
	IssuingAuthority string        `json:"issuing_authority"`
	Jurisdiction     string        `json:"jurisdiction"`
	Targets          []LegalTarget `json:"targets"`
	From             time.Time     `json:"date_from,omitzero"`
	To               time.Time     `json:"date_to,omitzero"`
	Categories       []string      `json:"categories"`
	// Approved are the categories the legal team allowed: what a package holds.
	Approved           []string  `json:"approved_categories"`
	Description        string    `json:"description,omitempty"`
	Deadline           time.Time `json:"deadline,omitzero"`
	DueAt              time.Time `json:"due_at"`
	NonDisclosure      bool      `json:"nondisclosure"`
	NonDisclosureUntil time.Time `json:"nondisclosure_until,omitzero"`
	// Decision is the reasons given with an approval or rejection.
	Decision       string    `json:"decision,omitempty"`
	ReceivedAt     time.Time `json:"received_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	PagedAt        time.Time `json:"paged_at,omitzero"`
	AnsweredAt     time.Time `json:"answered_at,omitzero"`
	EnforcedAt     time.Time `json:"enforced_at,omitzero"`
	PreservedUntil time.Time `json:"preserved_until,omitzero"`
}

// LegalEvent is a step on a request's timeline.
type LegalEvent struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // officer, legal or system
	// ActorID is set for the legal team only.
	ActorID int64  `json:"actor_id,omitempty"`
	Kind    string `json:"kind"`
	Note    string `json:"note,omitempty"`
	// Internal steps, such as the legal team's notes, officers do not see.
	Internal bool `json:"internal,omitempty"`
}

// LegalDocument is a legal document attached to a request.
type LegalDocument struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedAt  time.Time `json:"uploaded_at"`
}

// LegalRequestDetail is a request with its timeline and documents.
type LegalRequestDetail struct {
	Request   LegalRequest    `json:"request"`
	Timeline  []LegalEvent    `json:"timeline"`
	Documents []LegalDocument `json:"documents"`
}

type legalRequestList struct {
	Requests []LegalRequest `json:"requests"`
}

// FileLegalRequest files a request for a ready officer. A target that does
// not exist is a kurir.ENotFound *Error with Field "targets", and nothing
// is filed.
func (c *Client) FileLegalRequest(ctx context.Context, p LegalRequestParams) (LegalRequest, error) {
	var r LegalRequest
	err := c.do(ctx, http.MethodPost, c.url("/legal/requests"), p, &r)
	return r, err
}

// LegalRequests returns the officer's agency's requests, newest first.
func (c *Client) LegalRequests(ctx context.Context) ([]LegalRequest, error) {
	var out legalRequestList
	err := c.do(ctx, http.MethodGet, c.url("/legal/requests"), nil, &out)
	return out.Requests, err
}

// LegalRequest returns a request of the officer's agency with its timeline
// and documents; another agency's is a kurir.ENotFound *Error.
func (c *Client) LegalRequest(ctx context.Context, id int64) (LegalRequestDetail, error) {
	var d LegalRequestDetail
	err := c.do(ctx, http.MethodGet, c.url("/legal/requests/*", id), nil, &d)
	return d, err
}

// AttachLegalDocument attaches size bytes from r, a PDF, PNG or JPEG of at
// most 20 MiB, to an open request, under the file name name.
func (c *Client) AttachLegalDocument(ctx context.Context, requestID int64, name string, r io.Reader, size int64) (LegalDocument, error) {
	var q query
	q.add("name", name)
	var d LegalDocument
	err := c.rawRequest(ctx, http.MethodPost, c.url("/legal/requests/*/documents", requestID)+string(q.b), r, size, "application/octet-stream", nil, &d)
	return d, err
}

// RespondToLegalRequest answers the legal team's question; the request goes
// back into review.
func (c *Client) RespondToLegalRequest(ctx context.Context, id int64, answer string) (LegalRequest, error) {
	var r LegalRequest
	err := c.do(ctx, http.MethodPost, c.url("/legal/requests/*/response", id), struct {
		Answer string `json:"answer"`
	}{answer}, &r)
	return r, err
}

// WithdrawLegalRequest withdraws a request of the officer's agency.
func (c *Client) WithdrawLegalRequest(ctx context.Context, id int64, reason string) (LegalRequest, error) {
	var r LegalRequest
	err := c.do(ctx, http.MethodPost, c.url("/legal/requests/*/withdrawal", id), struct {
		Reason string `json:"reason"`
	}{reason}, &r)
	return r, err
}

// DownloadDisclosure writes the disclosure package of a fulfilled request
// (a zip; see the server's legal.VerifyPackage) to w and returns how many
// bytes it wrote. The server logs every download.
func (c *Client) DownloadDisclosure(ctx context.Context, requestID int64, w io.Writer) (int64, error) {
	return c.download(ctx, c.url("/legal/requests/*/package", requestID), "", w)
}

// Agency is a law-enforcement agency the operator registered.
type Agency struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	Country      string   `json:"country"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	Domains      []string `json:"domains"`
	// RemovalOrders says it is a competent authority for removal orders,
	// which are then enforced in its country at once.
	RemovalOrders bool      `json:"removal_orders"`
	CreatedAt     time.Time `json:"created_at"`
	// DisabledAt is set while its officers are kept out of the portal.
	DisabledAt time.Time `json:"disabled_at,omitzero"`
}

// AgencyParams are a new agency.
type AgencyParams struct {
	Name string `json:"name"`
	// Country is ISO 3166-1 alpha-2, such as "DE".
	Country      string `json:"country"`
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Domains are the e-mail domains its officers sign up with.
	Domains       []string `json:"domains"`
	RemovalOrders bool     `json:"removal_orders,omitempty"`
}

// Agencies returns the registered agencies (legal team only).
func (c *Client) Agencies(ctx context.Context) ([]Agency, error) {
	var out struct {
		Agencies []Agency `json:"agencies"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/legal-team/agencies"), nil, &out)
	return out.Agencies, err
}

// AddAgency registers an agency (legal team only).
func (c *Client) AddAgency(ctx context.Context, p AgencyParams) (Agency, error) {
	var a Agency
	err := c.do(ctx, http.MethodPost, c.url("/legal-team/agencies"), p, &a)
	return a, err
}

// SetAgencyDisabled keeps an agency's officers out of the portal, or lets
// them in again (legal team only).
func (c *Client) SetAgencyDisabled(ctx context.Context, id int64, disabled bool) error {
	return c.do(ctx, http.MethodPost, c.url("/legal-team/agencies/*/disabled", id), struct {
		Disabled bool `json:"disabled"`
	}{disabled}, nil)
}

// AgencyOfficers returns an agency's officers (legal team only).
func (c *Client) AgencyOfficers(ctx context.Context, id int64) ([]Officer, error) {
	var out struct {
		Officers []Officer `json:"officers"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/legal-team/agencies/*/officers", id), nil, &out)
	return out.Officers, err
}

// SetOfficerDisabled keeps an officer out of the portal, or lets them in
// again; their sessions end at once (legal team only).
func (c *Client) SetOfficerDisabled(ctx context.Context, id int64, disabled bool) error {
	return c.do(ctx, http.MethodPost, c.url("/legal-team/officers/*/disabled", id), struct {
		Disabled bool `json:"disabled"`
	}{disabled}, nil)
}

// ResetOfficer clears an officer's verification, authenticator and
// sessions, for a lost authenticator or a misused account: they sign up
// again and verify (legal team only).
func (c *Client) ResetOfficer(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodPost, c.url("/legal-team/officers/*/reset", id), nil, nil)
}

// LegalQueue returns the requests in state, or with state "" the open ones,
// emergencies first (legal team only).
func (c *Client) LegalQueue(ctx context.Context, state string) ([]LegalRequest, error) {
	var q query
	if state != "" {
		q.add("state", state)
	}
	var out legalRequestList
	err := c.do(ctx, http.MethodGet, c.url("/legal-team/requests")+string(q.b), nil, &out)
	return out.Requests, err
}

// LegalEmergencies returns the open emergency requests, oldest first (legal
// team only).
func (c *Client) LegalEmergencies(ctx context.Context) ([]LegalRequest, error) {
	var out legalRequestList
	err := c.do(ctx, http.MethodGet, c.url("/legal-team/emergencies"), nil, &out)
	return out.Requests, err
}

// ReviewLegalRequest returns a request with its whole timeline, internal
// notes included (legal team only; the view is audited).
func (c *Client) ReviewLegalRequest(ctx context.Context, id int64) (LegalRequestDetail, error) {
	var d LegalRequestDetail
	err := c.do(ctx, http.MethodGet, c.url("/legal-team/requests/*", id), nil, &d)
	return d, err
}

func (c *Client) legalStep(ctx context.Context, path string, id int64, body any) (LegalRequest, error) {
	var r LegalRequest
	err := c.do(ctx, http.MethodPost, c.url(path, id), body, &r)
	return r, err
}

// StartLegalReview takes a received request into review (legal team only).
func (c *Client) StartLegalReview(ctx context.Context, id int64) (LegalRequest, error) {
	return c.legalStep(ctx, "/legal-team/requests/*/review", id, nil)
}

// AskLegalInfo asks the officer for more information (legal team only).
func (c *Client) AskLegalInfo(ctx context.Context, id int64, question string) (LegalRequest, error) {
	return c.legalStep(ctx, "/legal-team/requests/*/info", id, struct {
		Question string `json:"question"`
	}{question})
}

// ApproveLegalRequest approves a request with the data categories allowed,
// which may be fewer than asked; reason is on the officer's timeline
// (legal team only).
func (c *Client) ApproveLegalRequest(ctx context.Context, id int64, categories []string, reason string) (LegalRequest, error) {
	if categories == nil {
		categories = []string{}
	}
	return c.legalStep(ctx, "/legal-team/requests/*/approval", id, struct {
		Categories []string `json:"categories"`
		Reason     string   `json:"reason,omitempty"`
	}{categories, reason})
}

// RejectLegalRequest rejects a request with reasons (legal team only).
func (c *Client) RejectLegalRequest(ctx context.Context, id int64, reason string) (LegalRequest, error) {
	return c.legalStep(ctx, "/legal-team/requests/*/rejection", id, struct {
		Reason string `json:"reason"`
	}{reason})
}

// ExtendRemovalOrder withholds the targets of an open removal order in
// more countries (ISO 3166-1 alpha-2) or groups ("EU", "EEA") as well
// (legal team only). To lift an order, reject it.
func (c *Client) ExtendRemovalOrder(ctx context.Context, id int64, countries []string) (LegalRequest, error) {
	if countries == nil {
		countries = []string{}
	}
	return c.legalStep(ctx, "/legal-team/requests/*/extension", id, struct {
		Countries []string `json:"countries"`
	}{countries})
}

// DisclosurePackage describes a disclosure package built.
type DisclosurePackage struct {
	ID        int64     `json:"id"`
	RequestID int64     `json:"request_id"`
	CreatedAt time.Time `json:"created_at"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	// Signature is the base64 Ed25519 signature of the package's manifest.
	Signature string `json:"signature"`
}

// Fulfilment is a fulfilled request and the package built for it, if any.
type Fulfilment struct {
	Request LegalRequest       `json:"request"`
	Package *DisclosurePackage `json:"package,omitempty"`
}

// FulfilLegalRequest fulfils an approved request (legal team only).
func (c *Client) FulfilLegalRequest(ctx context.Context, id int64) (Fulfilment, error) {
	var f Fulfilment
	err := c.do(ctx, http.MethodPost, c.url("/legal-team/requests/*/fulfilment", id), nil, &f)
	return f, err
}

// NoteLegalRequest adds an internal note to a request's timeline (legal
// team only).
func (c *Client) NoteLegalRequest(ctx context.Context, id int64, text string) error {
	return c.do(ctx, http.MethodPost, c.url("/legal-team/requests/*/notes", id), struct {
		Text string `json:"text"`
	}{text}, nil)
}

// LegalDocumentContent opens a legal document an officer attached and
// returns it with its content type (legal team only; every read is
// audited). The caller closes it.
func (c *Client) LegalDocumentContent(ctx context.Context, id int64) (io.ReadCloser, string, error) {
	return c.open(ctx, c.url("/legal-team/documents/*", id))
}

// Disclosure is a disclosure of the user's data to an authority that the
// user is told of.
type Disclosure struct {
	ID int64 `json:"id"`
	// Number is the request's case number.
	Number     string    `json:"number"`
	Categories []string  `json:"categories"`
	Authority  string    `json:"authority"`
	Country    string    `json:"country"`
	At         time.Time `json:"disclosed_at"`
}

// Disclosures returns the disclosures of the user's data they are told of,
// newest first.
func (c *Client) Disclosures(ctx context.Context) ([]Disclosure, error) {
	var out struct {
		Disclosures []Disclosure `json:"disclosures"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/me/disclosures"), nil, &out)
	return out.Disclosures, err
}
