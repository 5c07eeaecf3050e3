package moderation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"kurir"
	"kurir/blob"
	"kurir/media"
	"kurir/messaging"
	"kurir/safety/hashbank"
	"kurir/sqldb"
)

// ActionKind is what an action does.
type ActionKind string

// The kinds of action.
const (
	RemoveMessage ActionKind = "remove_message" // the message reads as deleted for everyone
	TakeDown      ActionKind = "takedown"       // a group or channel with all it holds
	Suspend       ActionKind = "suspend"        // an account, until a time
	Ban           ActionKind = "ban"            // an account, until reversed
	Label         ActionKind = "label"          // a group or channel, with a warning readers see
	RemoveMedia   ActionKind = "remove_media"   // a file, everywhere it was posted, and refused if uploaded again
	Restrict      ActionKind = "restrict"       // a message or a group or channel, withheld in some countries only
)

// Ground is what an action rests on.
type Ground string

// The grounds (DSA Art. 17(3)(d)–(e)).
const (
	GroundTerms   Ground = "terms"   // incompatible with the terms of service
	GroundIllegal Ground = "illegal" // illegal content; LegalReference names the law
)

// ActParams is a moderator's decision on a case.
type ActParams struct {
	Kind ActionKind
	// Category defaults to the case's.
	Category Category
	Ground   Ground
	// LegalReference names the law for GroundIllegal, such as
	// "Directive 2011/93/EU Art. 5".
	LegalReference string
	// Facts are the facts and circumstances the decision rests on; the
	// affected user reads them in their statement of reasons. With a
	// Template they are what the moderator adds after its text, and may
	// be empty.
	Facts string
	// Template, if set, names the reason template (Templates) whose text
	// states the facts: the affected user reads it in their language.
	// TemplateArgs are its parameters.
	Template     string
	TemplateArgs map[string]string
	// Until ends a suspension.
	Until time.Time
	// Label is the label a label action puts on (messaging.Labels).
	Label string
	// Countries are where a restrict action withholds its subject:
	// countries and groups (EU, EEA). None means wherever the country
	// rules make the category illegal, now or later.
	Countries []string
	// Bank, for remove_media, names a hash bank the file's hashes (its
	// SHA-256 and, for a photo, its PDQ hash) are added to, so that copies
	// uploaded later, recompressed or resized, are caught as the bank says.
	Bank string
}

// Action is a decision taken, which is also its statement of reasons.
type Action struct {
	ID     int64
	CaseID int64
	Kind   ActionKind
	Label  string // for a label action
	// Territory is where a restrict action applies (countries and groups;
	// empty: by country rules). Every other action applies worldwide.
	Territory []string
	// RestrictionID is the messaging restriction a restrict action made.
	RestrictionID  int64
	Subject        Subject
	Affected       kurir.UserID // whose content or account it restricts
	Category       Category
	Ground         Ground
	LegalReference string
	// Facts are the facts as staff and the DSA database read them: in
	// English where a template wrote them, else as the moderator typed
	// them. The affected user reads them through Statement, in their
	// language.
	Facts string
	// Template and TemplateArgs are the reason template that wrote the
	// facts, if one did, and TypedFacts what the moderator added after it.
	Template           string
	TemplateArgs       map[string]string
	TypedFacts         string
	ContentType        string // text, image, video, audio or other
	Excerpt            string // what was restricted, as it was
	Source             Source
	AutomatedDetection bool
	AutomatedDecision  bool
	Until              time.Time // zero: indefinite
	Moderator          kurir.UserID
	At                 time.Time
	Reversed           time.Time // zero unless reversed
	ReversedBy         kurir.UserID
	ReversalReason     string
}

const actionColumns = `id, case_id, kind, label, subject, affected_id, category, ground, legal_reference, facts, content_type, excerpt, source,
	automated_detection, automated_decision, ends_at, moderator_id, created_at, reversed_at, reversed_by, reversal_reason, territory, restriction_id`

// scanAction scans actionColumns followed by template, template_args and
// typed_facts.
func scanAction(row interface{ Scan(...any) error }) (Action, error) {
	var r actionRow
	var tpl, args, typed string
	if err := row.Scan(append(r.dest(), &tpl, &args, &typed)...); err != nil {
		return Action{}, err
	}
	a := r.action()
	a.Template, a.TemplateArgs, a.TypedFacts = tpl, decodeArgs(args), typed
	return a, nil
}

// prefixed qualifies each of a list of columns with an alias such as "a.".
func prefixed(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// actions returns the actions matching where (with args), oldest first,
// with the templates of their facts.
func actions(ctx context.Context, q sqldb.Querier, where string, args ...any) ([]Action, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+actionColumns+`, template, template_args, typed_facts FROM mod_actions WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	defer rows.Close()
	var out []Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// target is what an action will act on, found before it acts.
type target struct {
	subject     Subject
	affected    kurir.UserID
	excerpt     string
	contentType string
	hash        blob.Hash // of a media subject
}

// Act decides a case by acting on its subject. The effect is immediate for
// every reader on every node; the case is resolved as actioned, and the
// affected user is owed the statement of reasons the action records.
func (s *Service) Act(ctx context.Context, by Staff, caseID int64, p ActParams) (Action, error) {
	if err := by.require(permAct); err != nil {
		return Action{}, err
	}
	p, err := s.checkAct(p)
	if err != nil {
		return Action{}, err
	}
	facts, ref := p.Facts, p.LegalReference
	if p.Template != "" {
		// Staff and the DSA database read the facts in English.
		facts = joinFacts(TemplateText(p.Template, "en", p.TemplateArgs), p.Facts)
	}
	// A restriction by country rules rests on the law each rule names.
	byRules := p.Kind == Restrict && len(p.Countries) == 0
	now := s.now()
	c, err := scanCase(s.db.Read().QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, caseID))
	if errors.Is(err, sql.ErrNoRows) {
		return Action{}, kurir.Errorf(kurir.ENotFound, "No case %d.", caseID)
	}
	if err != nil {
		return Action{}, err
	}
	if c.State == StateResolved {
		return Action{}, kurir.Errorf(kurir.EConflict, "Case %d is already resolved (%s).", caseID, c.Outcome)
	}
	if p.Category == "" {
		p.Category = c.Category
	}
	t, err := s.target(ctx, c.Subject, p.Kind)
	if err != nil {
		return Action{}, err
	}
	if t.affected == by.ID && by.ID != 0 {
		return Action{}, ownContent()
	}
	if p.Bank != "" {
		if err := hashbank.CheckBank(ctx, s.db, p.Bank); err != nil {
			return Action{}, err
		}
	}
	// Act first, then record: the effect is what must not wait. If the
	// record cannot be written the effect is undone.
	reason := p.Category.Label("en")
	var restriction messaging.Restriction
	switch p.Kind {
	case RemoveMessage:
		_, err = s.msg.RemoveMessage(ctx, t.subject.Chat, t.subject.Seq, reason)
	case TakeDown:
		err = s.msg.TakeDown(ctx, t.subject.Chat, reason)
	case Suspend:
		err = s.suspend(ctx, t.subject.User, p.Until, standingReason(p.Category, facts))
	case Ban:
		err = s.acc.Ban(ctx, t.subject.User, standingReason(p.Category, facts))
	case Label:
		err = s.msg.SetLabel(ctx, t.subject.Chat, p.Label, true)
	case RemoveMedia:
		_, err = media.Remove(ctx, s.db, now, t.hash, reason)
	case Restrict:
		restriction, err = s.msg.Restrict(ctx, messaging.Restriction{Chat: t.subject.Chat, Seq: t.subject.Seq,
			Scope: p.Countries, Category: string(p.Category), Reason: reason, LegalRef: ref})
	}
	if err != nil {
		return Action{}, err
	}
	if p.Kind == Suspend || p.Kind == Ban {
		// The account is refused from now on; its open live streams
		// would otherwise go on delivering until they reconnect.
		s.endLive(ctx, t.subject.User)
	}
	if byRules && p.Ground == GroundIllegal && ref == "" {
		ref = "the law of each country where it is withheld (country rules)"
	}
	a := Action{CaseID: caseID, Kind: p.Kind, Label: p.Label, Territory: restriction.Scope, RestrictionID: restriction.ID, Subject: t.subject, Affected: t.affected, Category: p.Category, Ground: p.Ground,
		LegalReference: ref, Facts: facts, ContentType: t.contentType, Excerpt: t.excerpt, Until: p.Until, Moderator: by.ID, At: now}
	if p.Template != "" {
		a.Template, a.TemplateArgs, a.TypedFacts = p.Template, p.TemplateArgs, p.Facts
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error { return recordAction(ctx, tx, by, &a) })
	if err != nil {
		if uerr := s.undoUnrecorded(ctx, a); uerr != nil {
			s.log.Error("action took effect but could not be recorded or undone", "case", caseID, "kind", a.Kind, "subject", t.subject.Key(), "err", err, "undo", uerr)
		}
		return Action{}, err
	}
	if p.Bank != "" {
		// The removal stands whatever happens here: the same bytes are
		// refused already; only near copies would get through.
		if _, err := hashbank.BankMedia(ctx, s.db, now, p.Bank, media.ID(t.subject.Media), fmt.Sprintf("moderation case %d, action %d", caseID, a.ID)); err != nil {
			s.log.Error("bank a removed file's hashes", "case", caseID, "media", t.subject.Media, "bank", p.Bank, "err", err)
		}
	}
	if p.Kind != Suspend && p.Kind != Ban {
		// A suspended or banned account's streams were ended instead, and
		// its app comes back to the decisions.
		s.tellAffected(ctx, a.Affected)
	}
	return a, nil
}

// checkAct validates a decision's parameters, returning them cleaned.
func (s *Service) checkAct(p ActParams) (ActParams, error) {
	var err error
	if err = checkTemplate(p.Template, p.TemplateArgs); err != nil {
		return p, err
	}
	// A template states the facts; the moderator may add to them.
	if p.Facts, err = cleanText("facts", "facts", p.Facts, 4000, p.Template == ""); err != nil {
		return p, err
	}
	// A restriction by country rules rests on the law each rule names.
	byRules := p.Kind == Restrict && len(p.Countries) == 0
	if p.LegalReference, err = cleanText("legal_reference", "legal reference", p.LegalReference, 500, p.Ground == GroundIllegal && !byRules); err != nil {
		return p, err
	}
	switch p.Ground {
	case GroundTerms, GroundIllegal:
	case "":
		p.Ground = GroundTerms
	default:
		return p, kurir.Invalid("ground", "unknown_ground", "The ground is terms or illegal.")
	}
	if len(p.Countries) > 0 && p.Kind != Restrict {
		return p, kurir.Invalid("countries", "not_territorial", "Only a restrict action applies in some countries; the others apply worldwide.")
	}
	switch p.Kind {
	case RemoveMessage, TakeDown, Ban, Label, RemoveMedia, Restrict:
		if !p.Until.IsZero() {
			return p, kurir.Invalid("until", "not_temporary", "Only a suspension has an end; reverse the action to end it.")
		}
	case Suspend:
		if !p.Until.After(s.now()) {
			return p, kurir.Invalid("until", "in_past", "A suspension must end in the future.")
		}
	default:
		return p, kurir.Invalid("kind", "unknown_action", "An action is remove_message, remove_media, takedown, restrict, suspend, ban or label.")
	}
	if p.Bank != "" && p.Kind != RemoveMedia {
		return p, kurir.Invalid("bank", "bank_not_applicable", "Only a removed file's hashes can be banked.")
	}
	if (p.Kind == Label) != (p.Label != "") {
		return p, kurir.Invalid("label", "label_required", "A label action names its label, and only a label action does.")
	}
	if p.Category != "" && !p.Category.Valid() {
		return p, kurir.Invalid("category", "unknown_category", "Unknown category %q.", p.Category)
	}
	return p, nil
}

// ActOnOwnInitiative decides about subj without a report: it files a
// signal of the platform's own initiative (joining the subject's open case,
// or opening one) and acts on that case with p, which must name its
// category. What the operator's command line does to an account goes
// through here, so that it is a decision like any other: recorded, owed a
// statement of reasons, appealable and counted. Bad parameters or a
// subject that does not exist file nothing.
func (s *Service) ActOnOwnInitiative(ctx context.Context, by Staff, subj Subject, p ActParams, note string) (Action, error) {
	if err := by.require(permAct); err != nil {
		return Action{}, err
	}
	if !p.Category.Valid() {
		return Action{}, kurir.Invalid("category", "unknown_category", "Name the category the decision falls under.")
	}
	p, err := s.checkAct(p)
	if err != nil {
		return Action{}, err
	}
	if _, err := s.target(ctx, subj, p.Kind); err != nil {
		return Action{}, err
	}
	if p.Bank != "" {
		if err := hashbank.CheckBank(ctx, s.db, p.Bank); err != nil {
			return Action{}, err // before a case is opened for nothing
		}
	}
	note, err = cleanText("note", "note", note, 1000, false)
	if err != nil {
		return Action{}, err
	}
	var caseID, sigID int64
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		caseID, err = file(ctx, tx, signal{subject: subj, source: SourceOwn, category: p.Category, weight: 1, detail: note}, s.now())
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT MAX(id) FROM mod_signals WHERE case_id = $1 AND source = $2`, caseID, string(SourceOwn)).Scan(&sigID)
	})
	if err != nil {
		return Action{}, err
	}
	a, err := s.Act(ctx, by, caseID, p)
	if err != nil {
		// A decision that did not happen leaves no trace in the queue: the
		// signal filed for it is taken back, and with it the case it opened.
		if werr := s.withdrawSignal(context.WithoutCancel(ctx), caseID, sigID); werr != nil {
			s.log.Error("withdraw own-initiative signal", "case", caseID, "signal", sigID, "err", werr)
		}
		return Action{}, err
	}
	return a, nil
}

// withdrawSignal takes signal sigID back out of case caseID while the case
// is unresolved: it deletes the case if the signal was all it had, and
// otherwise recounts the case without it. A case decided meanwhile keeps
// it, as part of the record of that decision.
func (s *Service) withdrawSignal(ctx context.Context, caseID, sigID int64) error {
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := scanCase(tx.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM mod_cases WHERE id = $1`, caseID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.State == StateResolved {
			return nil
		}
		var milli int64
		err = tx.QueryRowContext(ctx, `SELECT weight_milli FROM mod_signals WHERE id = $1 AND case_id = $2`, sigID, caseID).Scan(&milli)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mod_signals WHERE id = $1`, sigID); err != nil {
			return err
		}
		if c.SignalCount <= 1 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM mod_events WHERE case_id = $1`, caseID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM mod_cases WHERE id = $1`, caseID)
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT source FROM mod_signals WHERE case_id = $1`, caseID)
		if err != nil {
			return err
		}
		sources := ""
		for rows.Next() {
			var src string
			if err := rows.Scan(&src); err != nil {
				rows.Close()
				return err
			}
			sources = addSource(sources, Source(src))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var weight int64
		if err := tx.QueryRowContext(ctx, `SELECT weight_milli FROM mod_cases WHERE id = $1`, caseID).Scan(&weight); err != nil {
			return err
		}
		weight -= milli
		if _, err := tx.ExecContext(ctx, `UPDATE mod_cases SET signal_count = signal_count - 1, weight_milli = $2, sources = $3, priority = $4 WHERE id = $1`,
			caseID, weight, sources, priority(c.Category, c.Reach, weight, sources)); err != nil {
			return err
		}
		return addEvent(ctx, tx, caseID, 0, "withdrawn", "own-initiative signal: the decision failed", s.now())
	})
}

// recordAction records a decision that took effect: the action (its ID set
// in a), the case resolved as actioned, the case's history and the audit
// log. It reads from the case's signals what led to it and whether
// automated detection did.
func recordAction(ctx context.Context, tx *sqldb.Tx, by Staff, a *Action) error {
	var first string
	var automated, opened int64
	if err := tx.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT source FROM mod_signals WHERE case_id = $1 ORDER BY CASE source
			WHEN 'legal_order' THEN 0 WHEN 'trusted_flagger' THEN 1 WHEN 'notice' THEN 2 WHEN 'user_report' THEN 3 ELSE 4 END, id LIMIT 1), ''),
		(SELECT COUNT(*) FROM mod_signals WHERE case_id = $1 AND source IN ('hash_bank', 'text_rule', 'classifier')),
		(SELECT opened_at FROM mod_cases WHERE id = $1)`, a.CaseID).
		Scan(&first, &automated, &opened); err != nil {
		return err
	}
	a.Source = Source(first)
	if a.Source == "" || a.Source.Automated() {
		a.Source = SourceOwn // the platform's own detection
	}
	a.AutomatedDetection = automated > 0
	err := tx.QueryRowContext(ctx, `INSERT INTO mod_actions (case_id, kind, label, subject, chat_id, seq, user_id, affected_id, category, ground,
		legal_reference, facts, content_type, excerpt, source, automated_detection, automated_decision, ends_at, moderator_id, created_at,
		territory, restriction_id, template, template_args, typed_facts, news_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $20) RETURNING id`,
		a.CaseID, string(a.Kind), a.Label, a.Subject.Key(), a.Subject.Chat, a.Subject.Seq, a.Subject.User, a.Affected, string(a.Category),
		string(a.Ground), a.LegalReference, a.Facts, a.ContentType, a.Excerpt, string(a.Source), boolInt(a.AutomatedDetection),
		boolInt(a.AutomatedDecision), optMicros(a.Until), a.Moderator, sqldb.Micros(a.At), strings.Join(a.Territory, ","), a.RestrictionID,
		a.Template, encodeArgs(a.TemplateArgs), a.TypedFacts).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("record action: %w", err)
	}
	// Conditional, so that of two moderators acting on one case at once
	// only the first decides it; the other's effect is undone.
	res, err := tx.ExecContext(ctx, `UPDATE mod_cases SET state = 'resolved', outcome = 'actioned', resolved_at = $2, updated_at = $2
		WHERE id = $1 AND state <> 'resolved'`, a.CaseID, sqldb.Micros(a.At))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &kurir.Error{Code: kurir.EConflict, Reason: "already_decided",
			Message: fmt.Sprintf("Case %d was decided meanwhile by someone else; reload it.", a.CaseID)}
	}
	if err := countAction(ctx, tx, a, opened); err != nil {
		return err
	}
	if err := queueDecisionMail(ctx, tx, a.CaseID, a, a.At); err != nil {
		return err
	}
	note := fmt.Sprintf("%s %s (%s)", a.Kind, a.Subject.Key(), a.Category)
	if a.AutomatedDecision {
		note += ", decided by automated means"
	}
	if err := addEvent(ctx, tx, a.CaseID, by.ID, "action", note, a.At); err != nil {
		return err
	}
	return record(ctx, tx, by, "action."+string(a.Kind), a.Subject.Key(), fmt.Sprintf("action %d, case %d: %s", a.ID, a.CaseID, a.Facts))
}

// target resolves what an action of kind on subj acts on: removing a
// message needs a message; a takedown acts on a message's chat; an account
// action acts on a message's sender or a chat's owner.
func (s *Service) target(ctx context.Context, subj Subject, kind ActionKind) (target, error) {
	t := target{subject: subj, contentType: "text"}
	switch kind {
	case RemoveMessage:
		if subj.Kind != SubjectMessage {
			return t, kurir.Invalid("kind", "wrong_subject", "Only a message can be removed; take a chat down or act on an account instead.")
		}
		m, err := s.reviewedMessage(ctx, subj)
		if err != nil {
			return t, err
		}
		t.affected, t.excerpt, t.contentType = m.SenderID, evidence(m.Message), contentType(m.Message)
	case RemoveMedia:
		if subj.Kind == SubjectMessage {
			ms, err := s.messageMedia(ctx, subj)
			if err != nil {
				return t, err
			}
			subj, t.subject = ms, ms
		}
		if subj.Kind != SubjectMedia {
			return t, kurir.Invalid("kind", "wrong_subject", "Only a file, or a message that carries one, is removed this way.")
		}
		m, err := media.Describe(ctx, s.db.Read(), media.ID(subj.Media))
		if err != nil {
			return t, err
		}
		t.affected, t.hash = m.OwnerID, m.SHA256
		t.excerpt = excerpt(fmt.Sprintf("[%s %q, %d bytes, media %d]", m.Kind, m.Name, m.Size, m.ID))
		t.contentType = map[media.Kind]string{media.Photo: "image", media.Video: "video", media.Audio: "audio"}[m.Kind]
		if t.contentType == "" {
			t.contentType = "other"
		}
	case Restrict:
		switch subj.Kind {
		case SubjectMessage:
			m, err := s.reviewedMessage(ctx, subj)
			if err != nil {
				return t, err
			}
			t.affected, t.excerpt, t.contentType = m.SenderID, evidence(m.Message), contentType(m.Message)
		case SubjectChat:
			c, err := s.msg.ReviewChat(ctx, subj.Chat)
			if err != nil {
				return t, err
			}
			t.affected = c.Owner
			t.excerpt = excerpt(fmt.Sprintf("%s %q", c.Kind, c.Title))
		default:
			return t, kurir.Invalid("kind", "wrong_subject", "Only a message or a group or channel can be withheld in some countries.")
		}
	case TakeDown, Label:
		if subj.Kind != SubjectMessage && subj.Kind != SubjectChat {
			return t, kurir.Invalid("kind", "wrong_subject", "Only a group or channel can be taken down or labelled.")
		}
		c, err := s.msg.ReviewChat(ctx, subj.Chat)
		if err != nil {
			return t, err
		}
		t.subject = Subject{Kind: SubjectChat, Chat: subj.Chat}
		t.affected = c.Owner
		t.excerpt = excerpt(fmt.Sprintf("%s %q", c.Kind, c.Title))
	case Suspend, Ban:
		switch subj.Kind {
		case SubjectUser:
		case SubjectMessage:
			m, err := s.reviewedMessage(ctx, subj)
			if err != nil {
				return t, err
			}
			subj = Subject{Kind: SubjectUser, User: m.SenderID}
		case SubjectChat:
			c, err := s.msg.ReviewChat(ctx, subj.Chat)
			if err != nil {
				return t, err
			}
			subj = Subject{Kind: SubjectUser, User: c.Owner}
		case SubjectMedia:
			m, err := media.Describe(ctx, s.db.Read(), media.ID(subj.Media))
			if err != nil {
				return t, err
			}
			subj = Subject{Kind: SubjectUser, User: m.OwnerID}
		default:
			return t, kurir.Invalid("kind", "wrong_subject", "This case names no account to act on.")
		}
		u, err := s.acc.UserByID(ctx, subj.User)
		if err != nil {
			return t, err
		}
		t.subject, t.affected = subj, subj.User
		t.excerpt = excerpt(fmt.Sprintf("@%s %q", u.Username, u.DisplayName))
	}
	return t, nil
}

// ownContent refuses a member of staff a decision about themself.
func ownContent() error {
	return &kurir.Error{Code: kurir.EForbidden, Reason: "own_content",
		Message: "This case is about your own content or account; another moderator must decide it."}
}

// reviewedMessage returns the message of a message subject as a moderator
// sees it, removed or held ones included.
func (s *Service) reviewedMessage(ctx context.Context, subj Subject) (messaging.ReviewedMessage, error) {
	ms, err := s.msg.ReviewMessages(ctx, subj.Chat, subj.Seq, 1)
	if err != nil {
		return messaging.ReviewedMessage{}, err
	}
	for _, m := range ms {
		if m.Seq == subj.Seq {
			return m, nil
		}
	}
	return messaging.ReviewedMessage{}, kurir.Errorf(kurir.ENotFound, "No message %d in chat %d.", subj.Seq, subj.Chat)
}

// contentType is the DSA content type of a message.
func contentType(m messaging.Message) string {
	if m.Media == nil {
		return "text"
	}
	switch m.Media.Kind {
	case "photo", "image":
		return "image"
	case "video", "audio":
		return m.Media.Kind
	}
	return "other"
}

// undo reverses the effect of an action.
func (s *Service) undo(ctx context.Context, a Action) error {
	subj := a.Subject
	switch a.Kind {
	case Restrict:
		return s.msg.Unrestrict(ctx, a.RestrictionID)
	case Label:
		return s.msg.SetLabel(ctx, subj.Chat, a.Label, false)
	case RemoveMedia:
		m, err := media.Describe(ctx, s.db.Read(), media.ID(subj.Media))
		if err != nil {
			return err
		}
		return media.Restore(ctx, s.db, m.SHA256)
	case RemoveMessage:
		return s.msg.RestoreMessage(ctx, subj.Chat, subj.Seq)
	case TakeDown:
		return s.msg.Reinstate(ctx, subj.Chat)
	case Suspend, Ban:
		return s.restoreStanding(ctx, subj.User, a.ID)
	}
	return nil
}

// undoUnrecorded undoes the effect of an action that could not be
// recorded, unless a recorded action in force has the same effect: another
// moderator's decision on the same case that was recorded first, whose
// effect must stand. A restriction is always its own, and an account's
// standing is recomputed from what was recorded.
func (s *Service) undoUnrecorded(ctx context.Context, a Action) error {
	if a.Kind != Restrict && a.Kind != Suspend && a.Kind != Ban {
		var n int64
		if err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM mod_actions WHERE subject = $1 AND kind = $2 AND label = $3 AND reversed_at = 0`,
			a.Subject.Key(), string(a.Kind), a.Label).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return s.undo(ctx, a)
}

// restoreStanding sets an account's standing from the suspensions and bans
// against it still in force, leaving out the action being reversed
// (except, 0 for none): reversing one decision must not lift another. A
// ban outranks a suspension; of several suspensions the latest end wins;
// with none the account is active.
func (s *Service) restoreStanding(ctx context.Context, user kurir.UserID, except int64) error {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT kind, ends_at, category, facts FROM mod_actions
		WHERE user_id = $1 AND kind IN ('suspend', 'ban') AND reversed_at = 0 AND id <> $2 AND (kind = 'ban' OR ends_at > $3) ORDER BY id`,
		user, except, sqldb.Micros(s.now()))
	if err != nil {
		return fmt.Errorf("standing of user %d: %w", user, err)
	}
	defer rows.Close()
	var ban, suspend string
	var until int64
	for rows.Next() {
		var kind, cat, facts string
		var ends int64
		if err := rows.Scan(&kind, &ends, &cat, &facts); err != nil {
			return err
		}
		switch {
		case kind == string(Ban):
			ban = standingReason(Category(cat), facts)
		case ends > until:
			suspend, until = standingReason(Category(cat), facts), ends
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch {
	case ban != "":
		return s.acc.Ban(ctx, user, ban)
	case until != 0:
		return s.acc.Suspend(ctx, user, sqldb.FromMicros(until), suspend)
	}
	return s.acc.Reinstate(ctx, user)
}

// standingReason is what a suspended or banned account is told whenever it
// is refused: the category and the facts of the decision, as its statement
// of reasons gives them, on one line and cut to fit.
func standingReason(cat Category, facts string) string {
	r := []rune(cat.Label("en") + ": " + strings.Join(strings.FieldsFunc(facts, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}), " "))
	if len(r) > 480 { // account keeps 500
		r = append(r[:479], '…')
	}
	return string(r)
}

// endLive ends the account's open live streams on every node, if the
// service was given a way to (Config.Live).
func (s *Service) endLive(ctx context.Context, user kurir.UserID) {
	if s.cfg.Live != nil {
		s.cfg.Live.EndDevice(ctx, user, 0, 0)
	}
}

// Reverse undoes an action: the content or account is back at once, and
// the statement of reasons says it was reversed. Nobody reverses a
// decision against their own content or account; they appeal it.
func (s *Service) Reverse(ctx context.Context, by Staff, actionID int64, reason string) error {
	if err := by.require(permAct); err != nil {
		return err
	}
	reason, err := cleanText("reason", "reason", reason, 2000, true)
	if err != nil {
		return err
	}
	return s.reverse(ctx, by, actionID, reason, "action.reverse", nil)
}

// reverse undoes an action and records it, running also (in the same
// transaction) any further step, such as deciding the appeal that led here.
func (s *Service) reverse(ctx context.Context, by Staff, actionID int64, reason, auditAction string, also func(tx *sqldb.Tx) error) error {
	as, err := actions(ctx, s.db.Read(), `id = $1`, actionID)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return kurir.Errorf(kurir.ENotFound, "No action %d.", actionID)
	}
	a := as[0]
	if a.Affected == by.ID && by.ID != 0 {
		return &kurir.Error{Code: kurir.EForbidden, Reason: "own_content",
			Message: "You cannot reverse a decision against your own content or account; appeal it, and another moderator will decide."}
	}
	if !a.Reversed.IsZero() {
		return kurir.Errorf(kurir.EConflict, "Action %d was already reversed.", actionID)
	}
	if err := s.undo(ctx, a); err != nil && kurir.ErrorCode(err) != kurir.EConflict && kurir.ErrorCode(err) != kurir.ENotFound {
		return err
	}
	now := s.now()
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		// The reversal is news to the person affected, as the decision was.
		res, err := tx.ExecContext(ctx, `UPDATE mod_actions SET reversed_at = $2, reversed_by = $3, reversal_reason = $4, news_at = $2 WHERE id = $1 AND reversed_at = 0`,
			actionID, sqldb.Micros(now), by.ID, reason)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kurir.Errorf(kurir.EConflict, "Action %d was already reversed.", actionID)
		}
		if err := countReversal(ctx, tx, a, now); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, a.CaseID, by.ID, "reversed", fmt.Sprintf("action %d: %s", actionID, reason), now); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE mod_appeals SET state = 'upheld', decided_by = $2, decision_reason = $3, decided_at = $4
			WHERE action_id = $1 AND state = 'pending'`, actionID, by.ID, "decision reversed: "+reason, sqldb.Micros(now)); err != nil {
			// An appeal still waiting has had what it asked for.
			return err
		}
		if err := queueReversalMail(ctx, tx, a, now); err != nil {
			return err
		}
		return record(ctx, tx, by, auditAction, a.Subject.Key(), fmt.Sprintf("action %d: %s", actionID, reason))
	})
	if err == nil {
		s.tellAffected(ctx, a.Affected)
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return sqldb.Micros(t)
}
