package safety

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"kurir"
	"kurir/messaging"
	"kurir/ratelimit"
	"kurir/safety/textscan"
)

// Limits are the spam and abuse heuristics applied to messages: every
// message, with text, a file or forwarded. A zero Limit turns its check
// off.
type Limits struct {
	// PerAccount bounds how fast one account sends messages, in all chats
	// together (default 20 at once, then one a second).
	PerAccount ratelimit.Limit
	// SameText bounds how often one account sends the same content, in
	// any chats: the same text (after normalisation, 16 bytes or more),
	// the same file or a forward of the same message. It is the pattern
	// of spam pasted into many groups (default 5 at once, then one a
	// minute).
	SameText ratelimit.Limit
	// MaxMentions is the most @mentions one message may carry (default 25).
	MaxMentions int
	// NewAccount bounds how fast an account younger than NewAccountAge
	// sends, on top of PerAccount: throwaway accounts made for spam are
	// new (default 10 at once, then one every 3 seconds, for a day).
	NewAccount    ratelimit.Limit
	NewAccountAge time.Duration
	// Flood catches the same content sent by many accounts (see Flood).
	Flood Flood
	// Escalate opens a case about an account that keeps hitting the
	// limits (see Escalate).
	Escalate Escalate
}

// Escalate is when refusals become a matter for a person: the
// Refusals-th message of one account refused by a limit within Window
// (each node counting its own) records a signal about the account, so
// moderation opens a case on it; at most one per Window. A limit alone
// slows a spammer down; one who keeps pushing against it is worth a look.
// Zero Refusals or Window turns it off.
type Escalate struct {
	Refusals int
	Window   time.Duration
}

// Flood is the limit on one content sent by many accounts at once, the
// pattern of a spam campaign run from many throwaway accounts, which no
// per-account limit sees. Content is counted as SameText counts it, except
// forwards: forwarding a post is how people share it, and the post itself
// was checked when it was posted. Once Senders distinct accounts have sent
// it within Window, the copy that made it a flood is flagged (Action
// textscan.Flag: delivered and recorded for review, once a window, so a
// popular text does not put every sender in the queue), or it and every
// further copy in that window are held (textscan.Hold: stored unseen until
// a moderator decides). Zero Senders or Window turns it off.
type Flood struct {
	Senders int
	Window  time.Duration
	Action  textscan.Action
}

// AccountAge tells how long ago an account was created; the heuristics
// ask it about the senders of messages when NewAccount is set.
type AccountAge func(ctx context.Context, user kurir.UserID) (time.Duration, error)

// MediaHash tells the content hash of a file its owner attaches, so that
// the same file uploaded again counts as the same content. On an error the
// file counts as itself only.
type MediaHash func(ctx context.Context, owner kurir.UserID, media int64) (string, error)

// DefaultLimits are the heuristics a production server applies.
var DefaultLimits = Limits{
	PerAccount:    ratelimit.Limit{Every: time.Second, Burst: 20},
	SameText:      ratelimit.Limit{Every: time.Minute, Burst: 5},
	MaxMentions:   25,
	NewAccount:    ratelimit.Limit{Every: 3 * time.Second, Burst: 10},
	NewAccountAge: 24 * time.Hour,
	Flood:         Flood{Senders: 20, Window: 10 * time.Minute, Action: textscan.Flag},
	Escalate:      Escalate{Refusals: 10, Window: time.Hour},
}

// Validate reports limits that cannot work: a negative number, or a flood
// action other than flag or hold.
func (l Limits) Validate() error {
	for _, x := range []struct {
		name string
		l    ratelimit.Limit
	}{{"per-account", l.PerAccount}, {"same-text", l.SameText}, {"new-account", l.NewAccount}} {
		if x.l.Every < 0 || x.l.Burst < 0 || x.l.Every > 0 && x.l.Burst == 0 {
			return fmt.Errorf("%s limit: want a burst of at least 1 and an interval, or off", x.name)
		}
	}
	switch {
	case l.MaxMentions < 0:
		return errors.New("most mentions: want 0 (off) or more")
	case l.NewAccountAge < 0:
		return errors.New("new-account age: want 0 (off) or more")
	case l.Escalate.Refusals < 0 || l.Escalate.Window < 0:
		return errors.New("escalation: want a number of refusals and a window, or off")
	case l.Flood.Senders < 0 || l.Flood.Window < 0:
		return errors.New("flood: want a number of accounts and a window, or off")
	case l.Flood.Senders > 0 && l.Flood.Action != textscan.Flag && l.Flood.Action != textscan.Hold:
		return fmt.Errorf("flood action %s: want flag or hold", l.Flood.Action)
	}
	return nil
}

// ParseLimit reads a limit written N/INTERVAL, as in "20/1s": N at once,
// then one every INTERVAL. "off" (or "0") is no limit: the zero Limit.
func ParseLimit(s string) (ratelimit.Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return ratelimit.Limit{}, nil
	}
	n, every, ok := strings.Cut(s, "/")
	burst, err := strconv.Atoi(n)
	if !ok || err != nil || burst < 1 {
		return ratelimit.Limit{}, fmt.Errorf("limit %q: want N/INTERVAL, such as 20/1s, or off", s)
	}
	d, err := time.ParseDuration(every)
	if err != nil || d <= 0 {
		return ratelimit.Limit{}, fmt.Errorf("limit %q: want N/INTERVAL with an interval such as 1s or 10m, or off", s)
	}
	return ratelimit.Limit{Every: d, Burst: burst}, nil
}

type heuristics struct {
	limits     Limits
	perAuthor  *ratelimit.Limiter
	sameText   *ratelimit.Limiter
	newAccount *ratelimit.Limiter
	age        AccountAge
	clock      kurir.Clock
	seed       maphash.Seed

	mu   sync.Mutex
	seen map[kurir.UserID]time.Time // when each sender was created, as far as they are new

	floodMu sync.Mutex
	floods  map[uint64]floodWindow // by content key

	refusedMu sync.Mutex
	refusals  map[kurir.UserID]refusalWindow
}

// refusalWindow counts an account's refusals since start.
type refusalWindow struct {
	start time.Time
	n     int
}

// refused counts a refusal of user's message and reports whether it is
// the one that escalates (see Escalate).
func (h *heuristics) refused(user kurir.UserID) (int, bool) {
	e := h.limits.Escalate
	if e.Refusals <= 0 || e.Window <= 0 {
		return 0, false
	}
	now := h.clock.Now()
	h.refusedMu.Lock()
	defer h.refusedMu.Unlock()
	w, ok := h.refusals[user]
	if !ok || now.Sub(w.start) >= e.Window {
		if !ok && len(h.refusals) >= maxFloodKeys {
			for u, w := range h.refusals {
				if now.Sub(w.start) >= e.Window {
					delete(h.refusals, u)
				}
			}
			if len(h.refusals) >= maxFloodKeys {
				clear(h.refusals) // errs on the side of no case
			}
		}
		w = refusalWindow{start: now}
	}
	w.n++
	h.refusals[user] = w
	return w.n, w.n == e.Refusals
}

// floodWindow counts the distinct senders of one content since start, up
// to Flood.Senders: past that it is a flood (see Flood).
// Most content is sent once, so the first sender is kept inline.
type floodWindow struct {
	start   time.Time
	first   kurir.UserID
	senders []kurir.UserID // the others, in the order they came
	flagged bool           // the flood was flagged (Action textscan.Flag)
}

func (w *floodWindow) count() int { return 1 + len(w.senders) }

// maxFloodKeys bounds the contents counted at once, so a stream of unique
// texts cannot grow the map without end.
const maxFloodKeys = 200_000

func newHeuristics(l Limits, clock kurir.Clock, age AccountAge) *heuristics {
	h := &heuristics{limits: l, seed: maphash.MakeSeed(), age: age, clock: clock, seen: map[kurir.UserID]time.Time{},
		floods: map[uint64]floodWindow{}, refusals: map[kurir.UserID]refusalWindow{}}
	if l.NewAccount.Every > 0 && l.NewAccountAge > 0 && age != nil {
		h.newAccount = ratelimit.New(l.NewAccount, clock, 1_000_000)
	}
	if l.PerAccount.Every > 0 {
		h.perAuthor = ratelimit.New(l.PerAccount, clock, 1_000_000)
	}
	if l.SameText.Every > 0 {
		h.sameText = ratelimit.New(l.SameText, clock, 1_000_000)
	}
	return h
}

// minRepeatedText is the shortest text the limits on the same content
// count: short replies ("ok", "thanks") repeat innocently.
const minRepeatedText = 16

// check applies the heuristics to a message; other fields pass.
// normalized is textscan.Normalize(c.Text) when the text is at least
// minRepeatedText long. A limit exceeded is an error, the author's
// answer; a flood is a result to act on like a rule's (Allow when there
// is none).
func (h *heuristics) check(ctx context.Context, c messaging.Content, normalized string, mediaHash MediaHash) (textscan.Result, error) {
	none := textscan.Result{}
	if c.Field != "text" {
		return none, nil
	}
	author := strconv.FormatInt(int64(c.Author), 10)
	if h.perAuthor != nil {
		if ok, retry := h.perAuthor.Allow(author); !ok {
			return none, &kurir.Error{Code: kurir.ERateLimited, Reason: "sending_too_fast", RetryAfter: retry,
				Message: fmt.Sprintf("You are sending messages too fast; wait %s.", roundUp(retry))}
		}
	}
	if h.newAccount != nil {
		young, err := h.isNew(ctx, c.Author)
		if err != nil {
			return none, err
		}
		if young {
			if ok, retry := h.newAccount.Allow(author); !ok {
				return none, &kurir.Error{Code: kurir.ERateLimited, Reason: "new_account_limit", RetryAfter: retry,
					Message: fmt.Sprintf("New accounts may send only a few messages at a time; wait %s.", roundUp(retry))}
			}
		}
	}
	if max := h.limits.MaxMentions; max > 0 {
		if n := mentions(c.Text); n > max {
			return none, &kurir.Error{Code: kurir.EForbidden, Reason: "too_many_mentions", Field: "text",
				Message: fmt.Sprintf("This message mentions %d people; at most %d may be mentioned at once.", n, max)}
		}
	}
	if h.sameText == nil && h.limits.Flood.Senders <= 0 {
		return none, nil
	}
	keys := h.contentKeys(ctx, c, normalized, mediaHash)
	if h.sameText != nil {
		for _, k := range keys {
			if ok, retry := h.sameText.Allow(author + ":" + strconv.FormatUint(k.hash, 36)); !ok {
				return none, &kurir.Error{Code: kurir.ERateLimited, Reason: "repeated_message", RetryAfter: retry,
					Message: fmt.Sprintf("You have sent this same message many times; wait %s before sending it again.", roundUp(retry))}
			}
		}
	}
	flooded := 0
	for _, k := range keys { // every key counts the sender, whichever floods
		if k.forward {
			continue
		}
		if n, ok := h.flood(k.hash, c.Author); ok {
			flooded = max(flooded, n)
		}
	}
	if flooded == 0 {
		return none, nil
	}
	f := h.limits.Flood
	return textscan.Result{Action: f.Action, Categories: []string{"SPAM"}, Severity: 3,
		Rules: []string{fmt.Sprintf("flood: the same content from %d accounts within %s", flooded, f.Window)}}, nil
}

// contentKey names one content a message carries: a 64-bit hash, each
// kind of content with its own prefix, and whether it is a forward.
type contentKey struct {
	hash    uint64
	forward bool
}

// contentKeys names what a message carries, for the limits on the same
// content: its text in normal form (if at least minRepeatedText long),
// its file and the message it forwards.
func (h *heuristics) contentKeys(ctx context.Context, c messaging.Content, normalized string, mediaHash MediaHash) []contentKey {
	keys := make([]contentKey, 0, 3)
	if len(c.Text) >= minRepeatedText {
		var mh maphash.Hash
		mh.SetSeed(h.seed)
		mh.WriteByte('t')
		mh.WriteString(normalized)
		keys = append(keys, contentKey{hash: mh.Sum64()})
	}
	if f := c.Forward; f != nil {
		keys = append(keys, contentKey{hash: maphash.String(h.seed, "f"+strconv.FormatInt(int64(f.ChatID), 10)+":"+strconv.FormatInt(f.Seq, 10)), forward: true})
	}
	if m := c.Media; m != nil {
		key := "m" + strconv.FormatInt(m.MediaID, 10)
		if mediaHash != nil {
			// The same file uploaded again is a new media object with the
			// same content. Should the hash be unknown, the object counts on
			// its own: a limit must not stop a message from being sent.
			if sum, err := mediaHash(ctx, c.Author, m.MediaID); err == nil {
				key = "h" + sum
			}
		}
		keys = append(keys, contentKey{hash: maphash.String(h.seed, key)})
	}
	return keys
}

// flood counts sender as having sent the content named key, and reports
// whether this copy is to be acted on as a flood, with the senders counted:
// with Action textscan.Flag only the copy that made it one (a window is
// flagged once), with textscan.Hold every copy from then on.
func (h *heuristics) flood(key uint64, sender kurir.UserID) (int, bool) {
	f := h.limits.Flood
	if f.Senders <= 0 || f.Window <= 0 {
		return 0, false
	}
	now := h.clock.Now()
	h.floodMu.Lock()
	defer h.floodMu.Unlock()
	w, ok := h.floods[key]
	if !ok || now.Sub(w.start) >= f.Window {
		if !ok && len(h.floods) >= maxFloodKeys {
			h.sweepFloodsLocked(now)
		}
		w = floodWindow{start: now, first: sender}
	} else if n := w.count(); n < f.Senders && w.first != sender && !slices.Contains(w.senders, sender) {
		w.senders = append(w.senders, sender)
	}
	flood := w.count() >= f.Senders
	if flood && f.Action == textscan.Flag {
		flood = !w.flagged
		w.flagged = true
	}
	h.floods[key] = w
	return w.count(), flood
}

// sweepFloodsLocked drops the windows that have ended and, if that frees
// too little, a quarter of the rest, chosen at random (map order): a
// campaign that also sends unique junk to fill the table keeps most of its
// count, where clearing the table would start it again. Call with floodMu
// held.
func (h *heuristics) sweepFloodsLocked(now time.Time) {
	for k, w := range h.floods {
		if now.Sub(w.start) >= h.limits.Flood.Window {
			delete(h.floods, k)
		}
	}
	for k := range h.floods {
		if len(h.floods) < maxFloodKeys*3/4 {
			break
		}
		delete(h.floods, k)
	}
}

// mentions counts the @names in text: words (separated by spaces, commas
// or semicolons) that start with "@" and a letter.
func mentions(text string) int {
	n := 0
	for i := strings.IndexByte(text, '@'); i >= 0; {
		if i+1 < len(text) && (unicode.IsLetter(rune(text[i+1])) || text[i+1] >= 0x80) && startsWord(text[:i]) {
			n++
		}
		j := strings.IndexByte(text[i+1:], '@')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n
}

// startsWord reports whether what follows before starts a word.
func startsWord(before string) bool {
	if before == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(before)
	return unicode.IsSpace(r) || r == ',' || r == ';'
}

func roundUp(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second)
}

// isNew reports whether the account was created less than NewAccountAge
// ago. Creation times are kept for the accounts still new, so a sender
// costs one lookup; an old account is remembered as old (the zero time).
func (h *heuristics) isNew(ctx context.Context, user kurir.UserID) (bool, error) {
	now := h.clock.Now()
	h.mu.Lock()
	created, ok := h.seen[user]
	h.mu.Unlock()
	if !ok {
		age, err := h.age(ctx, user)
		if err != nil {
			return false, fmt.Errorf("account age: %w", err)
		}
		if age < h.limits.NewAccountAge {
			created = now.Add(-age)
		}
		h.mu.Lock()
		if len(h.seen) > 1_000_000 {
			h.seen = map[kurir.UserID]time.Time{}
		}
		h.seen[user] = created
		h.mu.Unlock()
	}
	return !created.IsZero() && now.Sub(created) < h.limits.NewAccountAge, nil
}
