package bus

import (
	"context"
	"slices"
	"sync"

	"kurir"
)

// DefaultMaxData is the largest message Memory accepts by default. It equals
// NATS's default max_payload, so that what works on one node also works when
// the deployment scales out to NATS.
const DefaultMaxData = 1 << 20

// MemoryOptions configure a Memory. The zero value gives the defaults.
type MemoryOptions struct {
	// Queue bounds each subscription's queue.
	Queue QueueLimits
	// MaxData is the largest Data that Publish accepts, in bytes;
	// zero means DefaultMaxData.
	MaxData int
}

// Memory is a Bus that delivers between the goroutines of one process: the
// default for a single node. Several parts of a process ("nodes" in tests)
// may share one Memory. Publish copies data once, shares the copy among the
// matching subscriptions, and finds them with one map lookup for literal
// patterns plus one test per wildcard pattern.
//
// Memory is safe for concurrent use by multiple goroutines. Create it with
// NewMemory; the zero value is not usable.
type Memory struct {
	limits  QueueLimits
	maxData int

	// mu guards the index and closed. Publish holds it for reading while it
	// pushes to queues, so that after an Unsubscribe or Close has removed a
	// subscription no Publish still holds it. Lock order: mu, then Queue.mu.
	mu     sync.RWMutex
	closed bool
	exact  map[string][]*memorySub // literal pattern -> its subscriptions
	wild   []*memorySub            // patterns with a wildcard
}

type memorySub struct {
	m       *Memory
	pattern string
	q       *Queue
}

// NewMemory returns an empty Memory. It panics if opts has negative limits,
// which is a programming error.
func NewMemory(opts MemoryOptions) *Memory {
	limits, err := opts.Queue.WithDefaults()
	if err != nil {
		panic(err)
	}
	if opts.MaxData < 0 {
		panic("bus: negative MemoryOptions.MaxData")
	}
	if opts.MaxData == 0 {
		opts.MaxData = DefaultMaxData
	}
	return &Memory{limits: limits, maxData: opts.MaxData, exact: make(map[string][]*memorySub)}
}

// Publish implements Bus. It pushes a copy of data to the queue of every
// matching subscription before it returns; data larger than
// MemoryOptions.MaxData is rejected with kurir.EInvalid.
func (m *Memory) Publish(ctx context.Context, subject string, data []byte) error {
	if err := ValidateSubject(subject); err != nil {
		return err
	}
	if err := ValidateSize(len(data), m.maxData); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	var msg Msg
	copied := false
	for _, s := range m.exact[subject] {
		if !copied {
			msg, copied = Msg{Subject: subject, Data: clone(data)}, true
		}
		s.q.Push(msg)
	}
	for _, s := range m.wild {
		if match(s.pattern, subject) {
			if !copied {
				msg, copied = Msg{Subject: subject, Data: clone(data)}, true
			}
			s.q.Push(msg)
		}
	}
	return nil
}

// clone copies b, keeping nil and empty distinct from each other.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Subscribe implements Bus.
func (m *Memory) Subscribe(pattern string, h Handler, onDrop func(n int)) (Subscription, error) {
	if err := ValidatePattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, kurir.Errorf(kurir.EInvalid, "bus subscription to %q has no handler", pattern)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	q, err := NewQueue(h, onDrop, m.limits)
	if err != nil {
		return nil, err // unreachable: limits were checked by NewMemory
	}
	s := &memorySub{m: m, pattern: pattern, q: q}
	if isLiteral(pattern) {
		m.exact[pattern] = append(m.exact[pattern], s)
	} else {
		m.wild = append(m.wild, s)
	}
	return s, nil
}

// Unsubscribe implements Subscription.
func (s *memorySub) Unsubscribe() error {
	m := s.m
	m.mu.Lock()
	switch {
	case m.closed:
		// Close has emptied the index and stopped the queue.
	case isLiteral(s.pattern):
		subs := slices.DeleteFunc(m.exact[s.pattern], func(x *memorySub) bool { return x == s })
		if len(subs) == 0 {
			delete(m.exact, s.pattern)
		} else {
			m.exact[s.pattern] = subs
		}
	default:
		m.wild = slices.DeleteFunc(m.wild, func(x *memorySub) bool { return x == s })
	}
	m.mu.Unlock()
	s.q.Stop()
	return nil
}

// Close implements Bus. Every node sharing m is closed with it.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	var subs []*memorySub
	for _, list := range m.exact {
		subs = append(subs, list...)
	}
	subs = append(subs, m.wild...)
	m.exact, m.wild = nil, nil
	m.mu.Unlock()
	for _, s := range subs {
		s.q.Stop()
	}
	return nil
}
