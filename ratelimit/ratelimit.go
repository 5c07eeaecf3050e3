// Package ratelimit limits how often each key may act, for brute-force
// protection on login and registration (keys such as "login-ip:192.0.2.1" or
// "login-user:pavel") and for flood control.
//
// It implements the generic cell rate algorithm (GCRA): each key stores a
// single theoretical arrival time (TAT), the moment at which its allowance
// would be full again. There are no goroutines and no timers; all work happens
// inside the calls, under one of a fixed number of shard locks. Memory is
// bounded by the maxKeys given to New.
package ratelimit

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"kurir"
)

// Limit is a rate: Burst events may happen at once, and the allowance refills
// by one event every Every. Over any window of length d a key is allowed at
// most Burst + d/Every events. Both fields must be positive.
type Limit struct {
	Every time.Duration
	Burst int
}

// Per returns the Limit that allows n events per period, all of which may
// happen at once: Limit{Every: period/n, Burst: n}. Every is truncated to a
// whole nanosecond, so the sustained rate may be a hair above n per period.
// For n <= 0 it returns an invalid Limit, which New rejects.
func Per(n int, period time.Duration) Limit {
	if n <= 0 {
		return Limit{}
	}
	return Limit{Every: period / time.Duration(n), Burst: n}
}

// PerSecond returns Per(n, time.Second).
func PerSecond(n int) Limit { return Per(n, time.Second) }

// PerMinute returns Per(n, time.Minute).
func PerMinute(n int) Limit { return Per(n, time.Minute) }

// PerHour returns Per(n, time.Hour).
func PerHour(n int) Limit { return Per(n, time.Hour) }

// Never is the retryAfter reported when a request can never be allowed
// because it asks for more events than Limit.Burst. It is not a sensible
// Retry-After value: callers should treat it as a permanent refusal.
const Never time.Duration = math.MaxInt64

const (
	// maxShards bounds lock striping; more shards than cores buys little.
	maxShards = 32
	// minShardKeys keeps shards big enough that sampling for eviction has
	// something to choose from and uneven hashing wastes little capacity.
	minShardKeys = 64
	// sampleSize is how many entries are compared to pick an eviction victim,
	// as in Redis's approximated LRU.
	sampleSize = 8
)

// Limiter applies one Limit to many keys. It is safe for concurrent use by
// multiple goroutines. The zero value is not usable; call New.
type Limiter struct {
	every  int64 // Limit.Every in nanoseconds
	burst  int64
	window int64 // every * burst: how far ahead of now a TAT may be
	clock  kurir.Clock
	epoch  time.Time // times are stored as nanoseconds since epoch
	seed   maphash.Seed
	mask   uint64 // len(shards) - 1; len(shards) is a power of two
	shards []shard
}

// shard is one lock stripe. Lock order: a goroutine holds at most one shard
// lock at a time, so there is nothing to order.
type shard struct {
	mu sync.Mutex
	// entries holds each stored key with its state, in no order; a slice
	// rather than the map's values so that eviction can sample it uniformly
	// and an allowed event updates state after a single hash lookup.
	entries []entry
	// index maps each key in entries to its position.
	index map[string]int
	// max is the most entries the shard may hold.
	max int
	// sincePrune counts inserts since the last full scan for expired entries;
	// scans happen at most once per pruneEvery inserts, so their cost is
	// amortised to O(1) per insert even when nothing has expired.
	sincePrune int
	pruneEvery int
	_          [64]byte // keep neighbouring shards' locks off one cache line
}

// entry is one key's state. tat is its theoretical arrival time in
// nanoseconds since Limiter.epoch: the moment its allowance is full again. An
// entry whose tat is not after now is equivalent to an absent one and may be
// deleted at any time.
type entry struct {
	key string
	tat int64
}

// New returns a Limiter that applies l to each key independently, reading the
// time from clock, and holding state for at most maxKeys keys.
//
// Keys are spread over up to 32 shards of equal capacity, so the usable
// capacity is maxKeys rounded down to a multiple of the shard count, and one
// shard may start evicting while others still have room. When a shard is
// full, inserting a new key first drops entries that carry no information
// (allowance already full again); if none can be dropped it evicts, from a
// random sample of 8 entries (or all, if the shard holds no more), the one
// with the earliest TAT, which is the key closest to a full allowance (see
// Allow for what that costs).
//
// New panics if l.Every or l.Burst is not positive, if l.Every*l.Burst
// overflows a time.Duration, if maxKeys is not positive, or if clock is nil.
func New(l Limit, clock kurir.Clock, maxKeys int) *Limiter {
	if l.Every <= 0 || l.Burst <= 0 || int64(l.Burst) > math.MaxInt64/int64(l.Every) {
		panic(fmt.Sprintf("ratelimit: invalid %+v: Every and Burst must be positive and Every*Burst must fit in a time.Duration", l))
	}
	if maxKeys <= 0 {
		panic(fmt.Sprintf("ratelimit: maxKeys is %d, must be positive", maxKeys))
	}
	if clock == nil {
		panic("ratelimit: nil clock")
	}
	n := 1
	for n*2 <= maxShards && n*2*minShardKeys <= maxKeys {
		n *= 2
	}
	per := maxKeys / n
	lim := &Limiter{
		every:  int64(l.Every),
		burst:  int64(l.Burst),
		window: int64(l.Every) * int64(l.Burst),
		clock:  clock,
		epoch:  clock.Now(),
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		shards: make([]shard, n),
	}
	for i := range lim.shards {
		s := &lim.shards[i]
		s.index = make(map[string]int)
		s.max = per
		s.pruneEvery = max(1, per/4)
		s.sincePrune = s.pruneEvery // let the first full shard prune at once
	}
	return lim
}

// Allow reports whether key may act now, and if so records one event. When
// it refuses, retryAfter is how long until one event would be allowed (for a
// Retry-After header); when it allows, retryAfter is 0.
//
// If the key had been evicted to respect maxKeys, it starts again with a full
// allowance: eviction forgives the evicted key's debt. The victim is the
// sampled key with the earliest TAT, so the forgiven debt is at most that of
// the other sampled keys. A key that is being refused has a TAT later than
// now + Every*(Burst-1), while a key that has acted once has one at most
// now + Every. So with Burst >= 2 and maxKeys >= 2, a flood of distinct keys
// that each act once does not evict a refused key: it is chosen only when
// every sampled entry is at least as far in debt (or the sample drew nothing
// but that key, a chance below one in four million).
//
// The key is copied when first stored, so it may alias a larger buffer. Allow
// does not allocate for keys already stored.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	return l.AllowN(key, 1)
}

// AllowN is Allow for n events at once: all n are recorded, or none. If n
// exceeds the Limit's Burst, the request can never succeed: AllowN returns
// false and Never and changes nothing. If n <= 0, AllowN returns true and 0
// and changes nothing.
func (l *Limiter) AllowN(key string, n int) (ok bool, retryAfter time.Duration) {
	if n <= 0 {
		return true, 0
	}
	if int64(n) > l.burst {
		return false, Never
	}
	now := l.now()
	cost := int64(n) * l.every
	s := l.shard(key)
	s.mu.Lock()
	i, found := s.index[key]
	tat := now
	if found {
		tat = max(s.entries[i].tat, now)
	}
	if wait := tat + cost - l.window - now; wait > 0 {
		s.mu.Unlock()
		return false, time.Duration(wait)
	}
	if found {
		s.entries[i].tat = tat + cost
	} else {
		s.makeRoomLocked(now)
		key = strings.Clone(key)
		s.index[key] = len(s.entries)
		s.entries = append(s.entries, entry{key: key, tat: tat + cost})
	}
	s.mu.Unlock()
	return true, 0
}

// Peek reports what Allow(key) would return now, without recording anything.
// It suits limits charged only on failure, such as failed logins per
// account: Peek before checking the password, Allow after it fails. Between
// Peek and Allow other goroutines may act on the same key, so a Peek that
// allowed is a prediction, not a reservation.
func (l *Limiter) Peek(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	s := l.shard(key)
	tat := now
	s.mu.Lock()
	if i, found := s.index[key]; found {
		tat = max(s.entries[i].tat, now)
	}
	s.mu.Unlock()
	if wait := tat + l.every - l.window - now; wait > 0 {
		return false, time.Duration(wait)
	}
	return true, 0
}

// Reset forgets key, giving it a full allowance, as after a successful login
// clears the count of failed attempts. Resetting an unknown key does nothing.
func (l *Limiter) Reset(key string) {
	s := l.shard(key)
	s.mu.Lock()
	if i, found := s.index[key]; found {
		s.removeLocked(i)
	}
	s.mu.Unlock()
}

// now returns the clock's time as nanoseconds since l.epoch. time.Time.Sub
// uses the monotonic reading when both times have one, so wall-clock steps do
// not move limits.
func (l *Limiter) now() int64 {
	return int64(l.clock.Now().Sub(l.epoch))
}

func (l *Limiter) shard(key string) *shard {
	return &l.shards[maphash.String(l.seed, key)&l.mask]
}

// len returns the number of stored keys, for tests.
func (l *Limiter) len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// makeRoomLocked ensures s can take one more key. s.mu must be held.
func (s *shard) makeRoomLocked(now int64) {
	s.sincePrune++
	if len(s.entries) < s.max {
		return
	}
	if s.sincePrune >= s.pruneEvery {
		s.sincePrune = 0
		for i := 0; i < len(s.entries); {
			if s.entries[i].tat <= now {
				s.removeLocked(i) // moves the last entry to i
			} else {
				i++
			}
		}
		if len(s.entries) < s.max {
			return
		}
	}
	victim := 0
	if len(s.entries) <= sampleSize {
		for i := range s.entries {
			if s.entries[i].tat < s.entries[victim].tat {
				victim = i
			}
		}
	} else {
		// Drawn with replacement: that all draws hit one entry has a chance
		// below 9^-7, and avoiding it costs more than it saves.
		victim = rand.IntN(len(s.entries))
		for range sampleSize - 1 {
			if s.entries[victim].tat <= now {
				break // an expired entry costs nothing to drop
			}
			if i := rand.IntN(len(s.entries)); s.entries[i].tat < s.entries[victim].tat {
				victim = i
			}
		}
	}
	s.removeLocked(victim)
}

// removeLocked deletes entries[i], moving the last entry into its place.
// s.mu must be held.
func (s *shard) removeLocked(i int) {
	last := len(s.entries) - 1
	delete(s.index, s.entries[i].key)
	if i != last {
		s.entries[i] = s.entries[last]
		s.index[s.entries[i].key] = i
	}
	s.entries[last] = entry{} // let the key's memory go
	s.entries = s.entries[:last]
}
