package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"kurir"
)

// fakeClock is a kurir.Clock that moves only when told to. It is safe for
// concurrent use.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// op is one call in a scripted scenario, made after advancing the clock.
type op struct {
	advance   time.Duration
	call      string // "allow", "peek" or "reset"
	key       string
	n         int // for "allow"; 0 means 1
	wantOK    bool
	wantRetry time.Duration
}

// run plays ops against a fresh Limiter and reports the first mismatch.
func run(t *testing.T, l Limit, ops []op) {
	t.Helper()
	clock := newFakeClock()
	lim := New(l, clock, 1000)
	for i, o := range ops {
		clock.Advance(o.advance)
		var ok bool
		var retry time.Duration
		switch o.call {
		case "allow":
			n := o.n
			if n == 0 {
				n = 1
			}
			ok, retry = lim.AllowN(o.key, n)
		case "peek":
			ok, retry = lim.Peek(o.key)
		case "reset":
			lim.Reset(o.key)
			continue
		default:
			t.Fatalf("op %d: unknown call %q", i, o.call)
		}
		if ok != o.wantOK || retry != o.wantRetry {
			t.Fatalf("op %d (%s %q n=%d after +%v): got (%v, %v), want (%v, %v)",
				i, o.call, o.key, o.n, o.advance, ok, retry, o.wantOK, o.wantRetry)
		}
	}
}

func TestLimiter(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name  string
		limit Limit
		ops   []op
	}{
		{
			name:  "burst then refusal with exact retryAfter",
			limit: Limit{Every: sec, Burst: 3},
			ops: []op{
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{advance: 300 * time.Millisecond, call: "allow", key: "a", wantOK: false, wantRetry: 700 * time.Millisecond},
				{advance: 699 * time.Millisecond, call: "allow", key: "a", wantOK: false, wantRetry: time.Millisecond},
				{advance: time.Millisecond - 1, call: "allow", key: "a", wantOK: false, wantRetry: 1},
				{advance: 1, call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
			},
		},
		{
			name:  "burst of one",
			limit: PerMinute(1),
			ops: []op{
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: time.Minute},
				{advance: time.Minute, call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: time.Minute},
			},
		},
		{
			name:  "refill one event per Every",
			limit: Limit{Every: sec, Burst: 2},
			ops: []op{
				{call: "allow", key: "a", n: 2, wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{advance: sec, call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{advance: 2 * sec, call: "allow", key: "a", n: 2, wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
			},
		},
		{
			name:  "refill stops at Burst after a long idle",
			limit: Limit{Every: sec, Burst: 2},
			ops: []op{
				{call: "allow", key: "a", n: 2, wantOK: true},
				{advance: time.Hour, call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
			},
		},
		{
			name:  "refused requests are not charged",
			limit: Limit{Every: sec, Burst: 1},
			ops: []op{
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{advance: sec, call: "allow", key: "a", wantOK: true},
			},
		},
		{
			name:  "keys are independent",
			limit: Limit{Every: sec, Burst: 1},
			ops: []op{
				{call: "allow", key: "login-ip:192.0.2.1", wantOK: true},
				{call: "allow", key: "login-ip:192.0.2.1", wantOK: false, wantRetry: sec},
				{call: "allow", key: "login-ip:192.0.2.2", wantOK: true},
				{call: "allow", key: "login-user:pavel", wantOK: true},
				{advance: 400 * time.Millisecond, call: "allow", key: "login-user:pavel", wantOK: false, wantRetry: 600 * time.Millisecond},
				{call: "allow", key: "login-user:jana", wantOK: true},
			},
		},
		{
			name:  "Peek does not consume",
			limit: Limit{Every: sec, Burst: 2},
			ops: []op{
				{call: "peek", key: "a", wantOK: true},
				{call: "peek", key: "a", wantOK: true},
				{call: "peek", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
				{call: "peek", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
				{call: "peek", key: "a", wantOK: false, wantRetry: sec},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
				{advance: 250 * time.Millisecond, call: "peek", key: "a", wantOK: false, wantRetry: 750 * time.Millisecond},
				{advance: 750 * time.Millisecond, call: "peek", key: "a", wantOK: true},
				{call: "allow", key: "a", wantOK: true},
			},
		},
		{
			name:  "Reset restores the full burst",
			limit: Limit{Every: time.Minute, Burst: 2},
			ops: []op{
				{call: "allow", key: "a", n: 2, wantOK: true},
				{call: "allow", key: "b", n: 2, wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: time.Minute},
				{call: "reset", key: "a"},
				{call: "allow", key: "a", n: 2, wantOK: true},
				{call: "allow", key: "b", wantOK: false, wantRetry: time.Minute},
				{call: "reset", key: "never-seen"},
			},
		},
		{
			name:  "AllowN is all or nothing",
			limit: Limit{Every: sec, Burst: 5},
			ops: []op{
				{call: "allow", key: "a", n: 3, wantOK: true},
				{call: "allow", key: "a", n: 3, wantOK: false, wantRetry: sec},
				{call: "allow", key: "a", n: 2, wantOK: true},
				{call: "allow", key: "a", n: 5, wantOK: false, wantRetry: 5 * sec},
			},
		},
		{
			name:  "AllowN above Burst is refused for ever and changes nothing",
			limit: Limit{Every: sec, Burst: 5},
			ops: []op{
				{call: "allow", key: "a", n: 6, wantOK: false, wantRetry: Never},
				{advance: time.Hour, call: "allow", key: "a", n: 6, wantOK: false, wantRetry: Never},
				{call: "allow", key: "a", n: 5, wantOK: true},
			},
		},
		{
			name:  "AllowN of zero or less is allowed and changes nothing",
			limit: Limit{Every: sec, Burst: 1},
			ops: []op{
				{call: "allow", key: "a", wantOK: true},
				{call: "allow", key: "a", n: -1, wantOK: true},
				{call: "allow", key: "a", wantOK: false, wantRetry: sec},
			},
		},
		{
			name:  "clock going backwards does not grant events",
			limit: Limit{Every: sec, Burst: 1},
			ops: []op{
				{call: "allow", key: "a", wantOK: true},
				{advance: -10 * sec, call: "allow", key: "a", wantOK: false, wantRetry: 11 * sec},
				{advance: 11 * sec, call: "allow", key: "a", wantOK: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.limit, tt.ops) })
	}
}

// TestAllowNZero is separate because the scripted ops use n == 0 to mean 1.
func TestAllowNZero(t *testing.T) {
	lim := New(Limit{Every: time.Second, Burst: 1}, newFakeClock(), 10)
	lim.Allow("a")
	if ok, retry := lim.AllowN("a", 0); !ok || retry != 0 {
		t.Errorf("AllowN(0) on exhausted key: got (%v, %v), want (true, 0)", ok, retry)
	}
	if got := lim.len(); got != 1 {
		t.Errorf("stored keys: got %d, want 1", got)
	}
	lim.AllowN("b", 0)
	if got := lim.len(); got != 1 {
		t.Errorf("stored keys after AllowN(new key, 0): got %d, want 1", got)
	}
}

func TestPer(t *testing.T) {
	tests := []struct {
		name string
		got  Limit
		want Limit
	}{
		{"PerSecond(10)", PerSecond(10), Limit{Every: 100 * time.Millisecond, Burst: 10}},
		{"PerMinute(5)", PerMinute(5), Limit{Every: 12 * time.Second, Burst: 5}},
		{"PerHour(60)", PerHour(60), Limit{Every: time.Minute, Burst: 60}},
		{"Per(3, time.Second) truncates", Per(3, time.Second), Limit{Every: 333333333, Burst: 3}},
		{"Per(0, time.Second) is invalid", Per(0, time.Second), Limit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
}

func TestNewPanicsOnInvalidInput(t *testing.T) {
	tests := []struct {
		name    string
		limit   Limit
		clock   *fakeClock
		maxKeys int
	}{
		{"zero Limit", Limit{}, newFakeClock(), 10},
		{"zero Every", Limit{Burst: 1}, newFakeClock(), 10},
		{"negative Every", Limit{Every: -time.Second, Burst: 1}, newFakeClock(), 10},
		{"zero Burst", Limit{Every: time.Second}, newFakeClock(), 10},
		{"window overflows", Limit{Every: time.Hour, Burst: 1 << 42}, newFakeClock(), 10},
		{"zero maxKeys", Limit{Every: time.Second, Burst: 1}, newFakeClock(), 0},
		{"nil clock", Limit{Every: time.Second, Burst: 1}, nil, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v, clock, %d) did not panic", tt.limit, tt.maxKeys)
				}
			}()
			if tt.clock == nil {
				New(tt.limit, nil, tt.maxKeys)
				return
			}
			New(tt.limit, tt.clock, tt.maxKeys)
		})
	}
}

func TestShardLayout(t *testing.T) {
	tests := []struct {
		maxKeys    int
		wantShards int
		wantCap    int // total capacity over all shards
	}{
		{1, 1, 1},
		{127, 1, 127},
		{128, 2, 128},
		{1000, 8, 1000},
		{1001, 8, 1000},
		{1 << 20, 32, 1 << 20},
		{1<<20 + 31, 32, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.maxKeys), func(t *testing.T) {
			lim := New(PerSecond(1), newFakeClock(), tt.maxKeys)
			capacity := 0
			for i := range lim.shards {
				capacity += lim.shards[i].max
			}
			if len(lim.shards) != tt.wantShards || capacity != tt.wantCap {
				t.Errorf("got %d shards holding %d keys, want %d holding %d",
					len(lim.shards), capacity, tt.wantShards, tt.wantCap)
			}
		})
	}
}

func TestMemoryBound(t *testing.T) {
	const maxKeys, keys = 1000, 100_000
	clock := newFakeClock()
	lim := New(Limit{Every: time.Second, Burst: 3}, clock, maxKeys)
	for i := range keys {
		if i%5000 == 0 {
			// Let some entries expire, so pruning as well as eviction runs.
			clock.Advance(2 * time.Second)
		}
		if ok, _ := lim.Allow("login-ip:" + strconv.Itoa(i)); !ok {
			t.Fatalf("Allow(key %d) refused a new key", i)
		}
		if i%97 == 0 {
			if n := lim.len(); n > maxKeys {
				t.Fatalf("after %d keys: stored %d, want at most %d", i+1, n, maxKeys)
			}
		}
	}
	if n := lim.len(); n > maxKeys || n < maxKeys/2 {
		t.Fatalf("after %d keys: stored %d, want between %d and %d", keys, n, maxKeys/2, maxKeys)
	}
}

// TestEvictionDropsExpiredFirst fills a one-shard limiter with refused keys
// and expired keys, then inserts new keys: the expired ones must make room,
// and every refused key must keep its state.
func TestEvictionDropsExpiredFirst(t *testing.T) {
	const maxKeys = 100 // below 128, so one shard and no hashing luck
	clock := newFakeClock()
	l := Limit{Every: time.Second, Burst: 10}
	lim := New(l, clock, maxKeys)
	for i := range maxKeys / 2 {
		lim.AllowN("refused:"+strconv.Itoa(i), l.Burst)
		lim.Allow("once:" + strconv.Itoa(i))
	}
	clock.Advance(time.Second) // "once" keys have a full allowance again
	for i := range maxKeys / 2 {
		lim.Allow("new:" + strconv.Itoa(i))
	}
	if n := lim.len(); n != maxKeys {
		t.Errorf("stored %d keys, want %d", n, maxKeys)
	}
	// A refused key that kept its state has refilled one event of ten; an
	// evicted one would have all ten.
	for i := range maxKeys / 2 {
		key := "refused:" + strconv.Itoa(i)
		if ok, retry := lim.AllowN(key, 2); ok || retry != time.Second {
			t.Fatalf("AllowN(%q, 2): got (%v, %v), want (false, 1s)", key, ok, retry)
		}
	}
}

// TestFloodDoesNotEvictRefusedKey checks the safety argument in Allow's doc:
// an attacker creating distinct keys cannot push out a key that is being
// refused, which would reset its limit.
func TestFloodDoesNotEvictRefusedKey(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
	}{
		{"two keys", 2},
		{"one shard", 100},
		{"32 shards", 32 * 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := Limit{Every: time.Minute, Burst: 5}
			lim := New(l, clock, tt.maxKeys)
			lim.AllowN("login-user:pavel", l.Burst)
			for i := range 100_000 {
				if i%1000 == 0 {
					clock.Advance(time.Second)
				}
				lim.Allow("login-user:" + strconv.Itoa(i))
			}
			// 100s have refilled 1⅔ events, so the second of two comes in
			// 20s; had pavel been evicted, all five would be back.
			ok, retry := lim.AllowN("login-user:pavel", 2)
			if want := 20 * time.Second; ok || retry != want {
				t.Errorf("AllowN(pavel, 2) after flood: got (%v, %v), want (false, %v)", ok, retry, want)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	const (
		goroutines = 32
		calls      = 2000
		every      = time.Millisecond
		burst      = 50
	)
	keys := []string{"a", "b", "c", "d"}

	// hammer runs goroutines that call Allow on every key, while tick (if not
	// nil) runs concurrently, and returns how many events each key was allowed.
	hammer := func(lim *Limiter, tick func()) []int64 {
		allowed := make([]atomic.Int64, len(keys))
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range calls {
					k := (g + i) % len(keys)
					if ok, _ := lim.Allow(keys[k]); ok {
						allowed[k].Add(1)
					}
					if g == 0 && tick != nil {
						tick()
					}
				}
			})
		}
		wg.Wait()
		got := make([]int64, len(keys))
		for i := range allowed {
			got[i] = allowed[i].Load()
		}
		return got
	}

	t.Run("frozen clock allows exactly Burst", func(t *testing.T) {
		lim := New(Limit{Every: every, Burst: burst}, newFakeClock(), 1000)
		for i, got := range hammer(lim, nil) {
			if got != burst {
				t.Errorf("key %q: got %d allowed, want %d", keys[i], got, burst)
			}
		}
	})

	t.Run("moving clock allows at most Burst + elapsed/Every", func(t *testing.T) {
		clock := newFakeClock()
		start := clock.Now()
		lim := New(Limit{Every: every, Burst: burst}, clock, 1000)
		got := hammer(lim, func() { clock.Advance(every / 3) })
		elapsed := clock.Now().Sub(start)
		limit := int64(burst) + int64(elapsed/every)
		for i := range got {
			// Drain what is left at the final time: the total must still fit.
			for {
				ok, _ := lim.Allow(keys[i])
				if !ok {
					break
				}
				got[i]++
			}
			if got[i] > limit {
				t.Errorf("key %q: got %d allowed in %v, want at most %d", keys[i], got[i], elapsed, limit)
			}
			if got[i] <= burst {
				t.Errorf("key %q: got %d allowed in %v, want more than Burst %d", keys[i], got[i], elapsed, burst)
			}
		}
	})
}

func TestAllowDoesNotAllocate(t *testing.T) {
	clock := newFakeClock()
	refusing := New(Limit{Every: time.Minute, Burst: 1}, clock, 1000)
	refusing.Allow("login-user:pavel")
	allowing := New(Limit{Every: time.Nanosecond, Burst: 1 << 30}, clock, 1000)
	allowing.Allow("login-user:pavel")
	tests := []struct {
		name string
		f    func()
	}{
		{"Allow stored key, allowed", func() { allowing.Allow("login-user:pavel") }},
		{"Allow stored key, refused", func() { refusing.Allow("login-user:pavel") }},
		{"Peek", func() { refusing.Peek("login-user:pavel") }},
		{"Reset", func() { refusing.Reset("login-user:jana") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(1000, tt.f); got != 0 {
				t.Errorf("got %v allocs per call, want 0", got)
			}
		})
	}
}

// TestStoredKeyIsCopied guards the strings.Clone in AllowN: the stored key must not
// change when the caller's buffer does.
func TestStoredKeyIsCopied(t *testing.T) {
	lim := New(Limit{Every: time.Minute, Burst: 1}, newFakeClock(), 10)
	buf := []byte("login-user:pavel")
	key := unsafe.String(unsafe.SliceData(buf), len(buf))
	lim.Allow(key)
	copy(buf, "login-user:jana!")
	if ok, _ := lim.Peek("login-user:pavel"); ok {
		t.Errorf("Peek(pavel) after caller reused its buffer: allowed, want refused")
	}
}

func BenchmarkAllow(b *testing.B) {
	lim := New(PerSecond(1000), newFakeClock(), 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		lim.Allow("login-user:pavel")
	}
}

func BenchmarkAllowSystemClock(b *testing.B) {
	lim := New(PerSecond(1000), kurir.SystemClock{}, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		lim.Allow("login-user:pavel")
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	const nkeys = 1 << 14
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("login-ip:10.0.%d.%d", i>>8, i&255)
	}
	lim := New(PerSecond(1000), newFakeClock(), 1<<16)
	var next atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(7919) // spread goroutines over the key space
		for pb.Next() {
			i++
			lim.Allow(keys[i&(nkeys-1)])
		}
	})
}

// BenchmarkAllowNewKeys measures the worst case: every call inserts a key
// into a full limiter, so every call evicts.
func BenchmarkAllowNewKeys(b *testing.B) {
	keys := make([]string, 1<<20)
	for i := range keys {
		keys[i] = "login-ip:" + strconv.Itoa(i)
	}
	lim := New(PerSecond(1000), newFakeClock(), 1<<14)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lim.Allow(keys[i&(len(keys)-1)])
		i++
	}
}
