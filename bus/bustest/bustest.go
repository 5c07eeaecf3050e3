// Package bustest is the conformance suite that every bus.Bus implementation
// passes, and benchmarks that run on any of them. A backend's test calls Run
// with a function that starts a fresh backend; see Open.
package bustest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/bus"
)

// Open starts a fresh backend for one test and returns newNode, which
// connects one more node to it and returns that node's Bus. Every node's
// subscriptions use limits. A fresh backend carries no messages from outside
// the test (a shared NATS server is isolated with a unique subject prefix).
// Open must arrange with t.Cleanup to close every node it returned and stop
// the backend; the suite also closes some nodes itself, which Close being
// idempotent allows. A backend in which one value serves a whole process,
// such as *bus.Memory, may return the same Bus from every newNode call.
type Open func(t *testing.T, limits bus.QueueLimits) (newNode func() bus.Bus)

// timeout turns a hang into a failure; it is never a performance assertion.
const timeout = 20 * time.Second

// Run runs the conformance suite on the implementation that open starts, as
// subtests of t. The subtests do not run in parallel, because some count
// goroutines.
func Run(t *testing.T, open Open) {
	t.Run("OneSubscriber", func(t *testing.T) { testOneSubscriber(t, open) })
	t.Run("ManySubscribers", func(t *testing.T) { testManySubscribers(t, open) })
	t.Run("Wildcards", func(t *testing.T) { testWildcards(t, open) })
	t.Run("Order", func(t *testing.T) { testOrder(t, open) })
	t.Run("DataCopied", func(t *testing.T) { testDataCopied(t, open) })
	t.Run("Unsubscribe", func(t *testing.T) { testUnsubscribe(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
	t.Run("InvalidSubjects", func(t *testing.T) { testInvalidSubjects(t, open) })
	t.Run("TooLargeOrCancelled", func(t *testing.T) { testTooLargeOrCancelled(t, open) })
	t.Run("SlowSubscriber", func(t *testing.T) { testSlowSubscriber(t, open) })
	t.Run("ConcurrentPublishers", func(t *testing.T) { testConcurrentPublishers(t, open) })
	t.Run("TwoNodes", func(t *testing.T) { testTwoNodes(t, open) })
}

func testOneSubscriber(t *testing.T, open Open) {
	node := open(t, bus.QueueLimits{})()
	r := subscribe(t, node, "chat.1.msg")
	publish(t, node, "chat.1.msg", "hello")
	publish(t, node, "chat.1.msg", "")
	got := r.waitN(t, 2)
	want := []string{"chat.1.msg hello", "chat.1.msg "}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
	r.noDrops(t)
}

func testManySubscribers(t *testing.T, open Open) {
	node := open(t, bus.QueueLimits{})()
	var rs []*recorder
	for range 3 {
		rs = append(rs, subscribe(t, node, "chat.1.msg"))
	}
	other := subscribe(t, node, "chat.2.msg")
	publish(t, node, "chat.1.msg", "hello")
	publish(t, node, "chat.2.msg", "other")
	publish(t, node, "chat.1.msg", "fence")
	for i, r := range rs {
		got := r.waitN(t, 2)
		if want := []string{"chat.1.msg hello", "chat.1.msg fence"}; !slices.Equal(got, want) {
			t.Errorf("subscriber %d received %q, want %q", i, got, want)
		}
		r.noDrops(t)
	}
	if got, want := other.waitN(t, 1), []string{"chat.2.msg other"}; !slices.Equal(got, want) {
		t.Errorf("subscriber to another subject received %q, want %q", got, want)
	}
}

func testWildcards(t *testing.T, open Open) {
	tests := []struct {
		pattern string
		fence   string   // a subject the pattern matches, published last
		match   []string // published, and must be received, in this order
		noMatch []string // published in between, and must not be received
	}{
		{"a.*", "a.fence", []string{"a.b", "a.c"}, []string{"a", "a.b.c", "b.b", "ab"}},
		{"*.b", "fence.b", []string{"a.b", "x.b"}, []string{"b", "a.c", "a.b.c", "b.a"}},
		{"a.*.c", "a.fence.c", []string{"a.b.c", "a.x.c"}, []string{"a.c", "a.b.d", "a.b.c.d", "b.b.c"}},
		{"*", "fence", []string{"a", "b"}, []string{"a.b", "a.b.c"}},
		{"a.>", "a.fence", []string{"a.b", "a.b.c", "a.b.c.d"}, []string{"a", "b.c", "ab.c"}},
		{"*.>", "fence.x", []string{"a.b", "a.b.c"}, []string{"a", "b"}},
		{">", "fence", []string{"a", "a.b", "a.b.c"}, nil},
		{"a.*.>", "a.fence.x", []string{"a.b.c", "a.b.c.d"}, []string{"a", "a.b", "b.b.c"}},
		{"a", "a", []string{"a"}, []string{"a.b", "b", "aa"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			newNode := open(t, bus.QueueLimits{})
			sub, pub := newNode(), newNode()
			r := subscribe(t, sub, tt.pattern)
			// Interleave matching and non-matching subjects.
			for i := range max(len(tt.match), len(tt.noMatch)) {
				if i < len(tt.noMatch) {
					publish(t, pub, tt.noMatch[i], "no")
				}
				if i < len(tt.match) {
					publish(t, pub, tt.match[i], "yes")
				}
			}
			publish(t, pub, tt.fence, "fence")
			var want []string
			for _, s := range tt.match {
				want = append(want, s+" yes")
			}
			want = append(want, tt.fence+" fence")
			if got := r.waitN(t, len(want)); !slices.Equal(got, want) {
				t.Errorf("pattern %q received %q, want %q", tt.pattern, got, want)
			}
			r.noDrops(t)
		})
	}
}

func testOrder(t *testing.T, open Open) {
	const n = 10000
	newNode := open(t, bus.QueueLimits{})
	pub, other := newNode(), newNode()
	local := subscribe(t, pub, "order.x")
	remote := subscribe(t, other, "order.x")
	data := make([]byte, 200)
	for i := range n {
		binary.BigEndian.PutUint32(data, uint32(i))
		if err := pub.Publish(context.Background(), "order.x", data); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	for name, r := range map[string]*recorder{"same node": local, "other node": remote} {
		r.waitUntil(t, fmt.Sprintf("%d messages", n), func() bool { return len(r.msgs) >= n })
		r.mu.Lock()
		for i, m := range r.msgs {
			if got := binary.BigEndian.Uint32(m.Data); got != uint32(i) || len(m.Data) != len(data) {
				t.Errorf("%s: message %d is number %d of %d bytes, want number %d of %d bytes", name, i, got, len(m.Data), i, len(data))
				break
			}
		}
		r.mu.Unlock()
		r.noDrops(t)
	}
}

func testDataCopied(t *testing.T, open Open) {
	const n = 100
	newNode := open(t, bus.QueueLimits{})
	pub, other := newNode(), newNode()
	local := subscribe(t, pub, "copy.x")
	remote := subscribe(t, other, "copy.x")
	buf := make([]byte, 64)
	for i := range n {
		for j := range buf {
			buf[j] = byte(i)
		}
		if err := pub.Publish(context.Background(), "copy.x", buf); err != nil {
			t.Fatal(err)
		}
		// The bus took the message; what the caller does now is its own
		// business.
		for j := range buf {
			buf[j] = 0xff
		}
	}
	for name, r := range map[string]*recorder{"same node": local, "other node": remote} {
		r.waitUntil(t, fmt.Sprintf("%d messages", n), func() bool { return len(r.msgs) >= n })
		r.mu.Lock()
		for i, m := range r.msgs {
			if want := bytes.Repeat([]byte{byte(i)}, len(buf)); !bytes.Equal(m.Data, want) {
				t.Errorf("%s: message %d = %x, want %x", name, i, m.Data, want)
				break
			}
		}
		r.mu.Unlock()
	}
}

func testUnsubscribe(t *testing.T, open Open) {
	newNode := open(t, bus.QueueLimits{})
	node := newNode()
	before := runtime.NumGoroutine()
	var gone atomic.Bool
	a := newRecorder(t)
	a.afterEnd = &gone
	subA, err := node.Subscribe("unsub.x", a.handle, a.onDrop)
	if err != nil {
		t.Fatal(err)
	}
	b := newRecorder(t)
	subB, err := node.Subscribe("unsub.x", b.handle, b.onDrop)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, node, "unsub.x", "1")
	a.waitN(t, 1)
	b.waitN(t, 1)
	if err := subA.Unsubscribe(); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	gone.Store(true)
	publish(t, node, "unsub.x", "2")
	publish(t, node, "unsub.x", "3")
	if got, want := b.waitN(t, 3), []string{"unsub.x 1", "unsub.x 2", "unsub.x 3"}; !slices.Equal(got, want) {
		t.Errorf("remaining subscriber received %q, want %q", got, want)
	}
	if got, want := a.snapshot(), []string{"unsub.x 1"}; !slices.Equal(got, want) {
		t.Errorf("unsubscribed subscriber received %q, want %q", got, want)
	}
	if err := subA.Unsubscribe(); err != nil {
		t.Errorf("second Unsubscribe: %v, want nil", err)
	}
	if err := subB.Unsubscribe(); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
	waitGoroutines(t, before, "after every subscription was unsubscribed")
}

func testClose(t *testing.T, open Open) {
	newNode := open(t, bus.QueueLimits{})
	before := runtime.NumGoroutine()
	node := newNode()
	var closed atomic.Bool
	r := newRecorder(t)
	r.afterEnd = &closed
	sub, err := node.Subscribe("close.x", r.handle, r.onDrop)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		subscribe(t, node, "close.>")
	}
	publish(t, node, "close.x", "1")
	r.waitN(t, 1)
	if err := node.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed.Store(true)
	if err := node.Publish(context.Background(), "close.x", []byte("2")); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	if _, err := node.Subscribe("close.y", func(bus.Msg) {}, nil); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
	}
	if err := node.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	if err := sub.Unsubscribe(); err != nil {
		t.Errorf("Unsubscribe after Close: %v, want nil", err)
	}
	waitGoroutines(t, before, "after Close")
}

func testInvalidSubjects(t *testing.T, open Open) {
	node := open(t, bus.QueueLimits{})()
	long := strings.Repeat("a", bus.MaxSubjectLen+1)
	invalidSubjects := []string{
		"", ".", "a..b", ".a", "a.", "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb",
		"a\u00a0b", "a\u2028b", "\xff", long,
		"*", ">", "a.*", "a.>", "a*", "a.b>",
	}
	invalidPatterns := []string{
		"", ".", "a..b", ".a", "a.", "a b", "a\tb", "\xff", long,
		"a.>.b", ">.a", "a*", "a.*b", "a.b>", ">>", "**",
	}
	for _, s := range invalidSubjects {
		want := bus.ValidateSubject(s)
		if want == nil {
			t.Fatalf("ValidateSubject(%q) = nil; the test expects it invalid", s)
		}
		err := node.Publish(context.Background(), s, []byte("x"))
		if err == nil || err.Error() != want.Error() || kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("Publish(%q) = %v, want %v", s, err, want)
		}
	}
	for _, p := range invalidPatterns {
		want := bus.ValidatePattern(p)
		if want == nil {
			t.Fatalf("ValidatePattern(%q) = nil; the test expects it invalid", p)
		}
		sub, err := node.Subscribe(p, func(bus.Msg) {}, nil)
		if err == nil || err.Error() != want.Error() || kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("Subscribe(%q) = %v, want %v", p, err, want)
		}
		if sub != nil {
			t.Errorf("Subscribe(%q) returned a subscription with its error", p)
		}
	}
	// Rejections changed nothing, and valid names with unusual characters
	// work.
	for _, s := range []string{"a", "chat.42.msg", "A-b_c.D9", "čaj.☕", "x." + strings.Repeat("b", bus.MaxSubjectLen-2)} {
		r := subscribe(t, node, s)
		publish(t, node, s, "ok")
		if got, want := r.waitN(t, 1), []string{s + " ok"}; !slices.Equal(got, want) {
			t.Errorf("subject %q: received %q, want %q", s, got, want)
		}
	}
	if _, err := node.Subscribe("a", nil, nil); kurir.ErrorCode(err) != kurir.EInvalid {
		t.Errorf("Subscribe with a nil handler: %v, want an EInvalid error", err)
	}
}

func testTooLargeOrCancelled(t *testing.T, open Open) {
	node := open(t, bus.QueueLimits{})()
	r := subscribe(t, node, "big")
	// No implementation takes more than NATS's hard limit of 64 MiB.
	err := node.Publish(context.Background(), "big", make([]byte, 64<<20+1))
	if kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorReason(err) != "too_large" {
		t.Errorf("Publish of 64 MiB + 1 byte: %v, want an EInvalid error with reason too_large", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := node.Publish(ctx, "big", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a cancelled context: %v, want context.Canceled", err)
	}
	publish(t, node, "big", "fence")
	if got, want := r.waitN(t, 1), []string{"big fence"}; !slices.Equal(got, want) {
		t.Errorf("received %q, want %q", got, want)
	}
}

// testSlowSubscriber checks that a subscriber whose handler blocks loses
// messages, is told exactly how many, and does not hold up another
// subscriber of the same subject.
func testSlowSubscriber(t *testing.T, open Open) {
	const (
		queue = 8
		n     = 200
	)
	node := open(t, bus.QueueLimits{Msgs: queue})()
	fast := subscribe(t, node, "slow.x")
	slow := newRecorder(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow.gate = func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	if _, err := node.Subscribe("slow.x", slow.handle, slow.onDrop); err != nil {
		t.Fatal(err)
	}
	publishN := func(i int) { publish(t, node, "slow.x", strconv.Itoa(i)) }
	publishN(0)
	select {
	case <-entered:
	case <-time.After(timeout):
		t.Fatal("slow subscriber never received its first message")
	}
	// Publish one at a time, each only once the fast subscriber has it, so
	// that it never falls behind.
	for i := range n {
		if i > 0 {
			publishN(i)
		}
		fast.waitN(t, i+1)
	}
	close(release)

	fastGot := fast.snapshot()
	for i, m := range fastGot {
		if m != "slow.x "+strconv.Itoa(i) {
			t.Fatalf("fast subscriber's message %d is %q, want %q", i, m, "slow.x "+strconv.Itoa(i))
		}
	}
	fast.noDrops(t)

	// Every message is either delivered or reported lost, and never both.
	slow.waitUntil(t, "delivered + dropped to reach "+strconv.Itoa(n), func() bool {
		return len(slow.msgs)+slow.droppedLocked() >= n
	})
	slow.mu.Lock()
	delivered, dropped, reports := len(slow.msgs), slow.droppedLocked(), slices.Clone(slow.drops)
	last := -1
	for i, m := range slow.msgs {
		k, _ := strconv.Atoi(string(m.Data))
		if k <= last || (i < queue && k != i) {
			t.Errorf("slow subscriber's message %d is number %d after %d; want the first %d in order, then increasing", i, k, last, queue)
			break
		}
		last = k
	}
	slow.mu.Unlock()
	if delivered+dropped != n {
		t.Errorf("slow subscriber: %d delivered + %d reported dropped = %d, want %d", delivered, dropped, delivered+dropped, n)
	}
	if dropped == 0 || delivered < queue {
		t.Errorf("slow subscriber with a queue of %d, blocked during %d messages: %d delivered, %d dropped; want at least %d delivered and some dropped", queue, n, delivered, dropped, queue)
	}
	for _, d := range reports {
		if d <= 0 {
			t.Errorf("onDrop(%d); want positive counts (reports %v)", d, reports)
		}
	}
	// Nothing more arrives.
	publish(t, node, "slow.x", "fence")
	slow.waitUntil(t, "the fence", func() bool { return len(slow.msgs) > 0 && string(slow.msgs[len(slow.msgs)-1].Data) == "fence" })
	if got := len(slow.snapshot()); got != delivered+1 {
		t.Errorf("slow subscriber received %d messages after the fence, want %d", got, delivered+1)
	}
}

func testConcurrentPublishers(t *testing.T, open Open) {
	const (
		publishers = 4
		each       = 500
	)
	newNode := open(t, bus.QueueLimits{})
	nodes := []bus.Bus{newNode(), newNode()}
	r := subscribe(t, nodes[0], "conc.>")
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churn.Go(func() {
		// Subscriptions come and go while messages flow.
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sub, err := nodes[i%2].Subscribe([]string{"conc.*", "conc.0", ">"}[i%3], func(bus.Msg) {}, nil)
			if err != nil {
				t.Errorf("Subscribe: %v", err)
				return
			}
			if err := sub.Unsubscribe(); err != nil {
				t.Errorf("Unsubscribe: %v", err)
			}
		}
	})
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			node, subject := nodes[p%2], "conc."+strconv.Itoa(p)
			for i := range each {
				if err := node.Publish(context.Background(), subject, []byte(strconv.Itoa(i))); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	r.waitUntil(t, "every message", func() bool { return len(r.msgs) >= publishers*each })
	close(stop)
	churn.Wait()
	next := make(map[string]int)
	for _, m := range r.snapshotMsgs() {
		k, _ := strconv.Atoi(string(m.Data))
		if k != next[m.Subject] {
			t.Errorf("from %s: got message %d, want %d", m.Subject, k, next[m.Subject])
		}
		next[m.Subject] = k + 1
	}
	r.noDrops(t)
}

func testTwoNodes(t *testing.T, open Open) {
	newNode := open(t, bus.QueueLimits{})
	a, b := newNode(), newNode()
	ra := subscribe(t, a, "two.>")
	rb := subscribe(t, b, "two.>")
	// No pause between Subscribe and Publish: Subscribe returns only once
	// the subscription is active everywhere.
	publish(t, a, "two.a", "from a")
	publish(t, b, "two.b", "from b")
	publish(t, a, "two.a", "fence a")
	publish(t, b, "two.b", "fence b")
	want := []string{"two.a fence a", "two.a from a", "two.b fence b", "two.b from b"}
	for name, r := range map[string]*recorder{"node a": ra, "node b": rb} {
		got := r.waitN(t, 4)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s received %q, want %q in some order", name, got, want)
		}
		r.noDrops(t)
	}
}

// recorder is a subscriber that records what it receives.
type recorder struct {
	t        *testing.T
	changed  chan struct{} // poked after every change
	busy     atomic.Bool   // a handler or onDrop call is running
	afterEnd *atomic.Bool  // when set and true, any call is an error
	gate     func()        // when set, called at the start of every handler call

	mu    sync.Mutex
	msgs  []bus.Msg
	drops []int
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, changed: make(chan struct{}, 1)}
}

// subscribe subscribes a new recorder to pattern on b.
func subscribe(t *testing.T, b bus.Bus, pattern string) *recorder {
	t.Helper()
	r := newRecorder(t)
	if _, err := b.Subscribe(pattern, r.handle, r.onDrop); err != nil {
		t.Fatalf("Subscribe(%q): %v", pattern, err)
	}
	return r
}

func publish(t *testing.T, b bus.Bus, subject, data string) {
	t.Helper()
	if err := b.Publish(context.Background(), subject, []byte(data)); err != nil {
		t.Fatalf("Publish(%q): %v", subject, err)
	}
}

func (r *recorder) enter(what string) {
	if r.busy.Swap(true) {
		r.t.Errorf("%s called while another call for the same subscription runs", what)
	}
	if r.afterEnd != nil && r.afterEnd.Load() {
		r.t.Errorf("%s called after the subscription ended", what)
	}
}

func (r *recorder) leave() {
	r.busy.Store(false)
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) handle(m bus.Msg) {
	r.enter("handler")
	if r.gate != nil {
		r.gate()
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	r.leave()
}

func (r *recorder) onDrop(n int) {
	r.enter("onDrop")
	r.mu.Lock()
	r.drops = append(r.drops, n)
	r.mu.Unlock()
	r.leave()
}

// droppedLocked returns the sum of the counts reported to onDrop.
func (r *recorder) droppedLocked() int {
	sum := 0
	for _, n := range r.drops {
		sum += max(n, 0)
	}
	return sum
}

// waitUntil waits until cond, called with r.mu held, returns true.
func (r *recorder) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out after %v waiting for %s: have %d messages, drop reports %v", timeout, what, len(r.msgs), r.drops)
		}
	}
}

// waitN waits until r has at least n messages and returns them as
// "subject data" strings.
func (r *recorder) waitN(t *testing.T, n int) []string {
	t.Helper()
	r.waitUntil(t, fmt.Sprintf("%d messages", n), func() bool { return len(r.msgs) >= n })
	return r.snapshot()
}

func (r *recorder) snapshotMsgs() []bus.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func (r *recorder) snapshot() []string {
	var s []string
	for _, m := range r.snapshotMsgs() {
		s = append(s, m.Subject+" "+string(m.Data))
	}
	return s
}

func (r *recorder) noDrops(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.drops) > 0 {
		t.Errorf("onDrop called with %v; want no losses", r.drops)
	}
}

// waitGoroutines waits until no more than want goroutines run, since
// connections and subscriptions of some backends wind down asynchronously.
func waitGoroutines(t *testing.T, want int, when string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%s: %d goroutines, want at most %d; goroutines:\n%s", when, n, want, buf)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
