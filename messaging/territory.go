package messaging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kurir"
	"kurir/sqldb"
)

// This file holds territorial restrictions: a chat, or one message of it,
// withheld from readers in some countries only, because the law there
// forbids it, while the rest of the world reads it as before.
//
// A reader's countries come with the request (kurir.LocationFrom). Every
// read path asks the same question of the same data: history, sync, live
// push, media, search and lookup by @name. The active restrictions are few
// next to the messages, so every node keeps them all in memory, and a read
// pays a map lookup for them. A node reloads them when the version row
// moves: at once on the node that made the change and, on the others, when
// the change's event reaches them or within a second (RunRestrictionSync).

// Territory is what jurisdictions decide about where a restriction applies;
// kurir/jurisdiction implements it. Without one, a scope is a list of
// countries and nothing else.
type Territory interface {
	// Scope checks a restriction's scope, a list of countries and groups
	// of them (such as EU), returning it normalised, or an EInvalid error
	// naming what it does not know.
	Scope(codes []string) ([]string, error)
	// Applies reports whether a restriction of scope and category applies
	// to a reader in country: the country is in the scope or, for an empty
	// scope, its rules make the category illegal. legalRef is the law the
	// country's rule names, if a rule decided it.
	Applies(country string, scope []string, category string) (legalRef string, ok bool)
}

// Restriction withholds a chat, or one message of it, from readers in some
// countries.
type Restriction struct {
	ID   int64
	Chat ChatID
	Seq  int64 // the message; 0 for the whole chat
	// Scope are the countries and groups where it applies; empty means
	// wherever a country's rules make Category illegal, now or later.
	Scope    []string
	Category string
	Reason   string // what readers where it applies are told
	LegalRef string
	At       time.Time
}

// restrictionSet is one node's copy of the active restrictions, immutable
// once loaded.
type restrictionSet struct {
	version int64
	chats   map[ChatID]*chatRestrictions
}

type chatRestrictions struct {
	whole []*Restriction
	msgs  map[int64][]*Restriction
}

// restrictionState is what the Service keeps of restrictions.
type restrictionState struct {
	set  atomic.Pointer[restrictionSet]
	load sync.Mutex // one reload at a time
}

// Restrict withholds r.Chat, or message r.Seq of it, where r.Scope says. It
// takes effect at once on this node and within a second on the others, and
// devices following the chat are told to fetch it again.
func (s *Service) Restrict(ctx context.Context, r Restriction) (Restriction, error) {
	reason, err := cleanText("reason", "reason", r.Reason, 500, false)
	if err != nil {
		return Restriction{}, err
	}
	ref, err := cleanText("legal_reference", "legal reference", r.LegalRef, 500, true)
	if err != nil {
		return Restriction{}, err
	}
	scope, err := s.scope(r.Scope)
	if err != nil {
		return Restriction{}, err
	}
	if len(scope) == 0 && r.Category == "" {
		return Restriction{}, kurir.Invalid("countries", "no_scope", "Name the countries to withhold it in, or a category whose country rules decide where.")
	}
	r.Reason, r.LegalRef, r.Scope = reason, ref, scope
	r.At = s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	err = s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		c, err := loadChat(ctx, tx, r.Chat, 0)
		if err != nil {
			return err
		}
		if r.Seq == 0 && c.kind == Private {
			return kurir.Errorf(kurir.EInvalid, "A private chat cannot be withheld as a whole; restrict a message of it instead.")
		}
		if r.Seq != 0 {
			if _, err := getMessage(ctx, tx, r.Chat, r.Seq); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO restrictions (chat_id, seq, scope, category, reason, legal_ref, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			r.Chat, r.Seq, strings.Join(r.Scope, ","), r.Category, r.Reason, r.LegalRef, sqldb.Micros(r.At)).Scan(&r.ID); err != nil {
			return fmt.Errorf("record restriction: %w", err)
		}
		n, err = s.restrictionChanged(ctx, tx, r.Chat, r.Seq, EventRestricted, r.At)
		return err
	})
	if err != nil {
		return Restriction{}, err
	}
	s.afterRestrictionChange(ctx, n)
	return r, nil
}

// Unrestrict lifts restriction id: the chat or message is back for readers
// where it was withheld.
func (s *Service) Unrestrict(ctx context.Context, id int64) error {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var n *Notice
	err := s.db.WriteTx(ctx, func(tx *sqldb.Tx) error {
		var chat ChatID
		var seq, lifted int64
		err := tx.QueryRowContext(ctx, `SELECT chat_id, seq, lifted_at FROM restrictions WHERE id = $1`, id).Scan(&chat, &seq, &lifted)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return kurir.Errorf(kurir.ENotFound, "No restriction %d.", id)
			}
			return err
		}
		if lifted != 0 {
			return kurir.Errorf(kurir.EConflict, "Restriction %d was already lifted.", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE restrictions SET lifted_at = $2 WHERE id = $1`, id, sqldb.Micros(now)); err != nil {
			return err
		}
		n, err = s.restrictionChanged(ctx, tx, chat, seq, EventUnrestricted, now)
		return err
	})
	if err != nil {
		return err
	}
	s.afterRestrictionChange(ctx, n)
	return nil
}

// restrictionChanged moves the version every node watches and appends the
// event that tells devices.
func (s *Service) restrictionChanged(ctx context.Context, tx *sqldb.Tx, chat ChatID, seq int64, kind EventKind, at time.Time) (*Notice, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE restriction_version SET version = version + 1 WHERE id = 1`); err != nil {
		return nil, fmt.Errorf("restriction version: %w", err)
	}
	return appendEvent(ctx, tx, &Event{ChatID: chat, Kind: kind, MessageSeq: seq, At: at}, false)
}

// afterRestrictionChange reloads this node's copy, then announces the
// change: a device told to fetch the chat again must find it as it now is.
func (s *Service) afterRestrictionChange(ctx context.Context, n *Notice) {
	if err := s.SyncRestrictions(context.WithoutCancel(ctx)); err != nil {
		s.log.Error("reload restrictions after a change", "err", err)
	}
	s.publish(ctx, n)
}

// Restrictions returns the active restrictions of a chat and its messages,
// oldest first, for moderators.
func (s *Service) Restrictions(ctx context.Context, chat ChatID) ([]Restriction, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+restrictionColumns+` FROM restrictions
		WHERE chat_id = $1 AND lifted_at = 0 ORDER BY id`, chat)
	if err != nil {
		return nil, fmt.Errorf("restrictions of chat %d: %w", chat, err)
	}
	defer rows.Close()
	var out []Restriction
	for rows.Next() {
		r, err := scanRestriction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const restrictionColumns = `id, chat_id, seq, scope, category, reason, legal_ref, created_at`

func scanRestriction(row interface{ Scan(...any) error }) (Restriction, error) {
	var r Restriction
	var scope string
	var at int64
	if err := row.Scan(&r.ID, &r.Chat, &r.Seq, &scope, &r.Category, &r.Reason, &r.LegalRef, &at); err != nil {
		return r, err
	}
	if scope != "" {
		r.Scope = strings.Split(scope, ",")
	}
	r.At = sqldb.FromMicros(at)
	return r, nil
}

// scope normalises a restriction's scope with the Territory, or as plain
// country codes without one.
func (s *Service) scope(codes []string) ([]string, error) {
	if s.cfg.Territory != nil {
		return s.cfg.Territory.Scope(codes)
	}
	var out []string
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !kurir.IsCountry(c) {
			return nil, kurir.Invalid("countries", "unknown_country", "%q is not an ISO 3166-1 alpha-2 country code.", c)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// SyncRestrictions reloads this node's copy of the restrictions if any
// changed since it was loaded.
func (s *Service) SyncRestrictions(ctx context.Context) error {
	_, err := s.loadRestrictions(ctx)
	return err
}

// RunRestrictionSync calls SyncRestrictions every interval until ctx ends,
// so that a change made on another node applies here within interval.
func (s *Service) RunRestrictionSync(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.SyncRestrictions(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reload restrictions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// restrictions returns this node's copy of the active restrictions, loading
// it on first use.
func (s *Service) restrictions(ctx context.Context) (*restrictionSet, error) {
	if rs := s.restr.set.Load(); rs != nil {
		return rs, nil
	}
	return s.loadRestrictions(ctx)
}

func (s *Service) loadRestrictions(ctx context.Context) (*restrictionSet, error) {
	s.restr.load.Lock()
	defer s.restr.load.Unlock()
	cur := s.restr.set.Load()
	var version int64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT version FROM restriction_version WHERE id = 1`).Scan(&version); err != nil {
		return nil, fmt.Errorf("restriction version: %w", err)
	}
	if cur != nil && cur.version == version {
		return cur, nil
	}
	rs := &restrictionSet{chats: map[ChatID]*chatRestrictions{}}
	err := s.db.ReadTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT version FROM restriction_version WHERE id = 1`).Scan(&rs.version); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+restrictionColumns+` FROM restrictions WHERE lifted_at = 0`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRestriction(rows)
			if err != nil {
				return err
			}
			cr := rs.chats[r.Chat]
			if cr == nil {
				cr = &chatRestrictions{}
				rs.chats[r.Chat] = cr
			}
			if r.Seq == 0 {
				cr.whole = append(cr.whole, &r)
				continue
			}
			if cr.msgs == nil {
				cr.msgs = map[int64][]*Restriction{}
			}
			cr.msgs[r.Seq] = append(cr.msgs[r.Seq], &r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("load restrictions: %w", err)
	}
	s.restr.set.Store(rs)
	return rs, nil
}

// withholding is why message seq of chat (0: the chat itself) is withheld
// from a reader at loc, or nil if it is not. A restriction of the whole chat
// withholds every message of it.
func (s *Service) withholding(rs *restrictionSet, loc kurir.Location, chat ChatID, seq int64) *Withholding {
	cr := rs.chats[chat]
	if cr == nil {
		return nil
	}
	if w := s.firstApplying(cr.whole, loc); w != nil {
		return w
	}
	if seq == 0 {
		return nil
	}
	return s.firstApplying(cr.msgs[seq], loc)
}

// withheldMessage is why m is withheld from a reader at loc: its own
// restriction or its chat's, or, for a forwarded copy, the original's, so
// that forwarding does not carry content past a restriction.
func (s *Service) withheldMessage(rs *restrictionSet, loc kurir.Location, m *Message, ownChecked bool) *Withholding {
	if !ownChecked {
		if w := s.withholding(rs, loc, m.ChatID, m.Seq); w != nil {
			return w
		}
	}
	if m.Forward != nil {
		return s.withholding(rs, loc, m.Forward.ChatID, m.Forward.Seq)
	}
	return nil
}

func (s *Service) firstApplying(rs []*Restriction, loc kurir.Location) *Withholding {
	for _, r := range rs {
		for i, c := range [2]string{loc.Network, loc.Declared} {
			if c == "" || (i == 1 && c == loc.Network) {
				continue
			}
			if ref, ok := s.applies(r, c); ok {
				w := &Withholding{Country: c, Category: r.Category, Reason: r.Reason, LegalRef: r.LegalRef}
				if w.LegalRef == "" {
					w.LegalRef = ref
				}
				return w
			}
		}
	}
	return nil
}

func (s *Service) applies(r *Restriction, country string) (string, bool) {
	if s.cfg.Territory != nil {
		return s.cfg.Territory.Applies(country, r.Scope, r.Category)
	}
	return "", slices.Contains(r.Scope, country)
}

// territorial marks c withheld if it is for the request's reader.
func (s *Service) territorial(ctx context.Context, c *chatRow) error {
	loc := kurir.LocationFrom(ctx)
	if loc == (kurir.Location{}) {
		return nil
	}
	rs, err := s.restrictions(ctx)
	if err != nil {
		return err
	}
	c.withheld = s.withholding(rs, loc, c.id, 0)
	return nil
}

// loadChat is the package's loadChat, with the chat marked withheld if it
// is for the request's reader.
func (s *Service) loadChat(ctx context.Context, q sqldb.Querier, id ChatID, user kurir.UserID) (*chatRow, error) {
	c, err := loadChat(ctx, q, id, user)
	if err != nil {
		return nil, err
	}
	if err := s.territorial(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// withheldErr is the answer for a chat withheld where the reader is.
func withheldErr(kind Kind, w *Withholding) error {
	msg := fmt.Sprintf("This %s is not available in your country (%s): %s", kind, w.Country, w.Reason)
	if w.LegalRef != "" {
		msg += " (" + w.LegalRef + ")"
	}
	return &kurir.Error{Code: kurir.ELegal, Reason: "withheld_in_country", Country: w.Country, Message: msg + "."}
}

// withheldView is what a reader where m is withheld sees of it: that it is
// there, who sent it and when, but nothing it says.
func withheldView(m *Message, w *Withholding) *Message {
	return &Message{ChatID: m.ChatID, Seq: m.Seq, SenderID: m.SenderID, ReplyTo: m.ReplyTo, CreatedAt: m.CreatedAt,
		EditedAt: m.EditedAt, Deleted: m.Deleted, Held: m.Held, Withheld: w}
}

// withholdMessages replaces the messages withheld for the request's reader
// with what they may see of them.
func (s *Service) withholdMessages(ctx context.Context, msgs []Message) error {
	loc := kurir.LocationFrom(ctx)
	if loc == (kurir.Location{}) || len(msgs) == 0 {
		return nil
	}
	rs, err := s.restrictions(ctx)
	if err != nil {
		return err
	}
	var chat ChatID
	none := false
	for i := range msgs {
		if i == 0 || msgs[i].ChatID != chat { // a page is of one chat: look it up once
			chat = msgs[i].ChatID
			none = rs.chats[chat] == nil
		}
		w := s.withheldMessage(rs, loc, &msgs[i], none)
		if w != nil {
			msgs[i] = *withheldView(&msgs[i], w)
		}
	}
	return nil
}

// withholdEvents does withholdMessages for the messages events carry.
func (s *Service) withholdEvents(ctx context.Context, evs []*Event) error {
	loc := kurir.LocationFrom(ctx)
	if loc == (kurir.Location{}) {
		return nil
	}
	rs, err := s.restrictions(ctx)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		if ev.Message == nil {
			continue
		}
		if w := s.withheldMessage(rs, loc, ev.Message, false); w != nil {
			ev.Message = withheldView(ev.Message, w)
		}
	}
	return nil
}

// LiveRestricted reports whether live pushes of ev must be checked against
// each device's location with LiveView: false for nearly every event. A
// restriction's own event first brings this node's copy up to date, so
// that what follows it on the bus is filtered by it.
func (s *Service) LiveRestricted(ev Event) bool {
	ctx := context.Background()
	if ev.Kind == EventRestricted || ev.Kind == EventUnrestricted {
		if err := s.SyncRestrictions(ctx); err != nil {
			s.log.Error("reload restrictions on a restriction event", "chat", ev.ChatID, "err", err)
		}
		return false
	}
	if ev.Message == nil {
		return false
	}
	rs, err := s.restrictions(ctx)
	if err != nil {
		s.log.Error("load restrictions for live push", "err", err)
		return false
	}
	if f := ev.Message.Forward; f != nil && rs.chats[f.ChatID] != nil {
		return true
	}
	return rs.chats[ev.ChatID] != nil
}

// LiveView returns ev as a device at loc may see it pushed live, and
// whether it differs from ev: its message withheld where the device is.
func (s *Service) LiveView(loc kurir.Location, ev Event) (Event, bool) {
	rs := s.restr.set.Load()
	if rs == nil || ev.Message == nil {
		return ev, false
	}
	w := s.withheldMessage(rs, loc, ev.Message, false)
	if w == nil {
		return ev, false
	}
	ev.Message = withheldView(ev.Message, w)
	return ev, true
}
