package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// This file is moderation as people meet it: users report what they see,
// read the statements of reasons for decisions against them and appeal;
// anyone, with or without an account, sends notices of illegal content;
// moderation staff (triage, moderators, admins) work the review queue.
// Who may do what is decided by the server: a call the caller's role does
// not allow is a kurir.EForbidden *Error.

// SubjectKind is what sort of thing a report, case or decision is about.
type SubjectKind string

// The kinds of subject.
const (
	SubjectMessage SubjectKind = "message"
	SubjectChat    SubjectKind = "chat" // a group or channel as a whole
	SubjectUser    SubjectKind = "user"
	SubjectMedia   SubjectKind = "media"
	// SubjectNotice is a notice whose location names nothing on the
	// service; it appears in the queue, never in a report.
	SubjectNotice SubjectKind = "notice"
)

// Subject is what a report, case or decision is about. Make one with
// MessageSubject, ChatSubject or UserSubject.
type Subject struct {
	Kind SubjectKind `json:"kind"`
	// ChatID is set for a message or a chat, Seq for a message.
	ChatID int64 `json:"chat_id,omitempty"`
	Seq    int64 `json:"seq,omitempty"`
	// UserID is set for a user.
	UserID int64 `json:"user_id,omitempty"`
	// MediaID is set for a file automated detection found (a case's
	// subject only).
	MediaID int64 `json:"media_id,omitempty"`
	// NoticeID is set for a notice.
	NoticeID int64 `json:"notice_id,omitempty"`
}

// MessageSubject names message seq of chat chatID.
func MessageSubject(chatID, seq int64) Subject {
	return Subject{Kind: SubjectMessage, ChatID: chatID, Seq: seq}
}

// ChatSubject names a group or channel as a whole.
func ChatSubject(chatID int64) Subject { return Subject{Kind: SubjectChat, ChatID: chatID} }

// UserSubject names an account.
func UserSubject(userID int64) Subject { return Subject{Kind: SubjectUser, UserID: userID} }

// MediaSubject names a file, which the reporter must be able to see
// posted somewhere.
func MediaSubject(mediaID int64) Subject { return Subject{Kind: SubjectMedia, MediaID: mediaID} }

// ReportReason is a reason a report or notice can give.
type ReportReason struct {
	// ID is what ReportParams.Reason and NoticeParams.Category take, such
	// as "scam" or "child_abuse".
	ID string `json:"id"`
	// Label is the reason's name in the language asked for.
	Label string `json:"label"`
}

// ReportReasons returns the reasons a report or notice can give, most
// severe first, labelled in lang ("en", "id", "ru" or "ar"; "" or any
// other for English). It needs no token.
func (c *Client) ReportReasons(ctx context.Context, lang string) ([]ReportReason, error) {
	var out struct {
		Reasons []ReportReason `json:"reasons"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/report-reasons")+langQuery(lang), nil, &out)
	return out.Reasons, err
}

// langQuery is the ?lang= of a request for text in lang, or "" for none.
func langQuery(lang string) string {
	if lang == "" {
		return ""
	}
	var q query
	q.add("lang", lang)
	return string(q.b)
}

// ReportParams are a report. Subject and Reason are required.
type ReportParams struct {
	Subject Subject `json:"subject"`
	// Reason is one of the IDs from ReportReasons.
	Reason string `json:"reason"`
	// Comment is anything the moderators should know, at most 2,000
	// characters.
	Comment string `json:"comment,omitempty"`
}

// Report is a report the caller made, with how it stands.
type Report struct {
	ID int64 `json:"id"`
	// CaseID is the case the report joined; reports of one subject share it.
	CaseID  int64   `json:"case_id"`
	Subject Subject `json:"subject"`
	Reason  string  `json:"reason"`
	Comment string  `json:"comment,omitempty"`
	// Evidence is what the server verified before filing the report (for
	// a report of a secret-chat message, the message), or nil.
	Evidence  *Evidence `json:"evidence,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// State is the case's: "open", "escalated" or "resolved".
	State string `json:"state"`
	// Outcome, once resolved, is "actioned" or "dismissed".
	Outcome string `json:"outcome,omitempty"`
	// Reversal is set (by Reports) once the action taken was reversed.
	Reversal *Reversal `json:"reversal,omitempty"`
	// Review is the reporter's request for a review of a dismissal, if
	// they made one (RequestReportReview; set by Reports).
	Review *Review `json:"review,omitempty"`
}

// Reversal tells a reporter or notifier that the action their report or
// notice led to was reversed.
type Reversal struct {
	At time.Time `json:"at"`
	// ByAppeal is whether the affected user's appeal was upheld, rather
	// than staff reversing it of their own accord.
	ByAppeal bool `json:"by_appeal"`
}

// Report reports a message, a group or channel, or a user. The caller can
// report only what they can see (anything else is a kurir.ENotFound
// *Error), and each subject once while its case is open: a second report
// of it is a kurir.EConflict *Error with Reason "already_reported". Reports from
// trusted flaggers go ahead of the queue.
func (c *Client) Report(ctx context.Context, p ReportParams) (Report, error) {
	var r Report
	err := c.do(ctx, http.MethodPost, c.url("/reports"), p, &r)
	return r, err
}

// Reports returns the caller's reports, newest first, with how each was
// decided: at most limit (0 for the server's default and maximum of 100).
func (c *Client) Reports(ctx context.Context, limit int) ([]Report, error) {
	var out struct {
		Reports []Report `json:"reports"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/reports")+limitQuery(limit), nil, &out)
	return out.Reports, err
}

// limitQuery is the ?limit= of a list request, or "" for the server's default.
func limitQuery(limit int) string {
	if limit <= 0 {
		return ""
	}
	var q query
	q.addInt("limit", int64(limit))
	return string(q.b)
}

// ActionKind is what a moderation decision does.
type ActionKind string

// The kinds of moderation action.
const (
	// ActionRemoveMessage makes a message read as deleted for everyone.
	ActionRemoveMessage ActionKind = "remove_message"
	// ActionTakedown makes a group or channel, with all it holds,
	// unavailable to everyone.
	ActionTakedown ActionKind = "takedown"
	// ActionSuspend stops an account from acting until a time.
	ActionSuspend ActionKind = "suspend"
	// ActionBan stops an account from acting until the ban is reversed.
	ActionBan ActionKind = "ban"
	// ActionLabel puts a warning on a group or channel that its readers
	// see (ActParams.Label); its content stays readable.
	ActionLabel ActionKind = "label"
	// ActionRemoveMedia removes a file (of a case about a file) everywhere it
	// was posted and refuses it if uploaded again.
	ActionRemoveMedia ActionKind = "remove_media"
	// ActionRestrict withholds a message, or a group or channel, from
	// readers in some countries only (ActParams.Countries); see
	// ChatRestrictions.
	ActionRestrict ActionKind = "restrict"
)

// Statement is a statement of reasons: a decision against the caller's
// content or account, written out for them in the language they asked for
// (EU DSA Art. 17).
type Statement struct {
	// ID is the decision's, which Appeal takes.
	ID        int64      `json:"id"`
	Action    ActionKind `json:"action"`
	Subject   Subject    `json:"subject"`
	DecidedAt time.Time  `json:"decided_at"`
	// Lang is the language the text fields are written in.
	Lang string `json:"lang"`
	// Restriction says what was restricted.
	Restriction string `json:"restriction"`
	Category    string `json:"category"`
	// Ground is the terms of service (with the clause) or the law the
	// decision rests on.
	Ground string `json:"ground"`
	// GroundURL links to the clause of the terms, if the server knows
	// their address.
	GroundURL string `json:"ground_url,omitempty"`
	// Facts are the facts and circumstances: in Lang where a reason
	// template or automated means stated them, with what the moderator
	// typed as typed.
	Facts            string `json:"facts"`
	TerritorialScope string `json:"territorial_scope"`
	Duration         string `json:"duration"`
	// Automation says whether automated means detected or decided it.
	Automation string `json:"automation"`
	// Redress says how to appeal, and the other ways to seek redress.
	Redress string `json:"redress"`
	// Until is when a suspension ends; the zero time otherwise.
	Until time.Time `json:"until,omitzero"`
	// Reversed is set once the decision was reversed, saying when.
	Reversed string `json:"reversed,omitempty"`
	// AppealUntil is the last moment the decision can be appealed.
	AppealUntil time.Time `json:"appeal_until"`
	// CanAppeal says Appeal would be accepted now.
	CanAppeal bool `json:"can_appeal"`
	// Appeal is the caller's appeal of the decision, or nil.
	Appeal *Appeal `json:"appeal,omitempty"`
}

// Statements returns the statements of reasons for decisions against the
// caller's content or account, newest first, written in lang ("en", "id",
// "ru" or "ar"; "" or any other for English). Reading them sets
// UnseenStatements back to 0, on every device.
func (c *Client) Statements(ctx context.Context, lang string) ([]Statement, error) {
	var out struct {
		Statements []Statement `json:"statements"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/statements")+langQuery(lang), nil, &out)
	return out.Statements, err
}

// UnseenStatements returns how many decisions about the caller were taken
// or reversed since they last read their Statements. The live stream
// hears the frame {"type":"decision"} when it changes.
func (c *Client) UnseenStatements(ctx context.Context) (int, error) {
	var out struct {
		Unseen int `json:"unseen"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/statements/unseen"), nil, &out)
	return out.Unseen, err
}

// Appeal is an appeal against a moderation decision.
type Appeal struct {
	ID int64 `json:"id"`
	// Kind is "decision" (the affected user appeals an action) or
	// "dismissal" (a notifier or reporter asks for a review of a dismissed
	// case: ActionID is 0, and Case is the case as it is now).
	Kind   string `json:"kind"`
	CaseID int64  `json:"case_id"`
	// NoticeID is a notifier's notice, for their request for review.
	NoticeID int64 `json:"notice_id,omitempty"`
	// DueAt is when it is due to be decided; Overdue says it is pending
	// past that.
	DueAt   time.Time `json:"due_at"`
	Overdue bool      `json:"overdue"`
	// AssigneeID is who is to decide it; DeciderID who took the decision
	// under review, who may not.
	AssigneeID int64 `json:"assignee_id,omitempty"`
	DeciderID  int64 `json:"decider_id,omitempty"`
	Case       *Case `json:"case,omitempty"`
	// ActionID is the decision appealed against.
	ActionID int64 `json:"action_id,omitempty"`
	// UserID is who appealed (0 for a notifier without an account).
	UserID int64  `json:"user_id,omitempty"`
	Text   string `json:"text"`
	// State is "pending", "upheld" (the decision was reversed) or "rejected".
	State string `json:"state"`
	// Status is the state in words, in a Statement's language.
	Status string `json:"status,omitempty"`
	// Reason is why it was decided so, once decided.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// DecidedAt and DecidedBy are set once it is decided.
	DecidedAt time.Time `json:"decided_at,omitzero"`
	DecidedBy int64     `json:"decided_by,omitempty"`
	// Decision is the decision appealed against, when the server includes it.
	Decision *Action `json:"decision,omitempty"`
}

// Appeal appeals decision decisionID (a Statement's ID) against the
// caller's content or account, saying in text, at most 2,000 characters,
// why it is wrong. A person other than the one who decided reviews it; if
// they uphold it the decision is reversed at once. A decision can be
// appealed once (again is a kurir.EConflict *Error with Reason
// "already_appealed") and until its Statement's AppealUntil.
func (c *Client) Appeal(ctx context.Context, decisionID int64, text string) (Appeal, error) {
	body := struct {
		Text string `json:"text"`
	}{text}
	var a Appeal
	err := c.do(ctx, http.MethodPost, c.url("/statements/*/appeal", decisionID), body, &a)
	return a, err
}

// NoticeParams are a notice of illegal content (EU DSA Art. 16).
// Explanation, Location, Category and GoodFaith are required; Name and
// Email are too, except for notices of child sexual abuse material.
type NoticeParams struct {
	// Explanation says why the content is illegal, in at most 5,000
	// characters.
	Explanation string `json:"explanation"`
	// Location is where it is: a link such as https://HOST/@channel/17,
	// https://HOST/chats/5 (or /chats/5/17 for a message) or an invite link
	// https://HOST/join/CODE; or @channel/17, @channel or @user.
	Location string `json:"location"`
	// Category is one of the IDs from ReportReasons.
	Category string `json:"category"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	// GoodFaith confirms the notifier believes in good faith that the
	// notice is accurate and complete.
	GoodFaith bool `json:"good_faith"`
}

// NoticeReceipt confirms a notice.
type NoticeReceipt struct {
	ID int64 `json:"id"`
	// Token is shown only here: with it, and only with it, NoticeStatus
	// follows the notice to its decision.
	Token      string    `json:"token"`
	ReceivedAt time.Time `json:"received_at"`
	// StatusURL is the path of the web page that shows the notice's status.
	StatusURL string `json:"status_url"`
}

// SubmitNotice sends a notice of illegal content. It needs no token: anyone
// may send one. A missing or wrong field is a kurir.EInvalid *Error whose
// Field names it, and nothing is recorded.
func (c *Client) SubmitNotice(ctx context.Context, p NoticeParams) (NoticeReceipt, error) {
	var r NoticeReceipt
	err := c.do(ctx, http.MethodPost, c.url("/notices"), p, &r)
	return r, err
}

// NoticeStatus is where a notice stands.
type NoticeStatus struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Location   string    `json:"location"`
	Category   string    `json:"category"`
	// State is "received", then "decided".
	State string `json:"state"`
	// Outcome, once decided, is "actioned" or "dismissed".
	Outcome   string    `json:"outcome,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Action is what was done, if anything. AutomatedDecision and
	// AutomatedDetection say, when Action is set, whether automated means
	// took the decision or found the content.
	Action             ActionKind `json:"action,omitempty"`
	AutomatedDecision  bool       `json:"automated_decision,omitempty"`
	AutomatedDetection bool       `json:"automated_detection,omitempty"`
	// Reversal is set once the action taken was reversed.
	Reversal *Reversal `json:"reversal,omitempty"`
	// Review is the notifier's request for a review of a dismissal, if
	// they made one (RequestNoticeReview).
	Review *Review `json:"review,omitempty"`
}

// NoticeStatus returns where notice id stands, to whoever holds the token
// from its receipt. It needs no session token. A wrong token is the same
// kurir.ENotFound *Error as a notice that does not exist.
func (c *Client) NoticeStatus(ctx context.Context, id int64, token string) (NoticeStatus, error) {
	var q query
	q.add("token", token)
	var st NoticeStatus
	err := c.do(ctx, http.MethodGet, c.url("/notices/*", id)+string(q.b), nil, &st)
	return st, err
}

// The moderation console: for moderation staff only.

// Case is a case in the review queue: every signal about one subject.
type Case struct {
	ID       int64   `json:"id"`
	Subject  Subject `json:"subject"`
	Category string  `json:"category"`
	// Priority is 0 to 100; the queue is ordered by it.
	Priority int64 `json:"priority"`
	// State is "open", "escalated" or "resolved".
	State      string `json:"state"`
	AssigneeID int64  `json:"assignee_id,omitempty"`
	// Reach is how many members or subscribers could see the subject.
	Reach       int64 `json:"reach"`
	SignalCount int64 `json:"signal_count"`
	// Sources are where its signals came from, such as "user_report",
	// "trusted_flagger" or "notice".
	Sources []string `json:"sources"`
	// DueAt is when the category's time to decide runs out.
	DueAt      time.Time `json:"due_at"`
	Overdue    bool      `json:"overdue"`
	OpenedAt   time.Time `json:"opened_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Outcome, once resolved, is "actioned" or "dismissed", or "merged" for
	// a notice's case linked to a subject that had a case of its own.
	Outcome string `json:"outcome,omitempty"`
	// Lang and Country are the language (such as "de") and country (ISO
	// 3166-1 alpha-2) of whoever signalled the case first, if known.
	Lang    string `json:"lang,omitempty"`
	Country string `json:"country,omitempty"`
}

// QueueFilter selects cases from the queue; the zero filter is every
// unresolved case, highest priority first.
type QueueFilter struct {
	// State is "open", "escalated" or "resolved" (newest first); "" for
	// open and escalated.
	State string
	// Category and Source, if set, keep only cases of the category or with
	// a signal from the source.
	Category string
	Source   string
	// Assignee, if set, keeps only cases assigned to this user.
	Assignee int64
	// Lang and Country, if set, keep only cases first signalled by someone
	// reading the language (such as "de") or in the country (such as "AT").
	Lang, Country string
	// Limit is at most how many (0 for the server's default); Offset skips.
	Limit, Offset int
}

// Queue returns the cases f selects.
func (c *Client) Queue(ctx context.Context, f QueueFilter) ([]Case, error) {
	var q query
	if f.State != "" {
		q.add("state", f.State)
	}
	if f.Category != "" {
		q.add("category", f.Category)
	}
	if f.Source != "" {
		q.add("source", f.Source)
	}
	if f.Assignee != 0 {
		q.addInt("assignee", f.Assignee)
	}
	if f.Lang != "" {
		q.add("lang", f.Lang)
	}
	if f.Country != "" {
		q.add("country", f.Country)
	}
	if f.Limit > 0 {
		q.addInt("limit", int64(f.Limit))
	}
	if f.Offset > 0 {
		q.addInt("offset", int64(f.Offset))
	}
	var out struct {
		Cases []Case `json:"cases"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/moderation/cases")+string(q.b), nil, &out)
	return out.Cases, err
}

// Signal is one report, notice or detection in a case.
type Signal struct {
	ID       int64  `json:"id"`
	Source   string `json:"source"`
	Category string `json:"category"`
	// ReporterID is the user who reported, NoticeID the notice; 0 if none.
	ReporterID int64 `json:"reporter_id,omitempty"`
	NoticeID   int64 `json:"notice_id,omitempty"`
	// Comment is what the reporter or notifier wrote: nobody checked it.
	Comment string `json:"comment,omitempty"`
	// Detail is the evidence as it was when signalled.
	Detail string `json:"detail,omitempty"`
	// Evidence is what the server verified before filing the signal, or
	// nil. No request can set it, unlike Comment.
	Evidence *Evidence `json:"evidence,omitempty"`
	// Weight is how much the signal counts: its reporter's track record.
	Weight    float64   `json:"weight"`
	CreatedAt time.Time `json:"created_at"`
}

// Evidence is what the server verified about what a report is about.
type Evidence struct {
	// Kind is how: "secret_franking" is a secret-chat message whose
	// franking proof its recipient revealed, which shows that the sender's
	// device sent Text.
	Kind string `json:"kind"`
	// Text is the content as it was sent (control characters replaced by
	// U+FFFD), at most 4,096 characters; Omitted counts those past that
	// it leaves out.
	Text    string `json:"text"`
	Omitted int    `json:"omitted,omitempty"`
	// SenderID sent it from SenderDevice, to RecipientDevice of
	// RecipientID, at SentAt, in the envelope EnvelopeID.
	SenderID        int64     `json:"sender_id"`
	SenderDevice    int64     `json:"sender_device"`
	RecipientID     int64     `json:"recipient_id"`
	RecipientDevice int64     `json:"recipient_device"`
	SentAt          time.Time `json:"sent_at"`
	EnvelopeID      string    `json:"envelope_id"`
}

// CaseEvent is an entry of a case's history.
type CaseEvent struct {
	// ActorID is who did it; 0 for the system.
	ActorID int64 `json:"actor_id,omitempty"`
	// Kind is what happened, such as "opened", "assign", "escalate",
	// "comment", "action" or "reversed".
	Kind string    `json:"kind"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// Action is a moderation decision, which is also the statement of reasons
// its affected user reads.
type Action struct {
	ID     int64      `json:"id"`
	CaseID int64      `json:"case_id"`
	Kind   ActionKind `json:"kind"`
	// Label is the warning a label action put on the chat.
	Label   string  `json:"label,omitempty"`
	Subject Subject `json:"subject"`
	// AffectedID is whose content or account the decision restricts.
	AffectedID int64  `json:"affected_id"`
	Category   string `json:"category"`
	// Ground is "terms" or "illegal"; LegalReference names the law.
	Ground         string `json:"ground"`
	LegalReference string `json:"legal_reference,omitempty"`
	Facts          string `json:"facts"`
	// ContentType is "text", "image", "video", "audio" or "other".
	ContentType string `json:"content_type"`
	// Excerpt is what was restricted, as it was.
	Excerpt string `json:"excerpt,omitempty"`
	// Source is what led to the decision, such as "user_report".
	Source             string    `json:"source"`
	AutomatedDetection bool      `json:"automated_detection"`
	AutomatedDecision  bool      `json:"automated_decision"`
	Until              time.Time `json:"until,omitzero"`
	ModeratorID        int64     `json:"moderator_id"`
	CreatedAt          time.Time `json:"created_at"`
	// ReversedAt, ReversedBy and ReversalReason are set once it is reversed.
	ReversedAt     time.Time `json:"reversed_at,omitzero"`
	ReversedBy     int64     `json:"reversed_by,omitempty"`
	ReversalReason string    `json:"reversal_reason,omitempty"`
	// Territory is, for ActionRestrict, where it applies; empty for a
	// restriction by country rules and for every other kind, which apply
	// worldwide.
	Territory []string `json:"territory,omitempty"`
}

// ReviewedMessage is a message as a reviewer sees it: with its content
// even if moderation removed it.
type ReviewedMessage struct {
	Message
	// RemovedAt is when moderation removed it; the zero time if it did not.
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	RemovalReason string    `json:"removal_reason,omitempty"`
	// Held says the message was held for review when sent: nobody has seen
	// it, and dismissing the case releases it.
	Held bool `json:"held,omitempty"`
}

// ReviewedChat is a group or channel as a reviewer sees it.
type ReviewedChat struct {
	Chat
	OwnerID int64 `json:"owner_id"`
	// TakenDownAt is when moderation took it down; the zero time if it is up.
	TakenDownAt time.Time `json:"taken_down_at,omitzero"`
}

// CaseDetail is everything a reviewer sees of a case.
type CaseDetail struct {
	Case
	Signals []Signal    `json:"signals"`
	History []CaseEvent `json:"history"`
	Actions []Action    `json:"actions"`
	// Messages are the reported message with those around it, or a chat's
	// latest messages. Fetch their media with ReviewMedia.
	Messages []ReviewedMessage `json:"messages"`
	// Chat is the group or channel of a message or chat, or nil.
	Chat *ReviewedChat `json:"chat,omitempty"`
	// Media is the file of a case about a file (Status "held" until the
	// case is dismissed) or of a reported message that carries one, or nil.
	Media *Media `json:"media,omitempty"`
	// Notices are the notices filed into the case, whole.
	Notices []NoticeRecord `json:"notices"`
}

// NoticeRecord is a notice as reviewers see it.
type NoticeRecord struct {
	ID       int64  `json:"id"`
	Category string `json:"category"`
	// Location is as the notifier gave it; Explanation is all of it.
	Location    string `json:"location"`
	Explanation string `json:"explanation"`
	// Name and Email are empty for an anonymous notice of child sexual
	// abuse material, and for triage, who are not shown who notified
	// (IdentityWithheld).
	Name             string `json:"name,omitempty"`
	Email            string `json:"email,omitempty"`
	IdentityWithheld bool   `json:"identity_withheld,omitempty"`
	// Lang is the language the notifier's mail is written in.
	Lang       string    `json:"lang"`
	Country    string    `json:"country,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// Mail is what was mailed to the notifier: Kind "receipt", "decision"
	// or "reversal", State "pending", "sent" or "failed".
	Mail []struct {
		Kind     string    `json:"kind"`
		State    string    `json:"state"`
		Attempts int64     `json:"attempts"`
		Error    string    `json:"error,omitempty"`
		SentAt   time.Time `json:"sent_at,omitzero"`
	} `json:"mail"`
}

// LinkCase points the case of a notice whose location named nothing at
// what it is about: subject is "message:CHAT:SEQ", "chat:ID", "user:ID",
// "media:ID" or a link such as "https://HOST/chats/5". It returns the case
// that now holds the notice: another one if the subject had a case. A
// private chat between two people is refused (EForbidden, reason
// private_subject), and so is a private group, or a file posted only in
// private chats, for triage.
func (c *Client) LinkCase(ctx context.Context, caseID int64, subject string) (int64, error) {
	var out struct {
		CaseID int64 `json:"case_id"`
	}
	body := struct {
		Subject string `json:"subject"`
	}{subject}
	err := c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/subject", caseID), body, &out)
	return out.CaseID, err
}

// Case returns case id with its signals, history, actions and the content
// it is about. The server records the view in its audit log.
func (c *Client) Case(ctx context.Context, id int64) (CaseDetail, error) {
	var d CaseDetail
	err := c.do(ctx, http.MethodGet, c.url("/moderation/cases/*", id), nil, &d)
	return d, err
}

// AssignCase gives case caseID to a member of moderation staff, or with
// userID 0 to nobody.
func (c *Client) AssignCase(ctx context.Context, caseID, userID int64) error {
	body := struct {
		UserID int64 `json:"user_id"`
	}{userID}
	return c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/assign", caseID), body, nil)
}

// EscalateCase sends case caseID to senior review, with a note saying why
// (may be empty).
func (c *Client) EscalateCase(ctx context.Context, caseID int64, note string) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/escalate", caseID), noteBody{note}, nil)
}

// CommentCase adds an internal note to case caseID's history.
func (c *Client) CommentCase(ctx context.Context, caseID int64, note string) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/comments", caseID), noteBody{note}, nil)
}

// DismissCase resolves case caseID without action, saying why (moderators
// and admins only).
func (c *Client) DismissCase(ctx context.Context, caseID int64, reason string) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/dismiss", caseID), reasonBody{reason}, nil)
}

type noteBody struct {
	Note string `json:"note"`
}

type reasonBody struct {
	Reason string `json:"reason"`
}

// ActParams are a moderator's decision on a case. Kind is required, and
// Facts or Template.
type ActParams struct {
	Kind ActionKind `json:"kind"`
	// Label is, for ActionLabel, the warning readers see: "sensitive",
	// "graphic", "misleading" or "scam_risk".
	Label string `json:"label,omitempty"`
	// Category defaults to the case's.
	Category string `json:"category,omitempty"`
	// Ground is "terms" (the default) or "illegal", which needs
	// LegalReference naming the law.
	Ground         string `json:"ground,omitempty"`
	LegalReference string `json:"legal_reference,omitempty"`
	// Facts are what the decision rests on; the affected user reads them.
	// With a Template they are what the moderator adds after its text.
	Facts string `json:"facts,omitempty"`
	// Template names a reason template (such as "spam" or "hate") whose
	// text states the facts: the affected user reads it in their
	// language.
	Template string `json:"template,omitempty"`
	// Until ends a suspension; it must be zero for any other kind.
	Until time.Time `json:"until,omitzero"`
	// Countries are, for ActionRestrict, the countries (ISO 3166-1
	// alpha-2) and groups (EU, EEA) to withhold the subject in; none
	// withholds it wherever the country rules make Category illegal.
	Countries []string `json:"countries,omitempty"`
}

// Act decides case caseID by acting on its subject (moderators and admins
// only) and returns the decision. It takes effect for every reader at
// once: a removed message reads as deleted, a group or channel taken down
// (a message's chat, for a case about a message) answers every read with a
// kurir.EForbidden *Error with Reason "chat_unavailable", a label shows in
// Chat.Labels. The case is resolved, and the affected user finds the
// decision among their Statements.
func (c *Client) Act(ctx context.Context, caseID int64, p ActParams) (Action, error) {
	var a Action
	err := c.do(ctx, http.MethodPost, c.url("/moderation/cases/*/actions", caseID), p, &a)
	return a, err
}

// ReverseAction undoes decision actionID, saying why (moderators and admins
// only): the content or account is back at once.
func (c *Client) ReverseAction(ctx context.Context, actionID int64, reason string) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/actions/*/reverse", actionID), reasonBody{reason}, nil)
}

// Appeals returns the appeals in state ("pending", "upheld" or "rejected";
// "" for pending), as AppealQueue does.
func (c *Client) Appeals(ctx context.Context, state string) ([]Appeal, error) {
	return c.AppealQueue(ctx, AppealFilter{State: state})
}

// AppealFilter selects appeals for AppealQueue; the zero filter is every
// pending appeal.
type AppealFilter struct {
	State      string // "pending" (default), "upheld" or "rejected"
	AssigneeID int64  // only those assigned to this user
}

// AppealQueue returns appeals, pending ones due soonest (so the overdue)
// first and decided ones most recently decided first, each with the
// decision it is against or the dismissed case (moderation staff only).
func (c *Client) AppealQueue(ctx context.Context, f AppealFilter) ([]Appeal, error) {
	var q query
	if f.State != "" {
		q.add("state", f.State)
	}
	if f.AssigneeID != 0 {
		q.addInt("assignee", f.AssigneeID)
	}
	var out struct {
		Appeals []Appeal `json:"appeals"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/moderation/appeals")+string(q.b), nil, &out)
	return out.Appeals, err
}

// AssignAppeal gives pending appeal appealID to a moderator or admin to
// decide (0 unassigns it). Assigning it to whoever took the decision under
// review is a kurir.EInvalid *Error with Reason "own_decision".
func (c *Client) AssignAppeal(ctx context.Context, appealID, userID int64) error {
	return c.do(ctx, http.MethodPost, c.url("/moderation/appeals/*/assign", appealID), struct {
		UserID int64 `json:"user_id"`
	}{userID}, nil)
}

// Review is a notifier's or reporter's request for a review of a
// dismissal, as they follow it.
type Review struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
	// State is "pending", "upheld" (the case was reopened) or "rejected".
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	DueAt     time.Time `json:"due_at"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// RequestNoticeReview asks for a review of the dismissal of notice id,
// with the token from its receipt and, in text, why (EU DSA Art. 20). It
// needs no session token. A notice that was not dismissed is a
// kurir.EConflict *Error with Reason "not_dismissed".
func (c *Client) RequestNoticeReview(ctx context.Context, id int64, token, text string) (Review, error) {
	var r Review
	err := c.do(ctx, http.MethodPost, c.url("/notices/*/review", id), struct {
		Token string `json:"token"`
		Text  string `json:"text"`
	}{token, text}, &r)
	return r, err
}

// RequestReportReview asks for a review of the dismissal of the caller's
// report reportID, on the same terms as RequestNoticeReview.
func (c *Client) RequestReportReview(ctx context.Context, reportID int64, text string) (Review, error) {
	var r Review
	err := c.do(ctx, http.MethodPost, c.url("/reports/*/review", reportID), struct {
		Text string `json:"text"`
	}{text}, &r)
	return r, err
}

// DecideAppeal decides appeal appealID, with the reason its appellant
// reads, and returns it: uphold reverses the decision at once. Only
// moderators and admins other than the one who took the decision may: for
// that one it is a kurir.EForbidden *Error with Reason "own_decision".
func (c *Client) DecideAppeal(ctx context.Context, appealID int64, uphold bool, reason string) (Appeal, error) {
	body := struct {
		Uphold bool   `json:"uphold"`
		Reason string `json:"reason"`
	}{uphold, reason}
	var a Appeal
	err := c.do(ctx, http.MethodPost, c.url("/moderation/appeals/*/decision", appealID), body, &a)
	return a, err
}

// ReviewMedia opens the content of media object mediaID as case caseID
// shows it (the media of a message in the case's chat, removed or not) and
// returns it with its content type. The caller must close it; ctx bounds
// reading it. The server records each view in its audit log. A media
// object the case does not show is a kurir.ENotFound *Error.
func (c *Client) ReviewMedia(ctx context.Context, caseID, mediaID int64) (io.ReadCloser, string, error) {
	return c.open(ctx, c.url("/moderation/cases/*/media/*/content", caseID, mediaID))
}

// ReviewThumbnail is ReviewMedia for the JPEG thumbnail of a photo or
// video.
func (c *Client) ReviewThumbnail(ctx context.Context, caseID, mediaID int64) (io.ReadCloser, string, error) {
	return c.open(ctx, c.url("/moderation/cases/*/media/*/thumbnail", caseID, mediaID))
}

// open makes a GET request for content and returns its body, which the
// caller closes, and its Content-Type.
func (c *Client) open(ctx context.Context, target string) (io.ReadCloser, string, error) {
	if c.baseErr != nil {
		return nil, "", c.baseErr
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", fmt.Errorf("client: GET %s: %w", c.path(target), err)
	}
	req.Header["User-Agent"] = c.userAgent
	if c.auth != nil {
		req.Header["Authorization"] = c.auth
	}
	resp, err := c.transfer().Do(req)
	if err != nil {
		return nil, "", &netError{err}
	}
	if resp.StatusCode != http.StatusOK {
		if err := c.readResponse(req, resp, nil); err != nil {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("client: GET %s: status %d, want 200 with the content", c.path(target), resp.StatusCode)
	}
	return resp.Body, resp.Header.Get("Content-Type"), nil
}

// Flagger is a trusted flagger: the account of a registered organisation
// whose reports go ahead of the queue (EU DSA Art. 22).
type Flagger struct {
	UserID       int64     `json:"user_id"`
	Organisation string    `json:"organisation"`
	AddedAt      time.Time `json:"added_at"`
}

// Flaggers lists the trusted flaggers.
func (c *Client) Flaggers(ctx context.Context) ([]Flagger, error) {
	var out struct {
		Flaggers []Flagger `json:"flaggers"`
	}
	err := c.do(ctx, http.MethodGet, c.url("/moderation/flaggers"), nil, &out)
	return out.Flaggers, err
}

// AddFlagger makes account userID a trusted flagger for organisation, or
// changes its organisation (admins only).
func (c *Client) AddFlagger(ctx context.Context, userID int64, organisation string) error {
	body := struct {
		UserID       int64  `json:"user_id"`
		Organisation string `json:"organisation"`
	}{userID, organisation}
	return c.do(ctx, http.MethodPost, c.url("/moderation/flaggers"), body, nil)
}

// RemoveFlagger ends account userID's standing as a trusted flagger (admins
// only).
func (c *Client) RemoveFlagger(ctx context.Context, userID int64) error {
	return c.do(ctx, http.MethodDelete, c.url("/moderation/flaggers/*", userID), nil, nil)
}

// AccountReview is an account as a reviewer sees it (ReviewAccount).
type AccountReview struct {
	ID             int64     `json:"id"`
	Username       string    `json:"username"`
	DisplayName    string    `json:"display_name"`
	Role           string    `json:"role"`
	State          string    `json:"state"`
	StateReason    string    `json:"state_reason,omitempty"`
	SuspendedUntil time.Time `json:"suspended_until,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	// Actions are the decisions against the account or its content, newest first.
	Actions []Action `json:"actions"`
	// OpenCases counts the unresolved cases about the account itself.
	OpenCases int64 `json:"open_cases"`
	// Reports counts the reports it filed, ReportsActioned those that led
	// to action.
	Reports         int64 `json:"reports"`
	ReportsActioned int64 `json:"reports_actioned"`
}

// ReviewAccount returns account userID as a reviewer sees it (moderation
// staff only; the view is audited).
func (c *Client) ReviewAccount(ctx context.Context, userID int64) (AccountReview, error) {
	var a AccountReview
	err := c.do(ctx, http.MethodGet, c.url("/moderation/users/*", userID), nil, &a)
	return a, err
}
