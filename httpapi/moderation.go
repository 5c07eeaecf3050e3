package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"kurir"
	"kurir/media"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/openapi"
)

// staff is the moderation Staff the request acts as; moderation decides
// what each role may do.
func staff(r *http.Request) moderation.Staff {
	u := principal(r.Context()).User
	return moderation.Staff{ID: u.ID, Role: u.Role}
}

// language is the language a person reads statements in: ?lang= if given,
// else their browser's Accept-Language.
func language(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l != "" {
		return moderation.PickLanguage(l)
	}
	return moderation.PickLanguage(r.Header.Get("Accept-Language"))
}

type subjectView struct {
	Kind   string `json:"kind" jsonschema:"enum=message,enum=chat,enum=user,enum=media,enum=notice"`
	ChatID int64  `json:"chat_id,omitempty" jsonschema:"description=For a message or a chat."`
	Seq    int64  `json:"seq,omitempty" jsonschema:"description=For a message: its sequence number in the chat."`
	UserID int64  `json:"user_id,omitempty" jsonschema:"description=For a user."`
	Media  int64  `json:"media_id,omitempty" jsonschema:"description=For a file: one posted where the reporter can see it\\, or one automated detection found."`
	Notice int64  `json:"notice_id,omitempty" jsonschema:"description=For a notice whose location names nothing on the service."`
}

func newSubjectView(s moderation.Subject) subjectView {
	return subjectView{Kind: string(s.Kind), ChatID: int64(s.Chat), Seq: s.Seq, UserID: int64(s.User), Media: s.Media, Notice: s.Notice}
}

func (v subjectView) subject() (moderation.Subject, error) {
	s := moderation.Subject{Kind: moderation.SubjectKind(v.Kind), Chat: messaging.ChatID(v.ChatID), Seq: v.Seq, User: kurir.UserID(v.UserID), Media: v.Media}
	if v.Notice != 0 || v.Media != 0 && s.Kind != moderation.SubjectMedia {
		return s, kurir.Invalid("subject", "bad_subject", "Report a message, a chat, a user or a file: kind is message, chat, user or media.")
	}
	bad := func(msg string) error { return kurir.Invalid("subject", "bad_subject", "%s", msg) }
	switch s.Kind {
	case moderation.SubjectMessage:
		if s.Chat <= 0 || s.Seq <= 0 || s.User != 0 {
			return s, bad("A message is named by chat_id and seq.")
		}
	case moderation.SubjectChat:
		if s.Chat <= 0 || s.Seq != 0 || s.User != 0 {
			return s, bad("A chat is named by chat_id alone.")
		}
	case moderation.SubjectUser:
		if s.User <= 0 || s.Chat != 0 || s.Seq != 0 {
			return s, bad("A user is named by user_id alone.")
		}
	case moderation.SubjectMedia:
		if s.Media <= 0 || s.Chat != 0 || s.Seq != 0 || s.User != 0 {
			return s, bad("A file is named by media_id alone.")
		}
	default:
		return s, bad("Report a message, a chat, a user or a file: kind is message, chat, user or media.")
	}
	return s, nil
}

type reasonView struct {
	ID    string `json:"id"`
	Label string `json:"label" jsonschema:"description=In the language asked for."`
}

type reasonList struct {
	Reasons []reasonView `json:"reasons"`
}

func handleReportReasons() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := language(r)
		out := reasonList{Reasons: make([]reasonView, 0, len(moderation.Categories))}
		for _, c := range moderation.Categories {
			out.Reasons = append(out.Reasons, reasonView{ID: string(c), Label: c.Label(lang)})
		}
		w.Header().Set("Content-Language", lang)
		encode(w, http.StatusOK, out)
	})
}

type reportRequest struct {
	Subject subjectView `json:"subject"`
	Reason  string      `json:"reason" jsonschema:"description=One of the ids from GET /api/v1/report-reasons."`
	Comment string      `json:"comment,omitempty" jsonschema:"description=Anything the moderators should know (at most 2\\,000 characters)."`
}

type reportView struct {
	ID        int64         `json:"id"`
	CaseID    int64         `json:"case_id"`
	Subject   subjectView   `json:"subject"`
	Reason    string        `json:"reason"`
	Comment   string        `json:"comment,omitempty"`
	Evidence  *evidenceView `json:"evidence,omitempty" jsonschema:"description=What the server verified before filing the report: for a report of a secret-chat message\\, the message. No request sets it."`
	CreatedAt time.Time     `json:"created_at"`
	State     string        `json:"state" jsonschema:"enum=open,enum=escalated,enum=resolved"`
	Outcome   string        `json:"outcome,omitempty" jsonschema:"enum=actioned,enum=dismissed,description=Once resolved: whether action was taken."`
	Reversal  *reversalView `json:"reversal,omitempty" jsonschema:"description=Present once the action taken was reversed."`
	Review    *reviewView   `json:"review,omitempty" jsonschema:"description=Your request for a review of a dismissal (POST /api/v1/reports/{id}/review)\\, if you made one."`
}

// reversalView tells a reporter or notifier that the action their report
// or notice led to was reversed.
type reversalView struct {
	At       time.Time `json:"at"`
	ByAppeal bool      `json:"by_appeal" jsonschema:"description=Whether the affected user's appeal was upheld\\, rather than staff reversing it of their own accord."`
}

func newReversalView(rev moderation.Reversal, ok bool) *reversalView {
	if !ok {
		return nil
	}
	return &reversalView{At: rev.At, ByAppeal: rev.ByAppeal}
}

func newReportView(rep moderation.Report) reportView {
	return reportView{ID: rep.ID, CaseID: rep.CaseID, Subject: newSubjectView(rep.Subject), Reason: string(rep.Category),
		Comment: rep.Comment, Evidence: newEvidenceView(rep.Evidence), CreatedAt: rep.At, State: rep.State, Outcome: rep.Outcome}
}

// evidenceView is moderation.Evidence: what the server verified, as
// opposed to a comment, which is what someone says.
type evidenceView struct {
	Kind            string    `json:"kind" jsonschema:"enum=secret_franking,description=How it was verified. secret_franking: a secret-chat message's franking proof\\, revealed by its recipient\\, shows that the sender's device sent this text."`
	Text            string    `json:"text" jsonschema:"description=The content as it was sent (control characters replaced by U+FFFD)\\, at most 4\\,096 characters."`
	Omitted         int       `json:"omitted,omitempty" jsonschema:"description=Characters past 4\\,096 that text leaves out; only a client that breaks the message format sends them."`
	SenderID        int64     `json:"sender_id"`
	SenderDevice    int64     `json:"sender_device"`
	RecipientID     int64     `json:"recipient_id"`
	RecipientDevice int64     `json:"recipient_device"`
	SentAt          time.Time `json:"sent_at" jsonschema:"description=When the server relayed it."`
	EnvelopeID      string    `json:"envelope_id"`
}

func newEvidenceView(e *moderation.Evidence) *evidenceView {
	if e == nil {
		return nil
	}
	return &evidenceView{Kind: string(e.Kind), Text: e.Text, Omitted: e.Omitted, SenderID: int64(e.Sender), SenderDevice: e.SenderDevice,
		RecipientID: int64(e.Recipient), RecipientDevice: e.RecipientDevice, SentAt: e.SentAt, EnvelopeID: e.Envelope}
}

type reportList struct {
	Reports []reportView `json:"reports"`
}

func handleReport(mod *moderation.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[reportRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		subj, err := req.Subject.subject()
		if err != nil {
			writeError(w, r, err)
			return
		}
		// No Evidence: a user's words go in the comment, and only what the
		// server verified itself (a secret-chat report's franking proof)
		// is evidence.
		rep, err := mod.Report(r.Context(), principal(r.Context()).User.ID,
			moderation.ReportParams{Subject: subj, Category: moderation.Category(req.Reason), Comment: req.Comment, Lang: r.Header.Get("Accept-Language")})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newReportView(rep))
	})
}

func handleMyReports(mod *moderation.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := queryInt(r, "limit", 100)
		if err != nil {
			writeError(w, r, err)
			return
		}
		reps, err := mod.Reports(r.Context(), principal(r.Context()).User.ID, int(n))
		if err != nil {
			writeError(w, r, err)
			return
		}
		ids := make([]int64, len(reps))
		for i, rep := range reps {
			ids[i] = rep.CaseID
		}
		revs, err := mod.Reversals(r.Context(), ids)
		if err != nil {
			writeError(w, r, err)
			return
		}
		reviews, err := mod.ReportReviews(r.Context(), principal(r.Context()).User.ID, ids)
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := reportList{Reports: make([]reportView, 0, len(reps))}
		for _, rep := range reps {
			v := newReportView(rep)
			rev, ok := revs[rep.CaseID]
			v.Reversal = newReversalView(rev, ok)
			if p, ok := reviews[rep.CaseID]; ok {
				v.Review = newReviewView(&p)
			}
			out.Reports = append(out.Reports, v)
		}
		encode(w, http.StatusOK, out)
	})
}

type statementView struct {
	ID          int64       `json:"id" jsonschema:"description=The decision's ID; appeal it at /api/v1/statements/{id}/appeal."`
	Action      string      `json:"action" jsonschema:"enum=remove_message,enum=remove_media,enum=takedown,enum=restrict,enum=suspend,enum=ban,enum=label"`
	Subject     subjectView `json:"subject"`
	DecidedAt   time.Time   `json:"decided_at"`
	Lang        string      `json:"lang" jsonschema:"description=The language the text fields are written in."`
	Restriction string      `json:"restriction" jsonschema:"description=What was restricted."`
	Category    string      `json:"category"`
	Ground      string      `json:"ground" jsonschema:"description=The terms of service (with the clause) or the law the decision rests on."`
	GroundURL   string      `json:"ground_url,omitempty" jsonschema:"description=The clause of the terms of service the decision rests on\\, if the server has the terms' address."`
	Facts       string      `json:"facts" jsonschema:"description=The facts and circumstances: in the language asked for where a reason template or automated means stated them\\, with what the moderator typed as typed."`
	Scope       string      `json:"territorial_scope"`
	Duration    string      `json:"duration"`
	Automation  string      `json:"automation" jsonschema:"description=Whether automated means detected or decided it."`
	Redress     string      `json:"redress" jsonschema:"description=How to appeal\\, and the other ways to seek redress."`
	Until       *time.Time  `json:"until,omitempty" jsonschema:"description=When a suspension ends."`
	Reversed    string      `json:"reversed,omitempty" jsonschema:"description=Present once the decision was reversed."`
	AppealUntil time.Time   `json:"appeal_until"`
	CanAppeal   bool        `json:"can_appeal"`
	Appeal      *appealView `json:"appeal,omitempty"`
}

type appealView struct {
	ID         int64       `json:"id"`
	Kind       string      `json:"kind" jsonschema:"enum=decision,enum=dismissal,description=decision: the affected user appeals an action; dismissal: a notifier or reporter asks for a review of a dismissed case."`
	CaseID     int64       `json:"case_id"`
	NoticeID   int64       `json:"notice_id,omitempty" jsonschema:"description=For a notifier's request for review: their notice."`
	DueAt      time.Time   `json:"due_at" jsonschema:"description=When it is due to be decided."`
	Overdue    bool        `json:"overdue"`
	AssigneeID int64       `json:"assignee_id,omitempty" jsonschema:"description=Who is to decide it."`
	DeciderID  int64       `json:"decider_id,omitempty" jsonschema:"description=Who took the decision under review: they may not decide the appeal."`
	Case       *caseView   `json:"case,omitempty" jsonschema:"description=For a dismissal: the case as it is now."`
	ActionID   int64       `json:"action_id,omitempty"`
	UserID     int64       `json:"user_id,omitempty"`
	Text       string      `json:"text"`
	State      string      `json:"state" jsonschema:"enum=pending,enum=upheld,enum=rejected,description=upheld: the decision was reversed."`
	Status     string      `json:"status,omitempty" jsonschema:"description=The state in words\\, in the language asked for."`
	Reason     string      `json:"reason,omitempty" jsonschema:"description=Why it was decided so."`
	CreatedAt  time.Time   `json:"created_at"`
	DecidedAt  *time.Time  `json:"decided_at,omitempty"`
	DecidedBy  int64       `json:"decided_by,omitempty"`
	Action     *actionView `json:"decision,omitempty"`
}

func newAppealView(p moderation.Appeal, now time.Time) *appealView {
	v := &appealView{ID: p.ID, Kind: p.Kind, CaseID: p.CaseID, NoticeID: p.Notice, DueAt: p.Due, Overdue: p.Overdue(now),
		AssigneeID: int64(p.Assignee), DeciderID: int64(p.Decider), ActionID: p.ActionID, UserID: int64(p.User), Text: p.Text,
		State: p.State, Reason: p.Reason, CreatedAt: p.Created, DecidedBy: int64(p.DecidedBy)}
	if p.Case != nil {
		c := newCaseView(*p.Case, now)
		v.Case = &c
	}
	if !p.Decided.IsZero() {
		v.DecidedAt = &p.Decided
	}
	if p.Action.ID != 0 {
		a := newActionView(p.Action)
		v.Action = &a
	}
	return v
}

type statementList struct {
	Statements []statementView `json:"statements"`
}

func handleMyStatements(mod *moderation.Service, clock kurir.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading them is what clears the badge of news (unseenStatements).
		acts, appeals, err := mod.ReadStatements(r.Context(), principal(r.Context()).User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		lang := language(r)
		now := clock.Now()
		out := statementList{Statements: make([]statementView, 0, len(acts))}
		for _, a := range acts {
			var p *moderation.Appeal
			if ap, ok := appeals[a.ID]; ok {
				p = &ap
			}
			st := mod.Statement(a, p, lang)
			v := statementView{ID: a.ID, Action: string(a.Kind), Subject: newSubjectView(a.Subject), DecidedAt: a.At, Lang: st.Lang,
				Restriction: st.Restriction, Category: st.Category, Ground: st.Ground, GroundURL: st.GroundURL, Facts: st.Facts, Scope: st.Scope,
				Duration: st.Duration, Automation: st.Automation, Redress: st.Redress, Reversed: st.Reversed, AppealUntil: st.AppealUntil,
				CanAppeal: p == nil && a.Reversed.IsZero() && now.Before(st.AppealUntil)}
			if !a.Until.IsZero() {
				v.Until = &a.Until
			}
			if p != nil {
				v.Appeal = newAppealView(*p, now)
				v.Appeal.Status = st.AppealStatus
			}
			out.Statements = append(out.Statements, v)
		}
		w.Header().Set("Content-Language", lang)
		encode(w, http.StatusOK, out)
	})
}

type unseenView struct {
	Unseen int `json:"unseen" jsonschema:"description=Decisions about you taken or reversed since you last read your statements (GET /api/v1/statements)."`
}

func handleUnseenStatements(mod *moderation.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := mod.UnseenStatements(r.Context(), principal(r.Context()).User.ID)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, unseenView{Unseen: n})
	})
}

type appealRequest struct {
	Text string `json:"text" jsonschema:"description=Why the decision is wrong (at most 2\\,000 characters)."`
}

func handleFileAppeal(mod *moderation.Service, clock kurir.Clock, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "decision ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[appealRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := mod.FileAppeal(r.Context(), principal(r.Context()).User.ID, id, req.Text)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newAppealView(p, clock.Now()))
	})
}

type noticeRequest struct {
	Explanation string `json:"explanation" jsonschema:"description=Why the content is illegal (at most 5\\,000 characters)."`
	Location    string `json:"location" jsonschema:"description=Where it is: a link such as https://HOST/@channel/17\\, https://HOST/chats/5 (or /chats/5/17 for a message) or an invite link https://HOST/join/CODE\\; or @channel/17\\, @channel or @user."`
	Category    string `json:"category" jsonschema:"description=One of the ids from GET /api/v1/report-reasons."`
	Name        string `json:"name,omitempty" jsonschema:"description=Required except for notices of child sexual abuse material."`
	Email       string `json:"email,omitempty" jsonschema:"description=Required except for notices of child sexual abuse material."`
	GoodFaith   bool   `json:"good_faith" jsonschema:"description=You confirm you believe in good faith that the notice is accurate and complete."`
}

type noticeReceiptView struct {
	ID         int64     `json:"id"`
	Token      string    `json:"token" jsonschema:"description=Keep it: with it\\, and only with it\\, you can follow the notice to its decision."`
	ReceivedAt time.Time `json:"received_at"`
	StatusURL  string    `json:"status_url"`
}

type noticeStatusView struct {
	ID         int64         `json:"id"`
	ReceivedAt time.Time     `json:"received_at"`
	Location   string        `json:"location"`
	Category   string        `json:"category"`
	State      string        `json:"state" jsonschema:"enum=received,enum=decided"`
	Outcome    string        `json:"outcome,omitempty" jsonschema:"enum=actioned,enum=dismissed"`
	DecidedAt  *time.Time    `json:"decided_at,omitempty"`
	Action     string        `json:"action,omitempty" jsonschema:"description=What was done\\, if anything."`
	Automated  *bool         `json:"automated_decision,omitempty" jsonschema:"description=Whether the decision was taken by automated means."`
	AutoDetect *bool         `json:"automated_detection,omitempty"`
	Reversal   *reversalView `json:"reversal,omitempty" jsonschema:"description=Present once the action taken was reversed."`
	Review     *reviewView   `json:"review,omitempty" jsonschema:"description=Your request for a review of a dismissal\\, if you made one."`
}

// reviewView is a notifier's or reporter's request for review, as they
// follow it.
type reviewView struct {
	ID        int64      `json:"id"`
	Text      string     `json:"text"`
	State     string     `json:"state" jsonschema:"enum=pending,enum=upheld,enum=rejected,description=upheld: the case was reopened for action."`
	Reason    string     `json:"reason,omitempty" jsonschema:"description=Why it was decided so."`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     time.Time  `json:"due_at" jsonschema:"description=When it is due to be decided."`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

func newReviewView(p *moderation.Appeal) *reviewView {
	if p == nil {
		return nil
	}
	v := &reviewView{ID: p.ID, Text: p.Text, State: p.State, Reason: p.Reason, CreatedAt: p.Created, DueAt: p.Due}
	if !p.Decided.IsZero() {
		v.DecidedAt = &p.Decided
	}
	return v
}

type reviewRequest struct {
	Token string `json:"token,omitempty" jsonschema:"description=For a notice: the token from its receipt."`
	Text  string `json:"text" jsonschema:"description=Why the dismissal is wrong (at most 2\\,000 characters)."`
}

// handleDismissalReview files a request to review a dismissal, with fn.
func handleDismissalReview(limit int64, fn func(r *http.Request, id int64, req reviewRequest) (moderation.Appeal, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[reviewRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := fn(r, id, req)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newReviewView(&p))
	})
}

func handleSubmitNotice(mod *moderation.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[noticeRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		rec, err := mod.SubmitNotice(r.Context(), moderation.NoticeParams{Explanation: req.Explanation, Location: req.Location,
			Category: moderation.Category(req.Category), Name: req.Name, Email: req.Email, GoodFaith: req.GoodFaith, IP: clientIP(r),
			Lang: r.Header.Get("Accept-Language")})
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, noticeReceiptView{ID: rec.ID, Token: rec.Token, ReceivedAt: rec.Received,
			StatusURL: "/notices/status?id=" + strconv.FormatInt(rec.ID, 10) + "&token=" + rec.Token})
	})
}

func handleNoticeStatus(mod *moderation.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "notice ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		st, err := mod.Notice(r.Context(), id, r.URL.Query().Get("token"))
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := noticeStatusView{ID: st.ID, ReceivedAt: st.Received, Location: st.Location, Category: string(st.Category), State: st.State, Outcome: st.Outcome,
			Review: newReviewView(st.Review)}
		if !st.Decided.IsZero() {
			v.DecidedAt = &st.Decided
		}
		if a := st.Action; a != nil {
			v.Action = string(a.Kind)
			v.Automated, v.AutoDetect = &a.AutomatedDecision, &a.AutomatedDetection
			if !a.Reversed.IsZero() {
				revs, err := mod.Reversals(r.Context(), []int64{a.CaseID})
				if err != nil {
					writeError(w, r, err)
					return
				}
				rev, ok := revs[a.CaseID]
				v.Reversal = newReversalView(rev, ok)
			}
		}
		encode(w, http.StatusOK, v)
	})
}

// The console's side.

type caseView struct {
	ID          int64       `json:"id"`
	Subject     subjectView `json:"subject"`
	Category    string      `json:"category"`
	Priority    int64       `json:"priority" jsonschema:"description=0 to 100; the queue is ordered by it."`
	State       string      `json:"state" jsonschema:"enum=open,enum=escalated,enum=resolved"`
	AssigneeID  int64       `json:"assignee_id,omitempty"`
	Reach       int64       `json:"reach" jsonschema:"description=Members or subscribers who could see the subject."`
	SignalCount int64       `json:"signal_count"`
	Sources     []string    `json:"sources"`
	DueAt       time.Time   `json:"due_at" jsonschema:"description=When the category's SLA runs out."`
	Overdue     bool        `json:"overdue"`
	OpenedAt    time.Time   `json:"opened_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	ResolvedAt  *time.Time  `json:"resolved_at,omitempty"`
	Outcome     string      `json:"outcome,omitempty" jsonschema:"enum=actioned,enum=dismissed,enum=merged,description=Once resolved. merged: a notice's case that staff linked to a subject with a case of its own\\, which now holds its signals."`
	Lang        string      `json:"lang,omitempty" jsonschema:"description=The language of whoever signalled it first (from Accept-Language\\, such as de)."`
	Country     string      `json:"country,omitempty" jsonschema:"description=Where whoever signalled it first was: ISO 3166-1 alpha-2."`
}

func newCaseView(c moderation.Case, now time.Time) caseView {
	v := caseView{ID: c.ID, Subject: newSubjectView(c.Subject), Category: string(c.Category), Priority: c.Priority, State: c.State,
		AssigneeID: int64(c.Assignee), Reach: c.Reach, SignalCount: c.SignalCount, Sources: []string{}, DueAt: c.Due,
		Overdue: c.Overdue(now), OpenedAt: c.Opened, UpdatedAt: c.Updated, Outcome: c.Outcome, Lang: c.Lang, Country: c.Country}
	for _, s := range c.Sources {
		v.Sources = append(v.Sources, string(s))
	}
	if !c.Resolved.IsZero() {
		v.ResolvedAt = &c.Resolved
	}
	return v
}

type caseList struct {
	Cases []caseView `json:"cases"`
}

type signalView struct {
	ID         int64         `json:"id"`
	Source     string        `json:"source"`
	Category   string        `json:"category"`
	ReporterID int64         `json:"reporter_id,omitempty"`
	NoticeID   int64         `json:"notice_id,omitempty"`
	Comment    string        `json:"comment,omitempty" jsonschema:"description=What the reporter or notifier wrote; nobody checked it."`
	Detail     string        `json:"detail,omitempty" jsonschema:"description=The evidence as it was when signalled."`
	Evidence   *evidenceView `json:"evidence,omitempty" jsonschema:"description=What the server verified before filing the signal\\, apart from the comment\\, which anyone can write."`
	Weight     float64       `json:"weight" jsonschema:"description=How much it counts: the reporter's track record."`
	CreatedAt  time.Time     `json:"created_at"`
}

type caseEventView struct {
	ActorID int64     `json:"actor_id,omitempty"`
	Kind    string    `json:"kind"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at"`
}

type actionView struct {
	ID                 int64       `json:"id"`
	CaseID             int64       `json:"case_id"`
	Kind               string      `json:"kind" jsonschema:"enum=remove_message,enum=remove_media,enum=takedown,enum=restrict,enum=suspend,enum=ban,enum=label"`
	Label              string      `json:"label,omitempty"`
	Subject            subjectView `json:"subject"`
	AffectedID         int64       `json:"affected_id"`
	Category           string      `json:"category"`
	Ground             string      `json:"ground" jsonschema:"enum=terms,enum=illegal"`
	LegalReference     string      `json:"legal_reference,omitempty"`
	Facts              string      `json:"facts"`
	ContentType        string      `json:"content_type"`
	Excerpt            string      `json:"excerpt,omitempty"`
	Source             string      `json:"source"`
	AutomatedDetection bool        `json:"automated_detection"`
	AutomatedDecision  bool        `json:"automated_decision"`
	Until              *time.Time  `json:"until,omitempty"`
	ModeratorID        int64       `json:"moderator_id"`
	CreatedAt          time.Time   `json:"created_at"`
	ReversedAt         *time.Time  `json:"reversed_at,omitempty"`
	ReversedBy         int64       `json:"reversed_by,omitempty"`
	ReversalReason     string      `json:"reversal_reason,omitempty"`
	Territory          []string    `json:"territory,omitempty" jsonschema:"description=For restrict: the countries and groups it applies in; empty: wherever the country rules make the category illegal. Every other action applies worldwide."`
}

func newActionView(a moderation.Action) actionView {
	v := actionView{ID: a.ID, CaseID: a.CaseID, Kind: string(a.Kind), Label: a.Label, Subject: newSubjectView(a.Subject), AffectedID: int64(a.Affected),
		Category: string(a.Category), Ground: string(a.Ground), LegalReference: a.LegalReference, Facts: a.Facts, ContentType: a.ContentType,
		Excerpt: a.Excerpt, Source: string(a.Source), AutomatedDetection: a.AutomatedDetection, AutomatedDecision: a.AutomatedDecision,
		ModeratorID: int64(a.Moderator), CreatedAt: a.At, ReversedBy: int64(a.ReversedBy), ReversalReason: a.ReversalReason,
		Territory: a.Territory}
	if !a.Until.IsZero() {
		v.Until = &a.Until
	}
	if !a.Reversed.IsZero() {
		v.ReversedAt = &a.Reversed
	}
	return v
}

type reviewedMessageView struct {
	messageView
	Removed       *time.Time `json:"removed_at,omitempty" jsonschema:"description=Set if moderation removed it; the text is shown to reviewers only."`
	RemovalReason string     `json:"removal_reason,omitempty"`
	Held          bool       `json:"held,omitempty" jsonschema:"description=Held for review when sent: nobody has seen it. Dismissing the case releases it."`
}

type reviewedChatView struct {
	chatView
	OwnerID     int64      `json:"owner_id"`
	TakenDownAt *time.Time `json:"taken_down_at,omitempty"`
}

type caseDetailView struct {
	caseView
	Signals      []signalView          `json:"signals"`
	History      []caseEventView       `json:"history"`
	Actions      []actionView          `json:"actions"`
	Messages     []reviewedMessageView `json:"messages" jsonschema:"description=The reported message with those around it\\, or a chat's latest."`
	Chat         *reviewedChatView     `json:"chat,omitempty"`
	MediaOwnerID int64                 `json:"media_owner_id,omitempty" jsonschema:"description=Who uploaded the file of a media case."`
	Media        *mediaView            `json:"media,omitempty" jsonschema:"description=The file of a media case\\, or of a reported message that carries one (remove_media removes it everywhere); status held means only its owner has it\\, and dismissing the case releases it."`
	Notices      []noticeRecordView    `json:"notices" jsonschema:"description=The notices filed into the case\\, whole."`
}

// noticeRecordView is a notice as reviewers see it.
type noticeRecordView struct {
	ID               int64            `json:"id"`
	Category         string           `json:"category"`
	Location         string           `json:"location" jsonschema:"description=As the notifier gave it."`
	Explanation      string           `json:"explanation" jsonschema:"description=All of it."`
	Name             string           `json:"name,omitempty"`
	Email            string           `json:"email,omitempty" jsonschema:"description=Empty for an anonymous notice of child sexual abuse material\\, once erased\\, or if identity_withheld."`
	IdentityWithheld bool             `json:"identity_withheld,omitempty" jsonschema:"description=Set when the notifier's name and e-mail address are withheld from the caller: only staff who may act see them."`
	Lang             string           `json:"lang" jsonschema:"description=The language the notifier's mail is written in."`
	Country          string           `json:"country,omitempty"`
	ReceivedAt       time.Time        `json:"received_at"`
	ErasedAt         *time.Time       `json:"erased_at,omitempty" jsonschema:"description=When the notifier's name and e-mail address were erased\\, once the retention period ran out."`
	Mail             []noticeMailView `json:"mail" jsonschema:"description=The receipt\\, decision and reversal mailed to the notifier."`
}

type noticeMailView struct {
	Kind     string     `json:"kind" jsonschema:"enum=receipt,enum=decision,enum=reversal"`
	State    string     `json:"state" jsonschema:"enum=pending,enum=sent,enum=failed"`
	Attempts int64      `json:"attempts"`
	Error    string     `json:"error,omitempty" jsonschema:"description=Why the last attempt failed."`
	SentAt   *time.Time `json:"sent_at,omitempty"`
}

func newNoticeRecordView(n moderation.NoticeRecord) noticeRecordView {
	v := noticeRecordView{ID: n.ID, Category: string(n.Category), Location: n.Location, Explanation: n.Explanation, Name: n.Name,
		Email: n.Email, IdentityWithheld: n.Withheld, Lang: n.Lang, Country: n.Country, ReceivedAt: n.Received, Mail: []noticeMailView{}}
	if !n.Erased.IsZero() {
		v.ErasedAt = &n.Erased
	}
	for _, m := range n.Mail {
		mv := noticeMailView{Kind: m.Kind, State: m.State, Attempts: m.Attempts, Error: m.Error}
		if !m.Sent.IsZero() {
			mv.SentAt = &m.Sent
		}
		v.Mail = append(v.Mail, mv)
	}
	return v
}

func handleQueue(mod *moderation.Service, clock kurir.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := queryParams{r: r}
		assignee, n, offset := q.int("assignee", 0), q.int("limit", 50), q.int("offset", 0)
		if q.err != nil {
			writeError(w, r, q.err)
			return
		}
		v := r.URL.Query()
		cases, err := mod.Queue(r.Context(), staff(r), moderation.QueueFilter{State: v.Get("state"), Category: moderation.Category(v.Get("category")),
			Source: moderation.Source(v.Get("source")), Assignee: kurir.UserID(assignee), Lang: v.Get("lang"), Country: v.Get("country"),
			Limit: int(n), Offset: int(offset)})
		if err != nil {
			writeError(w, r, err)
			return
		}
		now := clock.Now()
		out := caseList{Cases: make([]caseView, 0, len(cases))}
		for _, c := range cases {
			out.Cases = append(out.Cases, newCaseView(c, now))
		}
		encode(w, http.StatusOK, out)
	})
}

func handleCase(mod *moderation.Service, clock kurir.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "case ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		d, err := mod.Case(r.Context(), staff(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		v := caseDetailView{caseView: newCaseView(d.Case, clock.Now()), Signals: []signalView{}, History: []caseEventView{},
			Actions: []actionView{}, Messages: []reviewedMessageView{}, Notices: []noticeRecordView{}}
		for _, n := range d.Notices {
			v.Notices = append(v.Notices, newNoticeRecordView(n))
		}
		for _, g := range d.Signals {
			v.Signals = append(v.Signals, signalView{ID: g.ID, Source: string(g.Source), Category: string(g.Category), ReporterID: int64(g.Reporter),
				NoticeID: g.Notice, Comment: g.Comment, Detail: g.Detail, Evidence: newEvidenceView(g.Evidence), Weight: g.Weight, CreatedAt: g.At})
		}
		for _, e := range d.History {
			v.History = append(v.History, caseEventView{ActorID: int64(e.Actor), Kind: e.Kind, Note: e.Note, At: e.At})
		}
		for _, a := range d.Actions {
			v.Actions = append(v.Actions, newActionView(a))
		}
		for _, m := range d.Messages {
			rm := reviewedMessageView{messageView: newMessageView(m.Message), RemovalReason: m.Reason, Held: m.Held}
			if !m.Removed.IsZero() {
				rm.Removed = &m.Removed
			}
			v.Messages = append(v.Messages, rm)
		}
		if m := d.Media; m != nil {
			mv := newMediaView(*m)
			v.Media, v.MediaOwnerID = &mv, int64(m.OwnerID)
		}
		if c := d.Chat; c != nil {
			v.Chat = &reviewedChatView{chatView: newChatView(c.Chat), OwnerID: int64(c.Owner)}
			if !c.TakenDown.IsZero() {
				v.Chat.TakenDownAt = &c.TakenDown
			}
		}
		encode(w, http.StatusOK, v)
	})
}

type assignRequest struct {
	UserID int64 `json:"user_id" jsonschema:"description=A member of moderation staff\\, or 0 to unassign."`
}

type noteRequest struct {
	Note string `json:"note"`
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

type linkRequest struct {
	Subject string `json:"subject" jsonschema:"description=message:CHAT:SEQ\\, chat:ID\\, user:ID\\, media:ID\\, or a link such as https://HOST/chats/5/17."`
}

type linkView struct {
	CaseID int64 `json:"case_id"`
}

// caseStep answers a console step on case {id} with 204.
func caseStep[T any](limit int64, fn func(r *http.Request, id int64, req T) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[T](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, fn(r, id, req))
	})
}

type actRequest struct {
	Kind           string     `json:"kind" jsonschema:"enum=remove_message,enum=remove_media,enum=takedown,enum=restrict,enum=suspend,enum=ban,enum=label"`
	Label          string     `json:"label,omitempty" jsonschema:"enum=sensitive,enum=graphic,enum=misleading,enum=scam_risk,description=For a label action: the warning readers of the group or channel see."`
	Category       string     `json:"category,omitempty" jsonschema:"description=Defaults to the case's."`
	Ground         string     `json:"ground,omitempty" jsonschema:"enum=terms,enum=illegal,description=Defaults to terms."`
	LegalReference string     `json:"legal_reference,omitempty" jsonschema:"description=The law\\, required with ground illegal."`
	Facts          string     `json:"facts,omitempty" jsonschema:"description=The facts the decision rests on; the affected user reads them. Required without a template; with one\\, what you add after its text."`
	Template       string     `json:"template,omitempty" jsonschema:"description=A reason template (such as hate or spam) whose text states the facts: the affected user reads it in their language."`
	Until          *time.Time `json:"until,omitempty" jsonschema:"description=When a suspension ends."`
	Countries      []string   `json:"countries,omitempty" jsonschema:"description=For restrict: the countries (ISO 3166-1 alpha-2) and groups (EU\\, EEA) to withhold the message or chat in. Leave out to withhold it wherever the country rules make the category illegal."`
	Bank           string     `json:"bank,omitempty" jsonschema:"description=For remove_media: a hash bank to add the file's SHA-256 and PDQ hash to\\, so that copies uploaded later are caught."`
}

func handleAct(mod *moderation.Service, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "case ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[actRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := moderation.ActParams{Kind: moderation.ActionKind(req.Kind), Label: req.Label, Category: moderation.Category(req.Category),
			Ground: moderation.Ground(req.Ground), LegalReference: req.LegalReference, Facts: req.Facts, Countries: req.Countries,
			Template: req.Template, Bank: req.Bank}
		if req.Until != nil {
			p.Until = *req.Until
		}
		a, err := mod.Act(r.Context(), staff(r), id, p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, newActionView(a))
	})
}

type appealList struct {
	Appeals []*appealView `json:"appeals"`
}

func handleAppeals(mod *moderation.Service, clock kurir.Clock) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := queryInt(r, "limit", 100)
		if err != nil {
			writeError(w, r, err)
			return
		}
		assignee, err := queryInt(r, "assignee", 0)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ps, err := mod.AppealQueue(r.Context(), staff(r), moderation.AppealFilter{State: r.URL.Query().Get("state"), Assignee: kurir.UserID(assignee), Limit: int(n)})
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := appealList{Appeals: make([]*appealView, 0, len(ps))}
		for _, p := range ps {
			out.Appeals = append(out.Appeals, newAppealView(p, clock.Now()))
		}
		encode(w, http.StatusOK, out)
	})
}

type decisionRequest struct {
	Uphold bool   `json:"uphold" jsonschema:"description=true: the decision was wrong and is reversed at once."`
	Reason string `json:"reason" jsonschema:"description=Why\\, for the person who appealed."`
}

func handleDecideAppeal(mod *moderation.Service, clock kurir.Clock, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "appeal ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[decisionRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, err := mod.DecideAppeal(r.Context(), staff(r), id, req.Uphold, req.Reason)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, newAppealView(p, clock.Now()))
	})
}

func handleReviewMedia(mod *moderation.Service, med *media.Service, thumb bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "case ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		mid, err := pathInt(r, "media_id", "media ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := mod.ReviewMedia(r.Context(), staff(r), id, mid); err != nil {
			writeError(w, r, err)
			return
		}
		m, obj, err := med.OpenForReview(r.Context(), media.ID(mid), thumb)
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer obj.Close()
		serveMedia(w, r, m, obj, thumb)
	})
}

type accountReviewView struct {
	ID              int64        `json:"id"`
	Username        string       `json:"username"`
	DisplayName     string       `json:"display_name"`
	Role            string       `json:"role"`
	State           string       `json:"state" jsonschema:"enum=active,enum=suspended,enum=banned"`
	StateReason     string       `json:"state_reason,omitempty"`
	SuspendedUntil  *time.Time   `json:"suspended_until,omitempty"`
	CreatedAt       time.Time    `json:"created_at"`
	Actions         []actionView `json:"actions" jsonschema:"description=Decisions against the account or its content\\, newest first."`
	OpenCases       int64        `json:"open_cases" jsonschema:"description=Unresolved cases about the account itself."`
	Reports         int64        `json:"reports" jsonschema:"description=Reports it filed."`
	ReportsActioned int64        `json:"reports_actioned" jsonschema:"description=Of those\\, how many led to action: its record as a reporter."`
}

func handleReviewAccount(mod *moderation.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		a, err := mod.Account(r.Context(), staff(r), kurir.UserID(id))
		if err != nil {
			writeError(w, r, err)
			return
		}
		u := a.User
		v := accountReviewView{ID: int64(u.ID), Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role), State: string(u.State),
			StateReason: u.StateReason, CreatedAt: u.CreatedAt, Actions: []actionView{}, OpenCases: a.OpenCases, Reports: a.Reports,
			ReportsActioned: a.ReportsActioned}
		if !u.SuspendedUntil.IsZero() {
			v.SuspendedUntil = &u.SuspendedUntil
		}
		for _, x := range a.Actions {
			v.Actions = append(v.Actions, newActionView(x))
		}
		encode(w, http.StatusOK, v)
	})
}

type flaggerRequest struct {
	UserID       int64  `json:"user_id"`
	Organisation string `json:"organisation"`
}

type flaggerView struct {
	UserID       int64     `json:"user_id"`
	Organisation string    `json:"organisation"`
	AddedAt      time.Time `json:"added_at"`
}

type flaggerList struct {
	Flaggers []flaggerView `json:"flaggers"`
}

func handleFlaggers(mod *moderation.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs, err := mod.Flaggers(r.Context(), staff(r))
		if err != nil {
			writeError(w, r, err)
			return
		}
		out := flaggerList{Flaggers: make([]flaggerView, 0, len(fs))}
		for _, f := range fs {
			out.Flaggers = append(out.Flaggers, flaggerView{UserID: int64(f.User), Organisation: f.Organisation, AddedAt: f.AddedAt})
		}
		encode(w, http.StatusOK, out)
	})
}

func addModerationRoutes(rt *router, mod *moderation.Service, med *media.Service, clock kurir.Clock, limit int64) {
	done := map[int]openapi.Response{204: {Description: "Done."}}
	idParam := func(what string) openapi.Param {
		return openapi.Param{Name: "id", In: "path", Description: "The " + what + "'s ID.", Schema: int64(0)}
	}
	langParam := openapi.Param{Name: "lang", In: "query", Description: "Language (en, id, ru or ar); default from Accept-Language.", Schema: ""}
	tags := []string{"reports"}
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/report-reasons", ID: "reportReasons", Tags: tags,
		Summary: "The reasons a report or notice can give, labelled in your language",
		Params:  []openapi.Param{langParam}, Responses: map[int]openapi.Response{200: {Body: reasonList{}}},
	}, handleReportReasons())
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/reports", ID: "report", Tags: tags, Auth: true,
		Summary:     "Report a message, a group or channel, or a user",
		Description: "You can report only what you can see, once per subject while its case is open. Reports from trusted flaggers go ahead of the queue.",
		Request:     reportRequest{}, Responses: map[int]openapi.Response{201: {Description: "The report, with its case.", Body: reportView{}}},
	}, handleReport(mod, limit))
	rt.handleRestricted(openapi.Operation{Method: "GET", Path: "/api/v1/reports", ID: "myReports", Tags: tags, Auth: true,
		Summary: "Your reports and how they were decided", Params: []openapi.Param{limitParam},
		Responses: map[int]openapi.Response{200: {Body: reportList{}}},
	}, handleMyReports(mod))
	rt.handleRestricted(openapi.Operation{Method: "GET", Path: "/api/v1/statements", ID: "myStatements", Tags: tags, Auth: true,
		Summary:     "Statements of reasons: decisions against your content or account",
		Description: "Each says what was restricted, where and for how long, on what facts and ground, whether automation was used, and how to appeal (EU DSA Art. 17).",
		Params:      []openapi.Param{langParam}, Responses: map[int]openapi.Response{200: {Body: statementList{}}},
	}, handleMyStatements(mod, clock))
	rt.handleRestricted(openapi.Operation{Method: "GET", Path: "/api/v1/statements/unseen", ID: "unseenStatements", Tags: tags, Auth: true,
		Summary:     "How many decisions about you are news",
		Description: "Decisions against your content or account taken or reversed since you last read your statements; reading them (GET /api/v1/statements) clears the count on every device. A live stream hears {\"type\":\"decision\"} when it changes.",
		Responses:   map[int]openapi.Response{200: {Body: unseenView{}}},
	}, handleUnseenStatements(mod))
	rt.handleRestricted(openapi.Operation{Method: "POST", Path: "/api/v1/statements/{id}/appeal", ID: "appeal", Tags: tags, Auth: true,
		Summary:     "Appeal a decision against your content or account",
		Description: "Open for six months after the decision, once per decision. A person other than the one who decided reviews it; if upheld the decision is reversed at once.",
		Params:      []openapi.Param{idParam("decision")}, Request: appealRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The appeal.", Body: appealView{}}},
	}, handleFileAppeal(mod, clock, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/notices", ID: "submitNotice", Tags: tags,
		Summary:     "Notify illegal content, without an account (EU DSA Art. 16)",
		Description: "Name and email are required except for notices of child sexual abuse material. The receipt's token lets you follow the notice to its decision.",
		Request:     noticeRequest{}, Responses: map[int]openapi.Response{201: {Description: "The receipt.", Body: noticeReceiptView{}}},
	}, handleSubmitNotice(mod, limit))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/notices/{id}", ID: "noticeStatus", Tags: tags,
		Summary: "Follow a notice to its decision",
		Params: []openapi.Param{idParam("notice"),
			{Name: "token", In: "query", Description: "The token from the receipt.", Schema: ""}},
		Responses: map[int]openapi.Response{200: {Body: noticeStatusView{}}},
	}, handleNoticeStatus(mod))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/notices/{id}/review", ID: "reviewNotice", Tags: tags,
		Summary: "Ask for a review of the dismissal of your notice (EU DSA Art. 20)",
		Description: "Open for six months after the dismissal, once per notice; due within the configured time. " +
			"A person other than the one who dismissed it decides; if upheld, the case is reopened.",
		Params: []openapi.Param{idParam("notice")}, Request: reviewRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The request.", Body: reviewView{}}},
	}, handleDismissalReview(limit, func(r *http.Request, id int64, req reviewRequest) (moderation.Appeal, error) {
		return mod.RequestNoticeReview(r.Context(), id, req.Token, req.Text)
	}))
	rt.handleRestricted(openapi.Operation{Method: "POST", Path: "/api/v1/reports/{id}/review", ID: "reviewReport", Tags: tags, Auth: true,
		Summary:     "Ask for a review of the dismissal of your report (EU DSA Art. 20)",
		Description: "On the same terms as a notice's review.",
		Params:      []openapi.Param{idParam("report")}, Request: reviewRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The request.", Body: reviewView{}}},
	}, handleDismissalReview(limit, func(r *http.Request, id int64, req reviewRequest) (moderation.Appeal, error) {
		return mod.RequestReportReview(r.Context(), principal(r.Context()).User.ID, id, req.Text)
	}))

	tags = []string{"moderation"}
	staffOnly := " For moderation staff: triage, moderators and admins."
	filters := []openapi.Param{
		{Name: "state", In: "query", Description: "open, escalated or resolved; default open and escalated.", Schema: ""},
		{Name: "category", In: "query", Description: "Only this category.", Schema: ""},
		{Name: "source", In: "query", Description: "Only cases with a signal from this source.", Schema: ""},
		{Name: "assignee", In: "query", Description: "Only cases assigned to this user.", Schema: int64(0)},
		{Name: "lang", In: "query", Description: "Only cases first signalled by someone reading this language, such as de.", Schema: ""},
		{Name: "country", In: "query", Description: "Only cases first signalled from this country (ISO 3166-1 alpha-2).", Schema: ""},
		limitParam, {Name: "offset", In: "query", Description: "Skip this many.", Schema: int64(0)},
	}
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/cases", ID: "queue", Tags: tags, Auth: true,
		Summary: "The review queue, highest priority first", Description: staffOnly, Params: filters,
		Responses: map[int]openapi.Response{200: {Body: caseList{}}},
	}, handleQueue(mod, clock))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/cases/{id}", ID: "getCase", Tags: tags, Auth: true,
		Summary: "A case with its signals, history, actions and the context of what was reported", Description: staffOnly + " The view is audited.",
		Params: []openapi.Param{idParam("case")}, Responses: map[int]openapi.Response{200: {Body: caseDetailView{}}},
	}, handleCase(mod, clock))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/assign", ID: "assignCase", Tags: tags, Auth: true,
		Summary: "Assign a case", Description: staffOnly, Params: []openapi.Param{idParam("case")}, Request: assignRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req assignRequest) error {
		return mod.Assign(r.Context(), staff(r), id, kurir.UserID(req.UserID))
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/escalate", ID: "escalateCase", Tags: tags, Auth: true,
		Summary: "Escalate a case to senior review", Description: staffOnly, Params: []openapi.Param{idParam("case")}, Request: noteRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req noteRequest) error {
		return mod.Escalate(r.Context(), staff(r), id, req.Note)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/comments", ID: "commentCase", Tags: tags, Auth: true,
		Summary: "Add an internal note to a case", Description: staffOnly, Params: []openapi.Param{idParam("case")}, Request: noteRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req noteRequest) error {
		return mod.Comment(r.Context(), staff(r), id, req.Note)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/subject", ID: "linkCase", Tags: tags, Auth: true,
		Summary: "Point a notice's case at what it is about",
		Description: staffOnly + " For a notice whose location named nothing a visitor could see: subject is message:CHAT:SEQ, chat:ID, user:ID, media:ID " +
			"or a link (https://HOST/chats/5/17, /join/CODE, @name/17), looked up as staff see the service. If the subject has a case already, " +
			"the notice joins it and its own case is resolved as merged.",
		Params: []openapi.Param{idParam("case")}, Request: linkRequest{},
		Responses: map[int]openapi.Response{200: {Description: "The case that now holds the notice.", Body: linkView{}}},
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "case ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, err := decode[linkRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		into, err := mod.LinkCase(r.Context(), staff(r), id, req.Subject)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, linkView{CaseID: into})
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/dismiss", ID: "dismissCase", Tags: tags, Auth: true,
		Summary: "Resolve a case without action", Description: "For moderators and admins.", Params: []openapi.Param{idParam("case")},
		Request: reasonRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req reasonRequest) error {
		return mod.Dismiss(r.Context(), staff(r), id, req.Reason)
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/cases/{id}/actions", ID: "act", Tags: tags, Auth: true,
		Summary:     "Act on a case: remove the message, take the chat down, suspend or ban the account",
		Description: "For moderators and admins. Takes effect for every reader at once and resolves the case; the affected user receives a statement of reasons.",
		Params:      []openapi.Param{idParam("case")}, Request: actRequest{},
		Responses: map[int]openapi.Response{201: {Description: "The action.", Body: actionView{}}},
	}, handleAct(mod, limit))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/actions/{id}/reverse", ID: "reverseAction", Tags: tags, Auth: true,
		Summary: "Reverse an action", Description: "For moderators and admins. The content or account is back at once.",
		Params: []openapi.Param{idParam("action")}, Request: reasonRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req reasonRequest) error {
		return mod.Reverse(r.Context(), staff(r), id, req.Reason)
	}))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/appeals", ID: "appeals", Tags: tags, Auth: true,
		Summary:     "The appeal queue: pending appeals due soonest (so the overdue) first; decided ones most recent first",
		Description: "Appeals against decisions, and notifiers' and reporters' requests to review a dismissal." + staffOnly,
		Params: []openapi.Param{{Name: "state", In: "query", Description: "pending (default), upheld or rejected.", Schema: ""},
			{Name: "assignee", In: "query", Description: "Only appeals assigned to this user.", Schema: int64(0)}, limitParam},
		Responses: map[int]openapi.Response{200: {Body: appealList{}}},
	}, handleAppeals(mod, clock))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/appeals/{id}/assign", ID: "assignAppeal", Tags: tags, Auth: true,
		Summary:     "Assign an appeal to a moderator or admin to decide",
		Description: "Never to whoever took the decision under review, nor to whoever appealed; user_id 0 unassigns it." + staffOnly,
		Params:      []openapi.Param{idParam("appeal")}, Request: assignRequest{}, Responses: done,
	}, caseStep(limit, func(r *http.Request, id int64, req assignRequest) error {
		return mod.AssignAppeal(r.Context(), staff(r), id, kurir.UserID(req.UserID))
	}))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/appeals/{id}/decision", ID: "decideAppeal", Tags: tags, Auth: true,
		Summary: "Decide an appeal",
		Description: "For moderators and admins other than the one who took the decision. Upholding an appeal against an action reverses it at once; " +
			"upholding a request to review a dismissal reopens the case.",
		Params: []openapi.Param{idParam("appeal")}, Request: decisionRequest{},
		Responses: map[int]openapi.Response{200: {Body: appealView{}}},
	}, handleDecideAppeal(mod, clock, limit))
	mediaParams := []openapi.Param{idParam("case"), {Name: "media_id", In: "path", Description: "The media object's ID.", Schema: int64(0)}}
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/cases/{id}/media/{media_id}/content", ID: "reviewMedia", Tags: tags, Auth: true,
		Summary: "A photo, video or file shown in a case", Description: staffOnly + " Each view is audited.", Params: mediaParams,
		Responses: map[int]openapi.Response{200: {Description: "The content.", ContentType: "*/*"}},
	}, handleReviewMedia(mod, med, false))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/cases/{id}/media/{media_id}/thumbnail", ID: "reviewThumbnail", Tags: tags, Auth: true,
		Summary: "The thumbnail of a photo or video shown in a case", Description: staffOnly + " Each view is audited.", Params: mediaParams,
		Responses: map[int]openapi.Response{200: {Description: "A JPEG thumbnail.", ContentType: "image/jpeg"}},
	}, handleReviewMedia(mod, med, true))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/users/{id}", ID: "reviewAccount", Tags: tags, Auth: true,
		Summary: "An account as a reviewer sees it: who, its standing, the decisions against it, its record as a reporter", Description: staffOnly + " The view is audited.",
		Params: []openapi.Param{idParam("user")}, Responses: map[int]openapi.Response{200: {Body: accountReviewView{}}},
	}, handleReviewAccount(mod))
	rt.handle(openapi.Operation{Method: "GET", Path: "/api/v1/moderation/flaggers", ID: "flaggers", Tags: tags, Auth: true,
		Summary: "Trusted flaggers", Description: staffOnly, Responses: map[int]openapi.Response{200: {Body: flaggerList{}}},
	}, handleFlaggers(mod))
	rt.handle(openapi.Operation{Method: "POST", Path: "/api/v1/moderation/flaggers", ID: "addFlagger", Tags: tags, Auth: true,
		Summary: "Make an account a trusted flagger", Description: "For admins.", Request: flaggerRequest{}, Responses: done,
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := decode[flaggerRequest](r, limit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, mod.AddFlagger(r.Context(), staff(r), kurir.UserID(req.UserID), req.Organisation))
	}))
	rt.handle(openapi.Operation{Method: "DELETE", Path: "/api/v1/moderation/flaggers/{id}", ID: "removeFlagger", Tags: tags, Auth: true,
		Summary: "End an account's standing as a trusted flagger", Description: "For admins.", Params: []openapi.Param{idParam("user")}, Responses: done,
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathInt(r, "id", "user ID")
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondDone(w, r, mod.RemoveFlagger(r.Context(), staff(r), kurir.UserID(id)))
	}))
}
