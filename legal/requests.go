package legal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kurir"
	"kurir/jurisdiction"
	"kurir/moderation"
	"kurir/sqldb"
)

// NewRequest is what an officer files.
type NewRequest struct {
	Kind             Kind
	CaseReference    string
	LegalBasis       string
	Process          Process
	IssuingAuthority string
	// Jurisdiction is the issuing country; it defaults to the agency's.
	Jurisdiction     string
	Targets          []Target // Kind and Value; kurir resolves them
	From, To         time.Time
	Categories       []Category
	Description      string
	Deadline         time.Time
	NonDisclosure    bool
	NonDisclosureEnd time.Time
	// Category is what a removal order says the content is (default
	// terrorism for an EU terrorist-content order).
	Category moderation.Category
}

// Limits of a request.
const (
	maxTargets     = 50
	emergencyDue   = time.Hour // an emergency is answered within the hour
	tcoDue         = time.Hour // Regulation (EU) 2021/784 Art. 3(3)
	removalDue     = 24 * time.Hour
	PreservePeriod = 90 * 24 * time.Hour
)

// processesFor are the processes each kind of request may rest on.
var processesFor = map[Kind][]Process{
	Emergency:    {EmergencyBasis},
	Preservation: {PreservationReq, Subpoena, CourtOrder, Warrant, MLAT},
	Disclosure:   {Subpoena, CourtOrder, Warrant, MLAT},
	Removal:      {RemovalOrder, TCORemovalOrder, CourtOrder},
	Other:        Processes,
}

// File files a request for an officer whose setup is complete. It resolves
// every target and refuses the request, with nothing stored, if one does
// not exist. A preservation is put in place at once (a hold on each target
// account for 90 days); a removal order from a competent authority is
// enforced at once in the issuing country; emergencies and removal orders
// page the on-call legal staff.
func (s *Service) File(ctx context.Context, sess OfficerSession, p NewRequest) (Request, error) {
	if err := RequireReady(sess); err != nil {
		return Request{}, err
	}
	ag, err := s.agency(ctx, s.db.Read(), sess.Officer.AgencyID)
	if err != nil {
		return Request{}, err
	}
	r, err := s.checkNew(ctx, ag, p)
	if err != nil {
		return Request{}, err
	}
	now := s.now()
	r.AgencyID, r.OfficerID, r.State, r.Received, r.Updated = ag.ID, sess.Officer.ID, Received, now, now
	r.Due = s.due(r, now)
	targets, _ := json.Marshal(r.Targets)
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO legal_requests (number, agency_id, officer_id, kind, state, case_reference, legal_basis, process,
			issuing_authority, jurisdiction, targets, date_from, date_to, categories, description, deadline, due_at, nondisclosure,
			nondisclosure_until, received_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id`,
			fmt.Sprintf("pending-%d-%d", r.OfficerID, now.UnixNano()), r.AgencyID, r.OfficerID, string(r.Kind), string(r.State), r.CaseReference,
			r.LegalBasis, string(r.Process), r.IssuingAuthority, r.Jurisdiction, string(targets), optMicros(r.From), optMicros(r.To),
			joinCategories(r.Categories), r.Description, optMicros(r.Deadline), sqldb.Micros(r.Due), boolInt(r.NonDisclosure),
			optMicros(r.NonDisclosureEnd), sqldb.Micros(now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("file request: %w", err)
		}
		r.Number = fmt.Sprintf("LE-%d-%06d", now.Year(), r.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE legal_requests SET number = $2 WHERE id = $1`, r.ID, r.Number); err != nil {
			return err
		}
		if err := event(ctx, tx, r.ID, now, "officer", sess.Officer.ID, "filed",
			fmt.Sprintf("%s request under %s by %s", r.Kind, r.Process, r.IssuingAuthority), false); err != nil {
			return err
		}
		return record(ctx, tx, 0, "", "legal.request.file", "legal_request:"+r.Number,
			fmt.Sprintf("officer %d of agency %d: %s, %d targets", sess.Officer.ID, ag.ID, r.Kind, len(r.Targets)))
	})
	if err != nil {
		return Request{}, err
	}
	// What a request puts in place at once, after it is on record.
	switch r.Kind {
	case Preservation:
		s.preserve(ctx, &r)
	case Removal:
		// At once only where the agency is competent: its own country
		// (every EU member for an EU order of an EU authority). Anything
		// else waits for the legal team, who may Extend it.
		if ag.Removal && r.Jurisdiction == ag.Country && (r.Process != TCORemovalOrder || inEU(ag.Country)) {
			s.enforce(ctx, &r, ag, p.Category)
		}
	}
	if r.Kind == Emergency || r.Kind == Removal {
		s.page(r, ag)
	}
	return r, nil
}

// checkNew validates a new request and resolves its targets.
func (s *Service) checkNew(ctx context.Context, ag Agency, p NewRequest) (Request, error) {
	r := Request{Kind: p.Kind, Process: p.Process, From: p.From, To: p.To, Deadline: p.Deadline, NonDisclosure: p.NonDisclosure,
		NonDisclosureEnd: p.NonDisclosureEnd}
	if !slices.Contains(Kinds, p.Kind) {
		return r, kurir.Invalid("kind", "unknown_kind", "A request is emergency, preservation, disclosure, removal or other.")
	}
	if !slices.Contains(processesFor[p.Kind], p.Process) {
		names := make([]string, len(processesFor[p.Kind]))
		for i, q := range processesFor[p.Kind] {
			names[i] = string(q)
		}
		return r, kurir.Invalid("process", "wrong_process", "A %s request rests on one of: %s.", p.Kind, strings.Join(names, ", "))
	}
	var err error
	if r.CaseReference, err = cleanText("case_reference", "agency case reference", p.CaseReference, 200, true); err != nil {
		return r, err
	}
	if r.LegalBasis, err = cleanText("legal_basis", "legal basis", p.LegalBasis, 2000, true); err != nil {
		return r, err
	}
	if r.IssuingAuthority, err = cleanText("issuing_authority", "issuing authority", p.IssuingAuthority, 300, true); err != nil {
		return r, err
	}
	if r.Description, err = cleanText("description", "description", p.Description, 10000, p.Kind == Emergency); err != nil {
		return r, err
	}
	r.Jurisdiction = strings.ToUpper(strings.TrimSpace(p.Jurisdiction))
	if r.Jurisdiction == "" {
		r.Jurisdiction = ag.Country
	}
	if !kurir.IsCountry(r.Jurisdiction) {
		return r, kurir.Invalid("jurisdiction", "unknown_country", "%q is not an ISO 3166-1 alpha-2 country code.", p.Jurisdiction)
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		return r, kurir.Invalid("date_from", "empty_range", "The date range ends before it starts.")
	}
	now := s.now()
	if !p.Deadline.IsZero() && !p.Deadline.After(now) {
		return r, kurir.Invalid("deadline", "in_past", "The deadline has passed.")
	}
	if !p.NonDisclosureEnd.IsZero() && (!p.NonDisclosure || !p.NonDisclosureEnd.After(now)) {
		return r, kurir.Invalid("nondisclosure_until", "bad_nondisclosure", "A non-disclosure order's end is a future date, with nondisclosure set.")
	}
	switch p.Kind {
	case Emergency, Disclosure:
		if len(p.Categories) == 0 {
			return r, kurir.Invalid("categories", "required", "Name the data categories asked for: subscriber, access, content.")
		}
	case Preservation, Removal:
		if len(p.Categories) > 0 {
			return r, kurir.Invalid("categories", "not_disclosure", "A %s request asks for no data; file a disclosure request for that.", p.Kind)
		}
	}
	for _, c := range p.Categories {
		if !slices.Contains(Categories, c) {
			return r, kurir.Invalid("categories", "unknown_category", "Unknown data category %q; they are subscriber, access and content.", c)
		}
		if !slices.Contains(r.Categories, c) {
			r.Categories = append(r.Categories, c)
		}
	}
	if len(p.Targets) == 0 || len(p.Targets) > maxTargets {
		return r, kurir.Invalid("targets", "targets_count", "A request names 1 to %d targets.", maxTargets)
	}
	for i, t := range p.Targets {
		rt, err := s.resolve(ctx, t)
		if err != nil {
			var e *kurir.Error
			if errors.As(err, &e) {
				e2 := *e
				e2.Field, e2.Message = "targets", fmt.Sprintf("Target %d (%s %q): %s", i+1, t.Kind, t.Value, e.Message)
				return r, &e2
			}
			return r, err
		}
		if p.Kind == Removal && rt.Chat == 0 {
			return r, kurir.Invalid("targets", "not_content", "Target %d: a removal order names content: a link to a channel, a group or a message.", i+1)
		}
		if (p.Kind == Preservation || p.Kind == Disclosure || p.Kind == Emergency) && rt.User == 0 {
			return r, kurir.Invalid("targets", "not_account", "Target %d: a %s request names accounts: a user ID, @username or phone number.", i+1, p.Kind)
		}
		r.Targets = append(r.Targets, rt)
	}
	if p.Kind == Removal {
		r.Categories = nil
		if p.Category != "" && !p.Category.Valid() {
			return r, kurir.Invalid("category", "unknown_category", "Unknown content category %q.", p.Category)
		}
	}
	return r, nil
}

var (
	phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	// linkPath is the path of a link to a chat or a message: /@name or /@name/17.
	linkPath = regexp.MustCompile(`^/?@?([A-Za-z][A-Za-z0-9_]{3,31})(?:/([0-9]{1,18}))?/?$`)
)

// resolve finds what a target names, or ENotFound. It looks as kurir
// itself, from nowhere: content withheld where the officer is can still be
// named.
func (s *Service) resolve(ctx context.Context, t Target) (Target, error) {
	ctx = kurir.WithLocation(ctx, kurir.Location{})
	v := strings.TrimSpace(t.Value)
	out := Target{Kind: t.Kind, Value: v}
	switch t.Kind {
	case TargetUser:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return out, kurir.Invalid("targets", "bad_target", "A user ID is a positive number.")
		}
		u, err := s.acc.UserByID(ctx, kurir.UserID(id))
		if err != nil {
			return out, kurir.Errorf(kurir.ENotFound, "No account has this ID.")
		}
		out.User = u.ID
	case TargetUsername:
		u, err := s.acc.UserByUsername(ctx, strings.TrimPrefix(v, "@"))
		if err != nil {
			return out, kurir.Errorf(kurir.ENotFound, "No account has this username.")
		}
		out.User = u.ID
	case TargetPhone:
		if !phonePattern.MatchString(v) {
			return out, kurir.Invalid("targets", "bad_target", "A phone number is in international format, such as +4915112345678.")
		}
		id, err := s.userByPhone(ctx, v)
		if err != nil {
			return out, err
		}
		out.User = id
	case TargetLink:
		path := v
		if u, err := url.Parse(v); err == nil && u.Scheme != "" {
			path = u.Path
		}
		m := linkPath.FindStringSubmatch(path)
		if m == nil {
			return out, kurir.Invalid("targets", "bad_target", "A link names a public channel or group, such as https://HOST/@name or https://HOST/@name/17 for a message.")
		}
		c, err := s.msg.ChatByUsername(ctx, 0, m[1])
		if err != nil {
			return out, kurir.Errorf(kurir.ENotFound, "No public channel or group has this name.")
		}
		out.Chat = c.ID
		if m[2] != "" {
			seq, _ := strconv.ParseInt(m[2], 10, 64)
			if _, err := s.msg.MessageVisible(ctx, 0, c.ID, seq); err != nil {
				return out, kurir.Errorf(kurir.ENotFound, "The channel or group has no message %d.", seq)
			}
			out.Seq = seq
		}
	default:
		return out, kurir.Invalid("targets", "bad_target", "A target is a user ID, a username, a phone number or a link.")
	}
	return out, nil
}

// userByPhone finds the account with a phone number, or ENotFound.
func (s *Service) userByPhone(ctx context.Context, phone string) (kurir.UserID, error) {
	var id kurir.UserID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM users WHERE phone = $1 AND deleted_at IS NULL`, phone).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, kurir.Errorf(kurir.ENotFound, "No account has this phone number.")
	}
	return id, err
}

// due is when kurir must answer r, filed at now.
func (s *Service) due(r Request, now time.Time) time.Time {
	switch {
	case r.Kind == Emergency:
		return now.Add(emergencyDue)
	case r.Process == TCORemovalOrder:
		return now.Add(tcoDue)
	case r.Kind == Removal:
		return now.Add(removalDue)
	case !r.Deadline.IsZero():
		return r.Deadline
	}
	return now.AddDate(0, 0, s.cfg.ReviewDays)
}

// preserve places a hold on each target account, recording each on the
// request. A hold that cannot be placed is on the timeline for the legal
// team to see; the request stands.
func (s *Service) preserve(ctx context.Context, r *Request) {
	until := s.now().Add(PreservePeriod)
	var placed []string
	for _, t := range r.Targets {
		id, err := s.acc.PlaceHold(ctx, t.User, r.Number, until)
		if err != nil {
			s.log.Error("place a preservation hold", "request", r.Number, "user", t.User, "err", err)
			continue
		}
		if err := s.effect(ctx, r.ID, "hold", id, fmt.Sprintf("user:%d", t.User)); err != nil {
			s.log.Error("record a preservation hold", "request", r.Number, "err", err)
		}
		placed = append(placed, fmt.Sprintf("user %d", t.User))
	}
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE legal_requests SET preserved_until = $2, updated_at = $3 WHERE id = $1`,
			r.ID, sqldb.Micros(until), sqldb.Micros(now)); err != nil {
			return err
		}
		return event(ctx, tx, r.ID, now, "system", 0, "preserved",
			fmt.Sprintf("Data of %s preserved until %s.", strings.Join(placed, ", "), until.Format("2006-01-02")), false)
	})
	if err != nil {
		s.log.Error("record preservation", "request", r.Number, "err", err)
		return
	}
	r.PreservedUntil = until
}

// enforce withholds every target of a removal order in the issuing country
// (in every EU member for an EU terrorist-content order) through
// moderation, so that the owners get statements of reasons.
func (s *Service) enforce(ctx context.Context, r *Request, ag Agency, cat moderation.Category) {
	if !cat.Valid() {
		cat = moderation.Terrorism
	}
	countries := []string{r.Jurisdiction}
	if r.Process == TCORemovalOrder {
		countries = []string{"EU"}
	}
	var done []string
	for _, t := range r.Targets {
		subj := moderation.Subject{Kind: moderation.SubjectChat, Chat: t.Chat}
		if t.Seq != 0 {
			subj = moderation.Subject{Kind: moderation.SubjectMessage, Chat: t.Chat, Seq: t.Seq}
		}
		a, err := s.mod.EnforceOrder(ctx, moderation.Order{Subject: subj, Category: cat, Countries: countries,
			Authority: ag.Name, Reference: r.Number, LegalRef: r.LegalBasis,
			Facts: fmt.Sprintf("A removal order of %s names this content as illegal under %s.", ag.Name, r.LegalBasis)})
		if err != nil {
			s.log.Error("enforce a removal order", "request", r.Number, "target", t.Value, "err", err)
			continue
		}
		if err := s.effect(ctx, r.ID, "restriction", a.ID, t.Value); err != nil {
			s.log.Error("record an enforced order", "request", r.Number, "err", err)
		}
		done = append(done, t.Value)
	}
	if len(done) == 0 {
		return
	}
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE legal_requests SET enforced_at = $2, updated_at = $2 WHERE id = $1`, r.ID, sqldb.Micros(now)); err != nil {
			return err
		}
		return event(ctx, tx, r.ID, now, "system", 0, "enforced",
			fmt.Sprintf("Withheld in %s: %s. The legal team reviews the order next.", strings.Join(countries, ", "), strings.Join(done, ", ")), false)
	})
	if err != nil {
		s.log.Error("record enforcement", "request", r.Number, "err", err)
		return
	}
	r.Enforced = now
}

// Extend withholds the targets of a removal order in more countries, as
// the legal team decides on review (countries and groups such as EU).
func (s *Service) Extend(ctx context.Context, by Staff, id int64, countries []string) (Request, error) {
	if err := mayReview(by); err != nil {
		return Request{}, err
	}
	r, err := s.request(ctx, s.db.Read(), id)
	if err != nil {
		return r, err
	}
	if r.Kind != Removal || !r.Open() {
		return r, &kurir.Error{Code: kurir.EConflict, Reason: "wrong_state", Message: fmt.Sprintf("Request %s is not an open removal order.", r.Number)}
	}
	if countries, err = jurisdiction.ParseScope(countries); err != nil {
		return r, err
	}
	if len(countries) == 0 {
		return r, kurir.Invalid("countries", "required", "Name the countries (or EU, EEA) to extend the order to.")
	}
	ag, err := s.agency(ctx, s.db.Read(), r.AgencyID)
	if err != nil {
		return r, err
	}
	var done []string
	for _, t := range r.Targets {
		subj := moderation.Subject{Kind: moderation.SubjectChat, Chat: t.Chat}
		if t.Seq != 0 {
			subj = moderation.Subject{Kind: moderation.SubjectMessage, Chat: t.Chat, Seq: t.Seq}
		}
		a, err := s.mod.EnforceOrder(ctx, moderation.Order{Subject: subj, Category: moderation.Terrorism, Countries: countries,
			Authority: ag.Name, Reference: r.Number, LegalRef: r.LegalBasis,
			Facts: fmt.Sprintf("A removal order of %s names this content as illegal under %s; the operator's legal team extended it.", ag.Name, r.LegalBasis)})
		if err != nil {
			return r, err
		}
		if err := s.effect(ctx, r.ID, "restriction", a.ID, t.Value); err != nil {
			return r, err
		}
		done = append(done, t.Value)
	}
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		note := fmt.Sprintf("Extended to %s: %s.", strings.Join(countries, ", "), strings.Join(done, ", "))
		if err := event(ctx, tx, r.ID, s.now(), "legal", int64(by.ID), "extended", note, false); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.request.extend", "legal_request:"+r.Number, note)
	})
	return r, err
}

// inEU reports whether a country is a member of the EU.
func inEU(country string) bool { return slices.Contains(jurisdiction.Groups["EU"], country) }

// effect records what a request put in place.
func (s *Service) effect(ctx context.Context, request int64, kind string, ref int64, target string) error {
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO legal_effects (request_id, kind, ref_id, target, created_at) VALUES ($1, $2, $3, $4, $5)`,
			request, kind, ref, target, sqldb.Micros(s.now()))
		return err
	})
}

// event appends a step to a request's timeline.
func event(ctx context.Context, tx *sqldb.Tx, request int64, at time.Time, actor string, actorID int64, kind, note string, internal bool) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO legal_events (request_id, at, actor, actor_id, kind, note, officer_visible) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		request, sqldb.Micros(at), actor, actorID, kind, note, boolInt(!internal))
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	return nil
}

const requestColumns = `id, number, agency_id, officer_id, kind, state, case_reference, legal_basis, process, issuing_authority, jurisdiction,
	targets, date_from, date_to, categories, approved, description, deadline, due_at, nondisclosure, nondisclosure_until, decision,
	received_at, updated_at, closed_at, paged_at, answered_at, enforced_at, preserved_until`

func scanRequest(row interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var kind, state, process, targets, cats, approved string
	var from, to, deadline, due, ndo, ndoEnd, received, updated, closed, paged, answered, enforced, preserved int64
	err := row.Scan(&r.ID, &r.Number, &r.AgencyID, &r.OfficerID, &kind, &state, &r.CaseReference, &r.LegalBasis, &process, &r.IssuingAuthority,
		&r.Jurisdiction, &targets, &from, &to, &cats, &approved, &r.Description, &deadline, &due, &ndo, &ndoEnd, &r.Decision,
		&received, &updated, &closed, &paged, &answered, &enforced, &preserved)
	if err != nil {
		return r, err
	}
	r.Kind, r.State, r.Process = Kind(kind), State(state), Process(process)
	if err := json.Unmarshal([]byte(targets), &r.Targets); err != nil {
		return r, fmt.Errorf("request %d targets: %w", r.ID, err)
	}
	r.Categories, r.Approved = splitCategories(cats), splitCategories(approved)
	r.From, r.To, r.Deadline, r.Due = optTime(from), optTime(to), optTime(deadline), optTime(due)
	r.NonDisclosure, r.NonDisclosureEnd = ndo != 0, optTime(ndoEnd)
	r.Received, r.Updated, r.Closed = optTime(received), optTime(updated), optTime(closed)
	r.Paged, r.Answered, r.Enforced, r.PreservedUntil = optTime(paged), optTime(answered), optTime(enforced), optTime(preserved)
	return r, nil
}

// request loads a request, or ENotFound.
func (s *Service) request(ctx context.Context, q sqldb.Querier, id int64) (Request, error) {
	r, err := scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM legal_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, kurir.Errorf(kurir.ENotFound, "No request %d.", id)
	}
	return r, err
}

// requests lists requests matching where, in the given order.
func requests(ctx context.Context, q sqldb.Querier, where, order string, args ...any) ([]Request, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+requestColumns+` FROM legal_requests WHERE `+where+` ORDER BY `+order+` LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// timeline returns a request's events, oldest first; internal ones only
// when asked.
func timeline(ctx context.Context, q sqldb.Querier, request int64, internal bool) ([]Event, error) {
	cond := ` AND officer_visible = 1`
	if internal {
		cond = ""
	}
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor, actor_id, kind, note, officer_visible FROM legal_events
		WHERE request_id = $1`+cond+` ORDER BY id`, request)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at, visible int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorID, &e.Kind, &e.Note, &visible); err != nil {
			return nil, err
		}
		e.At, e.Internal = sqldb.FromMicros(at), visible == 0
		out = append(out, e)
	}
	return out, rows.Err()
}

// Requests returns the requests of the officer's agency, newest first.
func (s *Service) Requests(ctx context.Context, sess OfficerSession) ([]Request, error) {
	if err := RequireReady(sess); err != nil {
		return nil, err
	}
	return requests(ctx, s.db.Read(), `agency_id = $1`, `id DESC`, sess.Officer.AgencyID)
}

// RequestView is a request with its timeline and documents.
type RequestView struct {
	Request     Request
	Timeline    []Event
	Attachments []Attachment
}

// Request returns a request of the officer's agency with the steps an
// officer sees; another agency's is ENotFound.
func (s *Service) Request(ctx context.Context, sess OfficerSession, id int64) (RequestView, error) {
	if err := RequireReady(sess); err != nil {
		return RequestView{}, err
	}
	var v RequestView
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if v.Request, err = s.ownRequest(ctx, tx, sess, id); err != nil {
			return err
		}
		if v.Timeline, err = timeline(ctx, tx, id, false); err != nil {
			return err
		}
		v.Attachments, err = attachments(ctx, tx, id)
		return err
	})
	return v, err
}

// ownRequest loads a request of the officer's agency; another agency's is
// ENotFound, as one that does not exist.
func (s *Service) ownRequest(ctx context.Context, q sqldb.Querier, sess OfficerSession, id int64) (Request, error) {
	r, err := s.request(ctx, q, id)
	if err != nil {
		return r, err
	}
	if r.AgencyID != sess.Officer.AgencyID {
		return Request{}, kurir.Errorf(kurir.ENotFound, "No request %d.", id)
	}
	return r, nil
}

// Queue returns the requests the legal team works on: open ones by
// default (state "" ), emergencies first, then by due time.
func (s *Service) Queue(ctx context.Context, by Staff, state State) ([]Request, error) {
	if err := mayReview(by); err != nil {
		return nil, err
	}
	if state == "" {
		return requests(ctx, s.db.Read(), `state NOT IN ('fulfilled', 'rejected', 'withdrawn')`,
			`CASE WHEN kind = 'emergency' THEN 0 ELSE 1 END, due_at, id`)
	}
	return requests(ctx, s.db.Read(), `state = $1`, `due_at, id`, string(state))
}

// Review returns a request with its whole timeline for the legal team; the
// view is audited.
func (s *Service) Review(ctx context.Context, by Staff, id int64) (RequestView, error) {
	if err := mayReview(by); err != nil {
		return RequestView{}, err
	}
	var v RequestView
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if v.Request, err = s.request(ctx, tx, id); err != nil {
			return err
		}
		if v.Timeline, err = timeline(ctx, tx, id, true); err != nil {
			return err
		}
		if v.Attachments, err = attachments(ctx, tx, id); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.request.view", "legal_request:"+v.Request.Number, "")
	})
	return v, err
}

// transition moves a request between states for the legal team or an
// officer, with a step on its timeline and an entry in the audit log, and
// runs also (if set) in the same transaction.
func (s *Service) transition(ctx context.Context, id int64, from []State, to State, actor string, actorID int64, by Staff, note string,
	also func(tx *sqldb.Tx, r *Request, now time.Time) error) (Request, error) {
	var r Request
	now := s.now()
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		if r, err = s.request(ctx, tx, id); err != nil {
			return err
		}
		if !slices.Contains(from, r.State) {
			return &kurir.Error{Code: kurir.EConflict, Reason: "wrong_state",
				Message: fmt.Sprintf("Request %s is %s; it cannot become %s.", r.Number, strings.ReplaceAll(string(r.State), "_", " "), strings.ReplaceAll(string(to), "_", " "))}
		}
		set := `state = $2, updated_at = $3`
		if to == Fulfilled || to == Rejected || to == Withdrawn {
			set += `, closed_at = $3`
		}
		if actor == "legal" && r.Answered.IsZero() && to != InReview {
			set += `, answered_at = $3`
			r.Answered = now
		}
		// Only from the state read: on PostgreSQL two people may read it
		// at once, and the second to write must not move it twice.
		res, err := tx.ExecContext(ctx, `UPDATE legal_requests SET `+set+` WHERE id = $1 AND state = $4`, id, string(to), sqldb.Micros(now), string(r.State))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return &kurir.Error{Code: kurir.EConflict, Reason: "wrong_state",
				Message: fmt.Sprintf("Request %s changed while this was being done; look at it again.", r.Number)}
		}
		r.State, r.Updated = to, now
		if also != nil {
			if err := also(tx, &r, now); err != nil {
				return err
			}
		}
		if err := event(ctx, tx, id, now, actor, actorID, string(to), note, false); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.request."+string(to), "legal_request:"+r.Number, note)
	})
	return r, err
}

// StartReview takes a received request into legal review.
func (s *Service) StartReview(ctx context.Context, by Staff, id int64) (Request, error) {
	if err := mayReview(by); err != nil {
		return Request{}, err
	}
	return s.transition(ctx, id, []State{Received}, InReview, "legal", int64(by.ID), by, "", nil)
}

// AskInfo asks the officer for more information; the question is on the
// timeline they see.
func (s *Service) AskInfo(ctx context.Context, by Staff, id int64, question string) (Request, error) {
	if err := mayReview(by); err != nil {
		return Request{}, err
	}
	q, err := cleanText("question", "question", question, 5000, true)
	if err != nil {
		return Request{}, err
	}
	return s.transition(ctx, id, []State{Received, InReview}, NeedsInfo, "legal", int64(by.ID), by, q, nil)
}

// Respond is the officer's answer to a request for more information; the
// request goes back into review.
func (s *Service) Respond(ctx context.Context, sess OfficerSession, id int64, answer string) (Request, error) {
	if err := RequireReady(sess); err != nil {
		return Request{}, err
	}
	a, err := cleanText("answer", "answer", answer, 10000, true)
	if err != nil {
		return Request{}, err
	}
	if _, err := s.ownRequest(ctx, s.db.Read(), sess, id); err != nil {
		return Request{}, err
	}
	return s.transition(ctx, id, []State{NeedsInfo}, InReview, "officer", sess.Officer.ID, Staff{}, a, nil)
}

// Withdraw is the officer taking their request back. What a removal order
// put in place is lifted; preservation holds stay until they expire.
func (s *Service) Withdraw(ctx context.Context, sess OfficerSession, id int64, reason string) (Request, error) {
	if err := RequireReady(sess); err != nil {
		return Request{}, err
	}
	reason, err := cleanText("reason", "reason", reason, 2000, false)
	if err != nil {
		return Request{}, err
	}
	if _, err := s.ownRequest(ctx, s.db.Read(), sess, id); err != nil {
		return Request{}, err
	}
	r, err := s.transition(ctx, id, []State{Received, InReview, NeedsInfo, Approved}, Withdrawn, "officer", sess.Officer.ID, Staff{}, reason, nil)
	if err == nil && r.Kind == Removal {
		s.lift(ctx, r, Staff{Role: kurir.RoleLegal}, "The authority withdrew its removal order "+r.Number+".")
	}
	return r, err
}

// Approve approves a request with the data categories the legal team
// allows, which may be fewer than asked; content only under a warrant.
// reason says why, and is on the officer's timeline.
func (s *Service) Approve(ctx context.Context, by Staff, id int64, categories []Category, reason string) (Request, error) {
	if err := mayReview(by); err != nil {
		return Request{}, err
	}
	reason, err := cleanText("reason", "reason", reason, 5000, false)
	if err != nil {
		return Request{}, err
	}
	return s.transition(ctx, id, []State{Received, InReview}, Approved, "legal", int64(by.ID), by, approvalNote(categories, reason),
		func(tx *sqldb.Tx, r *Request, now time.Time) error {
			var approved []Category
			for _, c := range categories {
				if !slices.Contains(r.Categories, c) {
					return kurir.Invalid("categories", "not_requested", "The request did not ask for %q; approve only what it asks for.", c)
				}
				if c == Content && !slices.Contains(contentProcesses, r.Process) {
					return &kurir.Error{Code: kurir.EInvalid, Field: "categories", Reason: "content_needs_warrant",
						Message: "Content is disclosed only under a warrant or a mutual legal assistance request; this request rests on " + string(r.Process) + "."}
				}
				if !slices.Contains(approved, c) {
					approved = append(approved, c)
				}
			}
			if (r.Kind == Disclosure || r.Kind == Emergency) && len(approved) == 0 {
				return kurir.Invalid("categories", "required", "Approve at least one data category, or reject the request.")
			}
			r.Approved, r.Decision = approved, reason
			_, err := tx.ExecContext(ctx, `UPDATE legal_requests SET approved = $2, decision = $3 WHERE id = $1`, id, joinCategories(approved), reason)
			return err
		})
}

func approvalNote(cs []Category, reason string) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	note := "Approved"
	if len(names) > 0 {
		note += ": " + strings.Join(names, ", ")
	}
	if reason != "" {
		note += ". " + reason
	}
	return note
}

// Reject refuses a request, with reasons on the officer's timeline. A
// removal order that is rejected is contested: what it put in place is
// lifted, and the owners' statements say so.
func (s *Service) Reject(ctx context.Context, by Staff, id int64, reason string) (Request, error) {
	if err := mayReview(by); err != nil {
		return Request{}, err
	}
	reason, err := cleanText("reason", "reason", reason, 5000, true)
	if err != nil {
		return Request{}, err
	}
	r, err := s.transition(ctx, id, []State{Received, InReview, NeedsInfo}, Rejected, "legal", int64(by.ID), by, reason,
		func(tx *sqldb.Tx, r *Request, now time.Time) error {
			r.Decision = reason
			_, err := tx.ExecContext(ctx, `UPDATE legal_requests SET decision = $2 WHERE id = $1`, id, reason)
			return err
		})
	if err == nil && r.Kind == Removal {
		s.lift(ctx, r, by, "The removal order "+r.Number+" was contested by the legal team: "+reason)
	}
	return r, err
}

// Fulfil completes an approved request: for a disclosure, the package of
// the approved categories is built and offered to the officer; users are
// told unless a non-disclosure order stands.
func (s *Service) Fulfil(ctx context.Context, by Staff, id int64) (Request, *Package, error) {
	if err := mayReview(by); err != nil {
		return Request{}, nil, err
	}
	r, err := s.request(ctx, s.db.Read(), id)
	if err != nil {
		return Request{}, nil, err
	}
	if r.State != Approved {
		return r, nil, &kurir.Error{Code: kurir.EConflict, Reason: "wrong_state", Message: fmt.Sprintf("Request %s is %s; approve it first.", r.Number, r.State)}
	}
	// The package is made first (it reads much and writes a blob), and
	// recorded with the transition: of two people fulfilling the request at
	// once, one records a package and the other gets EConflict.
	var pkg *Package
	if (r.Kind == Disclosure || r.Kind == Emergency) && len(r.Approved) > 0 {
		p, err := s.makePackage(ctx, r, by)
		if err != nil {
			return r, nil, err
		}
		pkg = &p
	}
	note := "Done."
	if pkg != nil {
		note = fmt.Sprintf("A disclosure package is ready to download (%d bytes, SHA-256 %s).", pkg.Size, pkg.SHA256)
	}
	r, err = s.transition(ctx, id, []State{Approved}, Fulfilled, "legal", int64(by.ID), by, note,
		func(tx *sqldb.Tx, r *Request, now time.Time) error {
			if pkg != nil {
				if err := s.recordPackage(ctx, tx, *r, by, pkg); err != nil {
					return err
				}
			}
			if r.Kind == Disclosure || r.Kind == Emergency {
				return s.noticeUsers(ctx, tx, *r, now)
			}
			return nil
		})
	if err != nil {
		return r, nil, err
	}
	return r, pkg, nil
}

// Note adds an internal note of the legal team to a request's timeline.
func (s *Service) Note(ctx context.Context, by Staff, id int64, text string) error {
	if err := mayReview(by); err != nil {
		return err
	}
	text, err := cleanText("text", "note", text, 5000, true)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		r, err := s.request(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := event(ctx, tx, id, s.now(), "legal", int64(by.ID), "note", text, true); err != nil {
			return err
		}
		return record(ctx, tx, by.ID, by.Role, "legal.request.note", "legal_request:"+r.Number, text)
	})
}

// lift reverses every restriction a removal order put in place.
func (s *Service) lift(ctx context.Context, r Request, by Staff, reason string) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, ref_id FROM legal_effects WHERE request_id = $1 AND kind = 'restriction' AND ended_at = 0`, r.ID)
	if err != nil {
		s.log.Error("list a removal order's effects", "request", r.Number, "err", err)
		return
	}
	type eff struct{ id, action int64 }
	var effs []eff
	for rows.Next() {
		var e eff
		if err := rows.Scan(&e.id, &e.action); err == nil {
			effs = append(effs, e)
		}
	}
	rows.Close()
	for _, e := range effs {
		if err := s.mod.ReverseOrder(ctx, by, e.action, reason); err != nil && kurir.ErrorCode(err) != kurir.EConflict {
			s.log.Error("lift a removal order's restriction", "request", r.Number, "action", e.action, "err", err)
			continue
		}
		err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE legal_effects SET ended_at = $2 WHERE id = $1`, e.id, sqldb.Micros(s.now())); err != nil {
				return err
			}
			return event(ctx, tx, r.ID, s.now(), "system", 0, "lifted", "The content is available again where it was withheld.", false)
		})
		if err != nil {
			s.log.Error("record a lifted restriction", "request", r.Number, "err", err)
		}
	}
}

// Emergencies returns the open emergency requests, oldest first: the
// console's banner.
func (s *Service) Emergencies(ctx context.Context, by Staff) ([]Request, error) {
	if err := mayReview(by); err != nil {
		return nil, err
	}
	return requests(ctx, s.db.Read(), `kind = 'emergency' AND state IN ('received', 'in_review', 'needs_info', 'approved')`, `id`)
}

func joinCategories(cs []Category) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func splitCategories(s string) []Category {
	var out []Category
	for _, c := range strings.Split(s, ",") {
		if c != "" {
			out = append(out, Category(c))
		}
	}
	return out
}

func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return sqldb.Micros(t)
}

func optTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return sqldb.FromMicros(us)
}
