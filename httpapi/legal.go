package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"kurir"
	"kurir/legal"
	"kurir/moderation"
	"kurir/openapi"
)

// This file is the law-enforcement portal's API (kurir/legal): officers of
// registered agencies sign up, set up a second factor, attest, and file and
// follow requests under /api/v1/legal, authenticated with an officer's
// session token — never a user's. The legal team (users with the legal or
// admin role) registers agencies and works the requests under
// /api/v1/legal-team. Users read the disclosures of their data they are
// told of at /api/v1/me/disclosures. The legal service checks and audits
// every step; the edge checks who is asking before it reads a body.

// keyOfficer holds the officer session withOfficer authenticated.
const keyOfficer ctxKey = 101

// maxLegalDocument bounds the body of a document upload: the legal
// service's limit on a document (20 MiB) and a little, so that the service
// is the one to refuse a document just over it, with a clear reason.
const maxLegalDocument = 20<<20 + 64<<10

// noLegal is the answer of a server run without the portal (Deps.Legal nil).
var noLegal = &kurir.Error{Code: kurir.EUnavailable, Reason: "no_legal",
	Message: "This server does not run the law-enforcement portal."}

// officerAuth is appended to the description of every operation an officer
// authenticates for.
const officerAuth = " Authenticate with an officer's session token (from POST /api/v1/legal/sessions) as " +
	"\"Authorization: Bearer <token>\"; a user's token is refused with 401."

// officer returns the officer session of a request behind withOfficer.
func officer(ctx context.Context) legal.OfficerSession {
	return ctx.Value(keyOfficer).(legal.OfficerSession)
}

// withOfficer requires an officer's session token and puts the session in
// the context. Users' tokens are not officers' tokens: they get 401.
func withOfficer(svc *legal.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, noLegal)
			return
		}
		token, ok := bearerToken(r)
		if !ok {
			writeError(w, r, &kurir.Error{Code: kurir.EUnauthenticated, Reason: "missing_token",
				Message: "This endpoint needs an officer's session token: send \"Authorization: Bearer <token>\" from POST /api/v1/legal/sessions."})
			return
		}
		sess, err := svc.Authenticate(r.Context(), token)
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyOfficer, sess)))
	})
}

// handleOfficer installs an operation an officer authenticates for, and
// documents it as needing a bearer token: the officer's.
func (rt *router) handleOfficer(op openapi.Operation, h http.Handler) {
	op.Auth = true
	op.Description = strings.TrimSpace(op.Description + officerAuth)
	rt.spec.Add(op)
	rt.mux.Handle(op.Method+" "+op.Path, rt.m.instrument(op.ID, rt.located(withOfficer(rt.d.Legal, h))))
}

// needLegal refuses anyone but the legal team and admins, before a request
// is read.
func needLegal(r *http.Request) error {
	if principal(r.Context()).Has(kurir.RoleLegal, kurir.RoleAdmin) {
		return nil
	}
	return &kurir.Error{Code: kurir.EForbidden, Reason: "legal_only", Message: "Only the legal team handles law-enforcement requests."}
}

// legalTeam answers a legal-team operation: it refuses anyone but the legal
// team, then a server without the portal, and runs fn as the staff member.
func legalTeam(svc *legal.Service, fn func(w http.ResponseWriter, r *http.Request, by legal.Staff)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := needLegal(r); err != nil {
			writeError(w, r, err)
			return
		}
		if svc == nil {
			writeError(w, r, noLegal)
			return
		}
		fn(w, r, staff(r))
	})
}

// portal answers an operation of the portal that needs no officer: it
// refuses on a server without the portal.
func portal(svc *legal.Service, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if svc == nil {
			writeError(w, r, noLegal)
			return
		}
		fn(w, r)
	})
}

// optTime is nil for the zero time, for optional times in views.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromOpt is the zero time for nil.
func fromOpt(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Views.

type legalOfficerView struct {
	ID        int64     `json:"id"`
	AgencyID  int64     `json:"agency_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Badge     string    `json:"badge,omitempty"`
	Lang      string    `json:"lang" jsonschema:"description=The language the portal writes to the officer in."`
	Verified  bool      `json:"email_verified"`
	TOTP      bool      `json:"totp_enabled" jsonschema:"description=An authenticator app is set up."`
	Attested  bool      `json:"attested" jsonschema:"description=The officer attested to acting in their official capacity."`
	CreatedAt time.Time `json:"created_at"`
	// DisabledAt is shown to the legal team only (the officers' own view
	// of themselves is refused while they are disabled).
	DisabledAt *time.Time `json:"disabled_at,omitempty" jsonschema:"description=Set while the legal team keeps the officer out of the portal."`
}

func newLegalOfficerView(o legal.Officer) legalOfficerView {
	return legalOfficerView{ID: o.ID, AgencyID: o.AgencyID, Email: o.Email, Name: o.Name, Badge: o.Badge, Lang: o.Lang,
		Verified: o.Verified, TOTP: o.TOTP, Attested: o.Attested, CreatedAt: o.CreatedAt, DisabledAt: optTime(o.DisabledAt)}
}

type legalOfficerList struct {
	Officers []legalOfficerView `json:"officers"`
}

type legalMeView struct {
	Officer legalOfficerView `json:"officer"`
	// SecondFactor and NextStep tell a portal what to show next.
	SecondFactor bool   `json:"second_factor" jsonschema:"description=This session was opened (or confirmed) with an authenticator code."`
	Ready        bool   `json:"setup_complete" jsonschema:"description=Every step is done: the officer may see and file requests."`
	NextStep     string `json:"next_step,omitempty" jsonschema:"enum=totp,enum=login_with_totp,enum=attestation,description=The first step still to do before requests: set up an authenticator\\, log in again with its code\\, or attest."`
}

func newLegalMeView(s legal.OfficerSession) legalMeView {
	v := legalMeView{Officer: newLegalOfficerView(s.Officer), SecondFactor: s.SecondFactor, Ready: legal.RequireReady(s) == nil}
	switch {
	case !s.Officer.TOTP:
		v.NextStep = "totp"
	case !s.SecondFactor:
		v.NextStep = "login_with_totp"
	case !s.Officer.Attested:
		v.NextStep = "attestation"
	}
	return v
}

type legalSignUpRequest struct {
	Email    string `json:"email" jsonschema:"description=The officer's address at one of their agency's registered domains."`
	Name     string `json:"name"`
	Badge    string `json:"badge,omitempty" jsonschema:"description=A badge or service number."`
	Password string `json:"password"`
	Lang     string `json:"lang,omitempty" jsonschema:"description=The officer's language (default: the request's Accept-Language)."`
}

type legalEmailRequest struct {
	Email string `json:"email"`
}

type legalVerifyRequest struct {
	Email    string `json:"email"`
	Password string `json:"password" jsonschema:"description=The password the address was signed up with."`
	Code     string `json:"code" jsonschema:"description=The 6 digits of the e-mail."`
}

type legalLoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty" jsonschema:"description=The code the authenticator app shows; required once one is set up."`
}

type legalLoginResponse struct {
	Token   string           `json:"token" jsonschema:"description=The officer's session token: send it as Authorization: Bearer <token> to /api/v1/legal. Shown only now."`
	Officer legalOfficerView `json:"officer"`
	Ready   bool             `json:"setup_complete" jsonschema:"description=The session may see and file requests; otherwise it may only finish setting up (see GET /api/v1/legal/me)."`
}

type legalTOTPView struct {
	Secret string `json:"secret" jsonschema:"description=The authenticator secret in base32\\, for typing in."`
	URI    string `json:"uri" jsonschema:"description=The otpauth:// URI\\, for a QR code."`
}

type legalCodeRequest struct {
	Code string `json:"code"`
}

type legalAttestationRequest struct {
	Statement string `json:"statement" jsonschema:"description=The attestation from GET /api/v1/legal/attestation\\, word for word."`
}

type legalAttestationView struct {
	Text string `json:"text"`
}

type legalPublicKeyView struct {
	Algorithm string `json:"algorithm" jsonschema:"enum=Ed25519"`
	PublicKey string `json:"public_key" jsonschema:"description=The key disclosure manifests are signed with\\, in standard base64."`
}

type legalTargetView struct {
	Kind   string `json:"kind" jsonschema:"enum=user,enum=username,enum=phone,enum=link"`
	Value  string `json:"value"`
	UserID int64  `json:"user_id,omitempty" jsonschema:"description=The account it names."`
	ChatID int64  `json:"chat_id,omitempty" jsonschema:"description=The channel or group it names."`
	Seq    int64  `json:"seq,omitempty" jsonschema:"description=The message of the chat it names."`
}

type legalTargetRequest struct {
	Kind  string `json:"kind" jsonschema:"enum=user,enum=username,enum=phone,enum=link"`
	Value string `json:"value" jsonschema:"description=A user ID\\, an @username\\, a phone number in E.164 (+4915112345678)\\, or a link to a public channel\\, group or message (https://HOST/@name/17)."`
}

type legalFileRequest struct {
	Kind               string               `json:"kind" jsonschema:"enum=emergency,enum=preservation,enum=disclosure,enum=removal,enum=other"`
	CaseReference      string               `json:"case_reference" jsonschema:"description=The agency's own reference."`
	LegalBasis         string               `json:"legal_basis" jsonschema:"description=The law the request rests on."`
	Process            string               `json:"process" jsonschema:"enum=subpoena,enum=court_order,enum=warrant,enum=mlat,enum=emergency,enum=preservation,enum=removal_order,enum=tco_removal_order,enum=other"`
	IssuingAuthority   string               `json:"issuing_authority" jsonschema:"description=The court or authority that issued the process."`
	Jurisdiction       string               `json:"jurisdiction,omitempty" jsonschema:"description=The issuing country\\, ISO 3166-1 alpha-2 (default: the agency's)."`
	Targets            []legalTargetRequest `json:"targets"`
	DateFrom           *time.Time           `json:"date_from,omitempty"`
	DateTo             *time.Time           `json:"date_to,omitempty"`
	Categories         []string             `json:"categories,omitempty" jsonschema:"description=The data asked for: subscriber\\, access\\, content. Required for emergency and disclosure requests."`
	Description        string               `json:"description,omitempty" jsonschema:"description=What happened and why the data is needed; required for an emergency."`
	Deadline           *time.Time           `json:"deadline,omitempty"`
	NonDisclosure      bool                 `json:"nondisclosure,omitempty" jsonschema:"description=A non-disclosure order forbids telling the users concerned."`
	NonDisclosureUntil *time.Time           `json:"nondisclosure_until,omitempty"`
	Category           string               `json:"category,omitempty" jsonschema:"description=For a removal order: what the content is\\, as a moderation category (default terrorism)."`
}

type legalRequestView struct {
	ID                 int64             `json:"id"`
	Number             string            `json:"number" jsonschema:"description=The case number\\, such as LE-2026-000042."`
	AgencyID           int64             `json:"agency_id"`
	OfficerID          int64             `json:"officer_id"`
	Kind               string            `json:"kind" jsonschema:"enum=emergency,enum=preservation,enum=disclosure,enum=removal,enum=other"`
	State              string            `json:"state" jsonschema:"enum=received,enum=in_review,enum=needs_info,enum=approved,enum=fulfilled,enum=rejected,enum=withdrawn"`
	CaseReference      string            `json:"case_reference"`
	LegalBasis         string            `json:"legal_basis"`
	Process            string            `json:"process"`
	IssuingAuthority   string            `json:"issuing_authority"`
	Jurisdiction       string            `json:"jurisdiction"`
	Targets            []legalTargetView `json:"targets"`
	DateFrom           *time.Time        `json:"date_from,omitempty"`
	DateTo             *time.Time        `json:"date_to,omitempty"`
	Categories         []string          `json:"categories" jsonschema:"description=The data categories asked for."`
	Approved           []string          `json:"approved_categories" jsonschema:"description=The data categories the legal team approved: what a disclosure package holds."`
	Description        string            `json:"description,omitempty"`
	Deadline           *time.Time        `json:"deadline,omitempty"`
	DueAt              time.Time         `json:"due_at" jsonschema:"description=When kurir answers by."`
	NonDisclosure      bool              `json:"nondisclosure"`
	NonDisclosureUntil *time.Time        `json:"nondisclosure_until,omitempty"`
	Decision           string            `json:"decision,omitempty" jsonschema:"description=The reasons given with an approval or rejection."`
	ReceivedAt         time.Time         `json:"received_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	ClosedAt           *time.Time        `json:"closed_at,omitempty"`
	PagedAt            *time.Time        `json:"paged_at,omitempty" jsonschema:"description=An emergency: when on-call legal staff were paged."`
	AnsweredAt         *time.Time        `json:"answered_at,omitempty" jsonschema:"description=The legal team's first decision."`
	EnforcedAt         *time.Time        `json:"enforced_at,omitempty" jsonschema:"description=A removal order: when the content was withheld in the issuing country."`
	PreservedUntil     *time.Time        `json:"preserved_until,omitempty" jsonschema:"description=A preservation: until when the targets' data is kept."`
}

func categoryNames(cs []legal.Category) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

func newLegalRequestView(q legal.Request) legalRequestView {
	v := legalRequestView{ID: q.ID, Number: q.Number, AgencyID: q.AgencyID, OfficerID: q.OfficerID, Kind: string(q.Kind), State: string(q.State),
		CaseReference: q.CaseReference, LegalBasis: q.LegalBasis, Process: string(q.Process), IssuingAuthority: q.IssuingAuthority,
		Jurisdiction: q.Jurisdiction, Targets: make([]legalTargetView, 0, len(q.Targets)), DateFrom: optTime(q.From), DateTo: optTime(q.To),
		Categories: categoryNames(q.Categories), Approved: categoryNames(q.Approved), Description: q.Description,
		Deadline: optTime(q.Deadline), DueAt: q.Due, NonDisclosure: q.NonDisclosure, NonDisclosureUntil: optTime(q.NonDisclosureEnd),
		Decision: q.Decision, ReceivedAt: q.Received, UpdatedAt: q.Updated, ClosedAt: optTime(q.Closed), PagedAt: optTime(q.Paged),
		AnsweredAt: optTime(q.Answered), EnforcedAt: optTime(q.Enforced), PreservedUntil: optTime(q.PreservedUntil)}
	for _, t := range q.Targets {
		v.Targets = append(v.Targets, legalTargetView{Kind: string(t.Kind), Value: t.Value, UserID: int64(t.User), ChatID: int64(t.Chat), Seq: t.Seq})
	}
	return v
}

type legalRequestList struct {
	Requests []legalRequestView `json:"requests"`
}

func newLegalRequestList(qs []legal.Request) legalRequestList {
	v := legalRequestList{Requests: make([]legalRequestView, 0, len(qs))}
	for _, q := range qs {
		v.Requests = append(v.Requests, newLegalRequestView(q))
	}
	return v
}

type legalEventView struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor" jsonschema:"enum=officer,enum=legal,enum=system"`
	// ActorID is shown to the legal team only: officers do not learn staff
	// members' account IDs.
	ActorID  int64  `json:"actor_id,omitempty" jsonschema:"description=The officer or staff member (legal team only)."`
	Kind     string `json:"kind" jsonschema:"description=What happened: filed\\, paged\\, enforced\\, preserved\\, document\\, in_review\\, needs_info\\, approved\\, fulfilled\\, rejected\\, withdrawn\\, downloaded\\, note\\, ..."`
	Note     string `json:"note,omitempty"`
	Internal bool   `json:"internal,omitempty" jsonschema:"description=A step officers do not see\\, such as the legal team's notes."`
}

type legalDocumentView struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type" jsonschema:"enum=application/pdf,enum=image/png,enum=image/jpeg"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedAt  time.Time `json:"uploaded_at"`
}

func newLegalDocumentView(a legal.Attachment) legalDocumentView {
	return legalDocumentView{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, SHA256: a.SHA256, UploadedAt: a.Uploaded}
}

type legalRequestDetail struct {
	Request   legalRequestView    `json:"request"`
	Timeline  []legalEventView    `json:"timeline"`
	Documents []legalDocumentView `json:"documents" jsonschema:"description=The legal documents attached: their names and hashes. Only the legal team downloads them."`
}

// newLegalRequestDetail is a request as an officer (team false) or the
// legal team sees it.
func newLegalRequestDetail(rv legal.RequestView, team bool) legalRequestDetail {
	v := legalRequestDetail{Request: newLegalRequestView(rv.Request), Timeline: make([]legalEventView, 0, len(rv.Timeline)),
		Documents: make([]legalDocumentView, 0, len(rv.Attachments))}
	for _, e := range rv.Timeline {
		ev := legalEventView{ID: e.ID, At: e.At, Actor: e.Actor, Kind: e.Kind, Note: e.Note, Internal: e.Internal}
		if team {
			ev.ActorID = e.ActorID
		}
		v.Timeline = append(v.Timeline, ev)
	}
	for _, a := range rv.Attachments {
		v.Documents = append(v.Documents, newLegalDocumentView(a))
	}
	return v
}

type legalAnswerRequest struct {
	Answer string `json:"answer"`
}

type legalQuestionRequest struct {
	Question string `json:"question"`
}

type legalApprovalRequest struct {
	Categories []string `json:"categories" jsonschema:"description=The data categories approved: some or all of those asked for; content only under a warrant or MLAT."`
	Reason     string   `json:"reason,omitempty" jsonschema:"description=Why\\, on the officer's timeline (such as why the scope was narrowed)."`
}

type legalExtensionRequest struct {
	Countries []string `json:"countries" jsonschema:"description=Countries (ISO 3166-1 alpha-2) or groups (EU\\, EEA) to withhold the content in as well."`
}

type legalTextRequest struct {
	Text string `json:"text"`
}

type legalPackageView struct {
	ID        int64     `json:"id"`
	RequestID int64     `json:"request_id"`
	CreatedAt time.Time `json:"created_at"`
	SHA256    string    `json:"sha256" jsonschema:"description=The SHA-256 of the package file (a zip)."`
	Size      int64     `json:"size"`
	Signature string    `json:"signature" jsonschema:"description=The Ed25519 signature of the package's manifest\\, in standard base64."`
}

type legalFulfilmentView struct {
	Request legalRequestView  `json:"request"`
	Package *legalPackageView `json:"package,omitempty" jsonschema:"description=The disclosure package built\\, if the approved scope holds data categories."`
}

type legalAgencyView struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	Country      string     `json:"country" jsonschema:"description=ISO 3166-1 alpha-2."`
	Jurisdiction string     `json:"jurisdiction,omitempty"`
	Domains      []string   `json:"domains" jsonschema:"description=The e-mail domains its officers sign up with."`
	Removal      bool       `json:"removal_orders" jsonschema:"description=A competent authority for removal orders\\, which are then enforced in its country at once."`
	CreatedAt    time.Time  `json:"created_at"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty" jsonschema:"description=Set while its officers are kept out of the portal."`
}

func newLegalAgencyView(a legal.Agency) legalAgencyView {
	return legalAgencyView{ID: a.ID, Name: a.Name, Country: a.Country, Jurisdiction: a.Jurisdiction, Domains: a.Domains, Removal: a.Removal,
		CreatedAt: a.CreatedAt, DisabledAt: optTime(a.Disabled)}
}

type legalAgencyList struct {
	Agencies []legalAgencyView `json:"agencies"`
}

type legalAgencyRequest struct {
	Name         string   `json:"name"`
	Country      string   `json:"country" jsonschema:"description=ISO 3166-1 alpha-2\\, such as DE."`
	Jurisdiction string   `json:"jurisdiction,omitempty" jsonschema:"description=Such as Federal or Bavaria."`
	Domains      []string `json:"domains" jsonschema:"description=The e-mail domains its officers use\\, such as bka.bund.de."`
	Removal      bool     `json:"removal_orders,omitempty" jsonschema:"description=It is a competent authority for removal orders."`
}

type legalDisabledRequest struct {
	Disabled bool `json:"disabled"`
}

// Handlers for officers.

func handleOfficerSignUp(svc *legal.Service, limit int64) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalSignUpRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if req.Lang == "" {
			req.Lang = r.Header.Get("Accept-Language")
		}
		o, err := svc.SignUp(r.Context(), legal.SignUpParams{Email: req.Email, Name: req.Name, Badge: req.Badge, Password: req.Password, Lang: req.Lang})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newLegalOfficerView(o))
	})
}

func handleOfficerVerify(svc *legal.Service, limit int64) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalVerifyRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.VerifyEmail(r.Context(), req.Email, req.Password, req.Code))
	})
}

func handleOfficerResendCode(svc *legal.Service, limit int64) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalEmailRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.ResendCode(r.Context(), req.Email))
	})
}

func handleOfficerLogin(svc *legal.Service, limit int64) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalLoginRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		token, o, err := svc.Login(r.Context(), req.Email, req.Password, req.TOTP, clientIP(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		// Login opens a second-factor session exactly when the officer has
		// an authenticator.
		encode(w, http.StatusCreated, legalLoginResponse{Token: token, Officer: newLegalOfficerView(o),
			Ready: legal.RequireReady(legal.OfficerSession{Officer: o, SecondFactor: o.TOTP}) == nil})
	})
}

func handleOfficerLogout(svc *legal.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondDone(w, r, svc.Logout(r.Context(), officer(r.Context())))
	})
}

func handleOfficerMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, newLegalMeView(officer(r.Context())))
	})
}

func handleBeginTOTP(svc *legal.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, uri, err := svc.BeginTOTP(r.Context(), officer(r.Context()))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, legalTOTPView{Secret: secret, URI: uri})
	})
}

func handleConfirmTOTP(svc *legal.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalCodeRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.ConfirmTOTP(r.Context(), officer(r.Context()), req.Code))
	})
}

func handleAttest(svc *legal.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalAttestationRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.Attest(r.Context(), officer(r.Context()), req.Statement))
	})
}

func handleAttestation(svc *legal.Service) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, legalAttestationView{Text: legal.Attestation})
	})
}

func handlePublicKey(svc *legal.Service) http.Handler {
	return portal(svc, func(w http.ResponseWriter, r *http.Request) {
		key, err := svc.PublicKey(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, legalPublicKeyView{Algorithm: "Ed25519", PublicKey: base64.StdEncoding.EncodeToString(key)})
	})
}

func handleFileRequest(svc *legal.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[legalFileRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := legal.NewRequest{Kind: legal.Kind(req.Kind), CaseReference: req.CaseReference, LegalBasis: req.LegalBasis,
			Process: legal.Process(req.Process), IssuingAuthority: req.IssuingAuthority, Jurisdiction: req.Jurisdiction,
			From: fromOpt(req.DateFrom), To: fromOpt(req.DateTo), Description: req.Description, Deadline: fromOpt(req.Deadline),
			NonDisclosure: req.NonDisclosure, NonDisclosureEnd: fromOpt(req.NonDisclosureUntil), Category: moderation.Category(req.Category)}
		for _, t := range req.Targets {
			p.Targets = append(p.Targets, legal.Target{Kind: legal.TargetKind(t.Kind), Value: t.Value})
		}
		for _, c := range req.Categories {
			p.Categories = append(p.Categories, legal.Category(c))
		}
		q, err := svc.File(r.Context(), officer(r.Context()), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newLegalRequestView(q))
	})
}

func handleOfficerRequests(svc *legal.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qs, err := svc.Requests(r.Context(), officer(r.Context()))
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestList(qs))
	})
}

// officerRequest answers an officer's operation on request {id}.
func officerRequest(fn func(w http.ResponseWriter, r *http.Request, sess legal.OfficerSession, id int64)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "request ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		fn(w, r, officer(r.Context()), id)
	})
}

func handleOfficerRequest(svc *legal.Service) http.Handler {
	return officerRequest(func(w http.ResponseWriter, r *http.Request, sess legal.OfficerSession, id int64) {
		rv, err := svc.Request(r.Context(), sess, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestDetail(rv, false))
	})
}

func handleAttach(svc *legal.Service) http.Handler {
	return officerRequest(func(w http.ResponseWriter, r *http.Request, sess legal.OfficerSession, id int64) {
		if r.ContentLength > maxLegalDocument {
			writeError(w, r, &kurir.Error{Code: kurir.EInvalid, Reason: reasonBodyTooLarge, Field: "file",
				Message: fmt.Sprintf("A document is at most %d MiB.", maxLegalDocument>>20)})
			return
		}
		body := http.MaxBytesReader(w, io.NopCloser(uploadBody(w, r)), maxLegalDocument)
		a, err := svc.Attach(r.Context(), sess, id, r.URL.Query().Get("name"), body)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = &kurir.Error{Code: kurir.EInvalid, Reason: reasonBodyTooLarge, Field: "file",
				Message: fmt.Sprintf("A document is at most %d MiB.", maxLegalDocument>>20)}
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newLegalDocumentView(a))
	})
}

// officerStep answers an officer's step on request {id} that takes a body
// and answers with the request.
func officerStep[T any](limit int64, fn func(r *http.Request, sess legal.OfficerSession, id int64, req T) (legal.Request, error)) http.Handler {
	return officerRequest(func(w http.ResponseWriter, r *http.Request, sess legal.OfficerSession, id int64) {
		req, err := decode[T](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		q, err := fn(r, sess, id, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestView(q))
	})
}

func handleRespond(svc *legal.Service, limit int64) http.Handler {
	return officerStep(limit, func(r *http.Request, sess legal.OfficerSession, id int64, req legalAnswerRequest) (legal.Request, error) {
		return svc.Respond(r.Context(), sess, id, req.Answer)
	})
}

func handleWithdraw(svc *legal.Service, limit int64) http.Handler {
	return officerStep(limit, func(r *http.Request, sess legal.OfficerSession, id int64, req reasonRequest) (legal.Request, error) {
		return svc.Withdraw(r.Context(), sess, id, req.Reason)
	})
}

func handleDownloadPackage(svc *legal.Service) http.Handler {
	return officerRequest(func(w http.ResponseWriter, r *http.Request, sess legal.OfficerSession, id int64) {
		pkg, rc, err := svc.Download(r.Context(), sess, id, clientIP(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer rc.Close()
		name := fmt.Sprintf("disclosure-%d.zip", id)
		var m struct {
			Request string `json:"request"`
		}
		if json.Unmarshal(pkg.Manifest, &m) == nil && m.Request != "" {
			name = m.Request + ".zip"
		}
		h := w.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", fmt.Sprint(pkg.Size))
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, rc); err != nil {
			logger(r.Context()).Warn("send disclosure package", "request", id, "err", err)
		}
	})
}

// Handlers for the legal team.

func handleAgencies(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, _ legal.Staff) {
		as, err := svc.Agencies(r.Context())
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := legalAgencyList{Agencies: make([]legalAgencyView, 0, len(as))}
		for _, a := range as {
			v.Agencies = append(v.Agencies, newLegalAgencyView(a))
		}
		encode(w, http.StatusOK, v)
	})
}

func handleAddAgency(svc *legal.Service, limit int64) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		req, err := decode[legalAgencyRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		a, err := svc.AddAgency(r.Context(), by, legal.Agency{Name: req.Name, Country: req.Country, Jurisdiction: req.Jurisdiction,
			Domains: req.Domains, Removal: req.Removal})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newLegalAgencyView(a))
	})
}

func handleAgencyDisabled(svc *legal.Service, limit int64) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		id, err := pathInt(r, "id", "agency ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[legalDisabledRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.SetAgencyDisabled(r.Context(), by, id, req.Disabled))
	})
}

func handleOfficerDisabled(svc *legal.Service, limit int64) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		id, err := pathInt(r, "id", "officer ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[legalDisabledRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.SetOfficerDisabled(r.Context(), by, id, req.Disabled))
	})
}

func handleOfficerReset(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		id, err := pathInt(r, "id", "officer ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.ResetOfficer(r.Context(), by, id))
	})
}

func handleAgencyOfficers(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, _ legal.Staff) {
		id, err := pathInt(r, "id", "agency ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		os, err := svc.Officers(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := legalOfficerList{Officers: make([]legalOfficerView, 0, len(os))}
		for _, o := range os {
			v.Officers = append(v.Officers, newLegalOfficerView(o))
		}
		encode(w, http.StatusOK, v)
	})
}

// legalStates are the states a request can be in, for ?state=.
var legalStates = []legal.State{legal.Received, legal.InReview, legal.NeedsInfo, legal.Approved, legal.Fulfilled, legal.Rejected, legal.Withdrawn}

func handleLegalQueue(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		state := legal.State(r.URL.Query().Get("state"))
		if state != "" && !slices.Contains(legalStates, state) {
			writeError(w, r, kurir.Invalid("state", "unknown_state",
				"%q is not a state; a request is received, in_review, needs_info, approved, fulfilled, rejected or withdrawn.", state))
			return
		}
		qs, err := svc.Queue(r.Context(), by, state)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestList(qs))
	})
}

func handleEmergencies(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		qs, err := svc.Emergencies(r.Context(), by)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestList(qs))
	})
}

// teamRequest answers a legal-team operation on request {id}.
func teamRequest(svc *legal.Service, fn func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64)) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		id, err := pathInt(r, "id", "request ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		fn(w, r, by, id)
	})
}

// teamStep answers a legal-team step on request {id} that takes a body and
// answers with the request.
func teamStep[T any](svc *legal.Service, limit int64, fn func(r *http.Request, by legal.Staff, id int64, req T) (legal.Request, error)) http.Handler {
	return teamRequest(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64) {
		req, err := decode[T](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		q, err := fn(r, by, id, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestView(q))
	})
}

func handleReview(svc *legal.Service) http.Handler {
	return teamRequest(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64) {
		rv, err := svc.Review(r.Context(), by, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestDetail(rv, true))
	})
}

func handleStartReview(svc *legal.Service) http.Handler {
	return teamRequest(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64) {
		q, err := svc.StartReview(r.Context(), by, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newLegalRequestView(q))
	})
}

func handleFulfil(svc *legal.Service) http.Handler {
	return teamRequest(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64) {
		q, pkg, err := svc.Fulfil(r.Context(), by, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := legalFulfilmentView{Request: newLegalRequestView(q)}
		if pkg != nil {
			v.Package = &legalPackageView{ID: pkg.ID, RequestID: pkg.RequestID, CreatedAt: pkg.Created, SHA256: pkg.SHA256, Size: pkg.Size,
				Signature: base64.StdEncoding.EncodeToString(pkg.Signature)}
		}
		encode(w, http.StatusOK, v)
	})
}

func handleLegalNote(svc *legal.Service, limit int64) http.Handler {
	return teamRequest(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff, id int64) {
		req, err := decode[legalTextRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, svc.Note(r.Context(), by, id, req.Text))
	})
}

func handleLegalDocument(svc *legal.Service) http.Handler {
	return legalTeam(svc, func(w http.ResponseWriter, r *http.Request, by legal.Staff) {
		id, err := pathInt(r, "id", "document ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		a, rc, err := svc.Document(r.Context(), by, id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer rc.Close()
		h := w.Header()
		// A legal document is never shown as a page of this site: it is
		// downloaded, and even opened by mistake it runs nothing.
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Length", fmt.Sprint(a.Size))
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, rc); err != nil {
			logger(r.Context()).Warn("send legal document", "document", id, "err", err)
		}
	})
}

// Handlers for users.

type disclosureView struct {
	ID         int64     `json:"id"`
	Number     string    `json:"number" jsonschema:"description=The request's case number."`
	Categories []string  `json:"categories" jsonschema:"description=The data categories disclosed: subscriber\\, access\\, content."`
	Authority  string    `json:"authority" jsonschema:"description=The authority that asked."`
	Country    string    `json:"country" jsonschema:"description=Its country\\, ISO 3166-1 alpha-2."`
	At         time.Time `json:"disclosed_at"`
}

type disclosureList struct {
	Disclosures []disclosureView `json:"disclosures"`
}

func handleMyDisclosures(svc *legal.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := disclosureList{Disclosures: []disclosureView{}}
		if svc == nil {
			// Without the portal nothing was ever disclosed through it.
			encode(w, http.StatusOK, v)
			return
		}
		ns, err := svc.NoticesFor(r.Context(), principal(r.Context()).User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		for _, n := range ns {
			v.Disclosures = append(v.Disclosures, disclosureView{ID: n.ID, Number: n.RequestNumber, Categories: categoryNames(n.Categories),
				Authority: n.Authority, Country: n.Country, At: n.At})
		}
		encode(w, http.StatusOK, v)
	})
}

func addLegalRoutes(rt *router, svc *legal.Service, limit int64) {
	tags := []string{"legal"}
	done := func(what string) map[int]openapi.Response { return map[int]openapi.Response{204: {Description: what}} }
	reqID := openapi.Param{Name: "id", In: "path", Description: "The request's ID.", Schema: int64(0)}
	request := map[int]openapi.Response{200: {Description: "The request now.", Body: legalRequestView{}}}

	// Officers: signing up and logging in.
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal/officers", ID: "legalSignUp", Tags: tags,
		Summary: "Sign up as an officer of a registered agency",
		Description: "The e-mail address must be at one of a registered agency's domains (400 unknown_domain otherwise). " +
			"A 6-digit code is mailed to it; verify it with POST /api/v1/legal/officers/verify before logging in.",
		Request:   legalSignUpRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The officer, not verified yet.", Body: legalOfficerView{}}},
	}, handleOfficerSignUp(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal/officers/verify", ID: "legalVerifyEmail", Tags: tags,
		Summary:     "Verify an officer's e-mail address with the code mailed to it",
		Description: "A wrong code spends one of five attempts; then ask for a new code.",
		Request:     legalVerifyRequest{}, Responses: done("Verified: the officer may log in."),
	}, handleOfficerVerify(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal/officers/code", ID: "legalResendCode", Tags: tags,
		Summary:     "Mail an officer a new verification code",
		Description: "At most once a minute (429 with Retry-After); the code before is void.",
		Request:     legalEmailRequest{}, Responses: done("Sent."),
	}, handleOfficerResendCode(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal/sessions", ID: "legalLogin", Tags: tags,
		Summary: "Log in to the law-enforcement portal",
		Description: "Returns the officer's session token (12 hours), shown only once. Once an authenticator is set up its " +
			"current code is required (401 totp_required or totp_invalid; each code works once). Before that the session " +
			"is a setup session that may only set the authenticator up.",
		Request:   legalLoginRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The session's token.", Body: legalLoginResponse{}}},
	}, handleOfficerLogin(svc, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal/attestation", ID: "legalAttestation", Tags: tags,
		Summary:   "The attestation of official capacity officers make",
		Responses: map[int]openapi.Response{200: {Body: legalAttestationView{}}},
	}, handleAttestation(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal/public-key", ID: "legalPublicKey", Tags: tags,
		Summary:     "The key disclosure packages are signed with",
		Description: "Check a package's manifest.sig against its manifest.json with this Ed25519 public key.",
		Responses:   map[int]openapi.Response{200: {Body: legalPublicKeyView{}}},
	}, handlePublicKey(svc))

	// Officers: their session and setup.
	rt.handleOfficer(openapi.Operation{Method: "DELETE", Path: "/api/v1/legal/sessions/current", ID: "legalLogout", Tags: tags,
		Summary: "Log out of the portal", Responses: done("Logged out."),
	}, handleOfficerLogout(svc))
	rt.handleOfficer(openapi.Operation{Method: "GET", Path: "/api/v1/legal/me", ID: "legalMe", Tags: tags,
		Summary:     "The officer and what setup step comes next",
		Description: "Before requests an officer verifies their address, sets up an authenticator, logs in with it and attests.",
		Responses:   map[int]openapi.Response{200: {Body: legalMeView{}}},
	}, handleOfficerMe())
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/me/totp", ID: "legalBeginTOTP", Tags: tags,
		Summary:     "Start setting up an authenticator app",
		Description: "Returns a new secret (replacing one not confirmed yet); confirm it with a code it shows.",
		Responses:   map[int]openapi.Response{200: {Body: legalTOTPView{}}},
	}, handleBeginTOTP(svc))
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/me/totp/confirm", ID: "legalConfirmTOTP", Tags: tags,
		Summary:     "Confirm the authenticator app with a code it shows",
		Description: "The session becomes a second-factor session; other setup sessions end.",
		Request:     legalCodeRequest{}, Responses: done("The authenticator is set up."),
	}, handleConfirmTOTP(svc, limit))
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/me/attestation", ID: "legalAttest", Tags: tags,
		Summary:     "Attest to acting in an official capacity",
		Description: "The statement is GET /api/v1/legal/attestation's text, word for word. Needs a second-factor session.",
		Request:     legalAttestationRequest{}, Responses: done("Attested."),
	}, handleAttest(svc, limit))

	// Officers: requests.
	ready := "For officers who finished setup (403 setup_incomplete otherwise). Officers see only their agency's requests."
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/requests", ID: "legalFileRequest", Tags: tags,
		Summary: "File a request",
		Description: ready + " Every target must exist (nothing is filed otherwise). A preservation holds the targets' data for " +
			"90 days at once; a removal order from a competent authority is enforced in the issuing country at once; " +
			"emergencies and removal orders page the on-call legal staff.",
		Request:   legalFileRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The request, with its case number.", Body: legalRequestView{}}},
	}, handleFileRequest(svc, limit))
	rt.handleOfficer(openapi.Operation{Method: "GET", Path: "/api/v1/legal/requests", ID: "legalRequests", Tags: tags,
		Summary: "The agency's requests, newest first", Description: ready,
		Responses: map[int]openapi.Response{200: {Body: legalRequestList{}}},
	}, handleOfficerRequests(svc))
	rt.handleOfficer(openapi.Operation{Method: "GET", Path: "/api/v1/legal/requests/{id}", ID: "legalRequest", Tags: tags,
		Summary: "A request with its timeline and documents", Description: ready + " Another agency's request is 404.",
		Params: []openapi.Param{reqID}, Responses: map[int]openapi.Response{200: {Body: legalRequestDetail{}}},
	}, handleOfficerRequest(svc))
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/requests/{id}/documents", ID: "legalAttachDocument", Tags: tags,
		Summary: "Attach a legal document to an open request",
		Description: ready + " The body is the file: a PDF, PNG or JPEG (known by its bytes; 400 unsupported_document otherwise) " +
			"of at most 20 MiB, at most 10 per request. It is stored, never opened by the server, and only the legal team reads it.",
		Params:     []openapi.Param{reqID, {Name: "name", In: "query", Required: true, Description: "The file's name, such as order.pdf.", Schema: ""}},
		RawRequest: "application/octet-stream",
		Responses:  map[int]openapi.Response{201: {Description: "The document stored.", Body: legalDocumentView{}}},
	}, handleAttach(svc))
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/requests/{id}/response", ID: "legalRespond", Tags: tags,
		Summary: "Answer the legal team's request for more information", Description: ready + " The request goes back into review.",
		Params: []openapi.Param{reqID}, Request: legalAnswerRequest{}, Responses: request,
	}, handleRespond(svc, limit))
	rt.handleOfficer(openapi.Operation{Method: "POST", Path: "/api/v1/legal/requests/{id}/withdrawal", ID: "legalWithdraw", Tags: tags,
		Summary:     "Withdraw a request",
		Description: ready + " A removal order's restrictions are lifted; preservation holds stay until they expire.",
		Params:      []openapi.Param{reqID}, Request: reasonRequest{}, Responses: request,
	}, handleWithdraw(svc, limit))
	rt.handleOfficer(openapi.Operation{Method: "GET", Path: "/api/v1/legal/requests/{id}/package", ID: "legalDownloadPackage", Tags: tags,
		Summary: "Download a fulfilled request's disclosure package",
		Description: ready + " A zip of JSON files, one per approved data category, with manifest.json (the SHA-256 of each " +
			"file) and manifest.sig (its Ed25519 signature; see GET /api/v1/legal/public-key). Every download is logged.",
		Params:    []openapi.Param{reqID},
		Responses: map[int]openapi.Response{200: {Description: "The package.", ContentType: "application/zip"}},
	}, handleDownloadPackage(svc))

	// The legal team.
	tags = []string{"legal-team"}
	team := "For the legal team (role legal) and admins; anyone else gets 403 legal_only."
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/agencies", ID: "legalAgencies", Tags: tags, Auth: true,
		Summary: "The registered agencies", Description: team,
		Responses: map[int]openapi.Response{200: {Body: legalAgencyList{}}},
	}, handleAgencies(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/agencies", ID: "legalAddAgency", Tags: tags, Auth: true,
		Summary:     "Register an agency",
		Description: team + " Its officers then sign up with addresses at its domains; a domain belongs to one agency.",
		Request:     legalAgencyRequest{},
		Responses:   map[int]openapi.Response{201: {Description: "The agency.", Body: legalAgencyView{}}},
	}, handleAddAgency(svc, limit))
	agencyID := openapi.Param{Name: "id", In: "path", Description: "The agency's ID.", Schema: int64(0)}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/agencies/{id}/disabled", ID: "legalSetAgencyDisabled", Tags: tags, Auth: true,
		Summary:     "Keep an agency's officers out of the portal, or let them in again",
		Description: team + " Its requests are kept.",
		Params:      []openapi.Param{agencyID}, Request: legalDisabledRequest{}, Responses: done("Done."),
	}, handleAgencyDisabled(svc, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/agencies/{id}/officers", ID: "legalAgencyOfficers", Tags: tags, Auth: true,
		Summary: "An agency's officers", Description: team,
		Params: []openapi.Param{agencyID}, Responses: map[int]openapi.Response{200: {Body: legalOfficerList{}}},
	}, handleAgencyOfficers(svc))
	officerID := openapi.Param{Name: "id", In: "path", Description: "The officer's ID.", Schema: int64(0)}
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/officers/{id}/disabled", ID: "legalSetOfficerDisabled", Tags: tags, Auth: true,
		Summary:     "Keep an officer out of the portal, or let them in again",
		Description: team + " Their sessions end at once; their requests stay with the agency.",
		Params:      []openapi.Param{officerID}, Request: legalDisabledRequest{}, Responses: done("Done."),
	}, handleOfficerDisabled(svc, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/officers/{id}/reset", ID: "legalResetOfficer", Tags: tags, Auth: true,
		Summary: "Reset an officer who lost their authenticator or whose account was misused",
		Description: team + " Sessions end; the authenticator, attestation and verification are cleared. The owner of the " +
			"mailbox signs up again, which replaces the password, and verifies the address with the code mailed to it.",
		Params: []openapi.Param{officerID}, Responses: done("Done."),
	}, handleOfficerReset(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/requests", ID: "legalQueue", Tags: tags, Auth: true,
		Summary:     "The requests to work on",
		Description: team + " Without state: the open ones, emergencies first, then by due time.",
		Params: []openapi.Param{{Name: "state", In: "query", Description: "Only requests in this state: received, in_review, " +
			"needs_info, approved, fulfilled, rejected or withdrawn.", Schema: ""}},
		Responses: map[int]openapi.Response{200: {Body: legalRequestList{}}},
	}, handleLegalQueue(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/emergencies", ID: "legalEmergencies", Tags: tags, Auth: true,
		Summary: "The open emergency requests, oldest first: the console's banner", Description: team,
		Responses: map[int]openapi.Response{200: {Body: legalRequestList{}}},
	}, handleEmergencies(svc))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/requests/{id}", ID: "legalReview", Tags: tags, Auth: true,
		Summary:     "A request with its whole timeline, internal notes included",
		Description: team + " The view is in the audit log.",
		Params:      []openapi.Param{reqID}, Responses: map[int]openapi.Response{200: {Body: legalRequestDetail{}}},
	}, handleReview(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/review", ID: "legalStartReview", Tags: tags, Auth: true,
		Summary: "Take a received request into legal review", Description: team,
		Params: []openapi.Param{reqID}, Responses: request,
	}, handleStartReview(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/info", ID: "legalAskInfo", Tags: tags, Auth: true,
		Summary: "Ask the officer for more information", Description: team + " The question is on the officer's timeline.",
		Params: []openapi.Param{reqID}, Request: legalQuestionRequest{}, Responses: request,
	}, teamStep(svc, limit, func(r *http.Request, by legal.Staff, id int64, req legalQuestionRequest) (legal.Request, error) {
		return svc.AskInfo(r.Context(), by, id, req.Question)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/approval", ID: "legalApprove", Tags: tags, Auth: true,
		Summary: "Approve a request, with the data categories allowed",
		Description: team + " The scope may be narrower than asked (the reason says why); content only under a warrant or " +
			"MLAT (400 content_needs_warrant).",
		Params: []openapi.Param{reqID}, Request: legalApprovalRequest{}, Responses: request,
	}, teamStep(svc, limit, func(r *http.Request, by legal.Staff, id int64, req legalApprovalRequest) (legal.Request, error) {
		cs := make([]legal.Category, 0, len(req.Categories))
		for _, c := range req.Categories {
			cs = append(cs, legal.Category(c))
		}
		return svc.Approve(r.Context(), by, id, cs, req.Reason)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/rejection", ID: "legalReject", Tags: tags, Auth: true,
		Summary:     "Reject a request, with reasons",
		Description: team + " A rejected removal order is contested: what it withheld is available again.",
		Params:      []openapi.Param{reqID}, Request: reasonRequest{}, Responses: request,
	}, teamStep(svc, limit, func(r *http.Request, by legal.Staff, id int64, req reasonRequest) (legal.Request, error) {
		return svc.Reject(r.Context(), by, id, req.Reason)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/extension", ID: "legalExtendRemoval", Tags: tags, Auth: true,
		Summary: "Extend an open removal order to more countries",
		Description: team + " Its targets are withheld there too, with statements of reasons to their owners. To lift an " +
			"order, reject it (it is contested) or let the authority withdraw it.",
		Params: []openapi.Param{reqID}, Request: legalExtensionRequest{}, Responses: request,
	}, teamStep(svc, limit, func(r *http.Request, by legal.Staff, id int64, req legalExtensionRequest) (legal.Request, error) {
		return svc.Extend(r.Context(), by, id, req.Countries)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/fulfilment", ID: "legalFulfil", Tags: tags, Auth: true,
		Summary: "Fulfil an approved request",
		Description: team + " For a disclosure the package of the approved categories is built and offered to the officers; " +
			"the users concerned are told unless a non-disclosure order stands.",
		Params:    []openapi.Param{reqID},
		Responses: map[int]openapi.Response{200: {Body: legalFulfilmentView{}}},
	}, handleFulfil(svc))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/legal-team/requests/{id}/notes", ID: "legalNote", Tags: tags, Auth: true,
		Summary: "Add an internal note to a request's timeline", Description: team + " Officers do not see it.",
		Params: []openapi.Param{reqID}, Request: legalTextRequest{}, Responses: done("Noted."),
	}, handleLegalNote(svc, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/legal-team/documents/{id}", ID: "legalDocument", Tags: tags, Auth: true,
		Summary: "Download a legal document an officer attached",
		Description: team + " Always as an attachment, sandboxed (Content-Security-Policy: sandbox), never shown inline. " +
			"Every read is in the audit log.",
		Params:    []openapi.Param{{Name: "id", In: "path", Description: "The document's ID.", Schema: int64(0)}},
		Responses: map[int]openapi.Response{200: {Description: "The document as filed: a PDF, PNG or JPEG.", ContentType: "*/*"}},
	}, handleLegalDocument(svc))

	// Users.
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/me/disclosures", ID: "myDisclosures", Tags: []string{"accounts"}, Auth: true,
		Summary: "Disclosures of your data to authorities that you are told of",
		Description: "After a request about you was fulfilled, unless a non-disclosure order stands (you are told once it " +
			"ends). Newest first.",
		Responses: map[int]openapi.Response{200: {Body: disclosureList{}}},
	}, handleMyDisclosures(svc))
}
