package safety

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"kurir"
	"kurir/messaging"
	"kurir/ratelimit"
	"kurir/safety/textscan"
)

// Limits are the spam and abuse heuristics applied to messages. A zero
// Limit turns its check off.
type Limits struct {
	// PerAccount bounds how fast one account sends messages, in all chats
	// together (default 20 at once, then one a second).
	PerAccount ratelimit.Limit
	// SameText bounds how often one account sends the same text (after
	// normalisation), in any chats: the pattern of spam pasted into many
	// groups (default 5 at once, then one a minute).
	SameText ratelimit.Limit
	// MaxMentions is the most @mentions one message may carry (default 25).
	MaxMentions int
	// NewAccount bounds how fast an account younger than NewAccountAge
	// sends, on top of PerAccount: throwaway accounts made for spam are
	// new (default 10 at once, then one every 3 seconds, for a day).
	NewAccount    ratelimit.Limit
	NewAccountAge time.Duration
}

// AccountAge tells how long ago an account was created; the heuristics
// ask it about the senders of messages when NewAccount is set.
type AccountAge func(ctx context.Context, user kurir.UserID) (time.Duration, error)

// DefaultLimits are the heuristics a production server applies.
var DefaultLimits = Limits{
	PerAccount:    ratelimit.Limit{Every: time.Second, Burst: 20},
	SameText:      ratelimit.Limit{Every: time.Minute, Burst: 5},
	MaxMentions:   25,
	NewAccount:    ratelimit.Limit{Every: 3 * time.Second, Burst: 10},
	NewAccountAge: 24 * time.Hour,
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
}

func newHeuristics(l Limits, clock kurir.Clock, age AccountAge) *heuristics {
	h := &heuristics{limits: l, seed: maphash.MakeSeed(), age: age, clock: clock, seen: map[kurir.UserID]time.Time{}}
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

// check applies the heuristics to a message; other fields pass.
func (h *heuristics) check(ctx context.Context, c messaging.Content) error {
	if c.Field != "text" {
		return nil
	}
	author := strconv.FormatInt(int64(c.Author), 10)
	if h.perAuthor != nil {
		if ok, retry := h.perAuthor.Allow(author); !ok {
			return &kurir.Error{Code: kurir.ERateLimited, Reason: "sending_too_fast", RetryAfter: retry,
				Message: fmt.Sprintf("You are sending messages too fast; wait %s.", roundUp(retry))}
		}
	}
	if h.newAccount != nil {
		young, err := h.isNew(ctx, c.Author)
		if err != nil {
			return err
		}
		if young {
			if ok, retry := h.newAccount.Allow(author); !ok {
				return &kurir.Error{Code: kurir.ERateLimited, Reason: "new_account_limit", RetryAfter: retry,
					Message: fmt.Sprintf("New accounts may send only a few messages at a time; wait %s.", roundUp(retry))}
			}
		}
	}
	if max := h.limits.MaxMentions; max > 0 {
		if n := mentions(c.Text); n > max {
			return &kurir.Error{Code: kurir.EForbidden, Reason: "too_many_mentions", Field: "text",
				Message: fmt.Sprintf("This message mentions %d people; at most %d may be mentioned at once.", n, max)}
		}
	}
	if h.sameText != nil && len(c.Text) >= 16 { // short replies ("ok", "thanks") repeat innocently
		key := author + ":" + strconv.FormatUint(maphash.String(h.seed, textscan.Normalize(c.Text)), 36)
		if ok, retry := h.sameText.Allow(key); !ok {
			return &kurir.Error{Code: kurir.ERateLimited, Reason: "repeated_message", RetryAfter: retry,
				Message: fmt.Sprintf("You have sent this same message many times; wait %s before sending it again.", roundUp(retry))}
		}
	}
	return nil
}

// mentions counts the @names in text.
func mentions(text string) int {
	n := 0
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }) {
		if len(f) > 1 && f[0] == '@' && (unicode.IsLetter(rune(f[1])) || f[1] >= 0x80) {
			n++
		}
	}
	return n
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
