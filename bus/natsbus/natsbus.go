// Package natsbus implements bus.Bus on NATS, so that events published on one
// kurir node reach the subscriptions of every node connected to the same NATS
// system.
//
// It uses core NATS publish/subscribe, not JetStream. Live events need the
// lowest latency and no per-message acknowledgements or storage; the database
// is the source of truth, and a client that misses an event catches up by
// sequence number, so persisting events in a stream would buy nothing but
// cost. A JetStream-enabled server (as a kurir deployment runs for other
// purposes) serves core NATS unchanged.
//
// Core NATS is at-most-once, like the bus contract. Losses the client can see
// are reported to every affected subscription's onDrop:
//
//   - A subscription's queue overflows (see bus.Queue): onDrop(n) with the
//     exact count. nats.go's own per-subscription pending limits, set to the
//     same values, are counted the same way, though the bus's handoff from
//     nats.go to its queue is so quick that they are not expected to fill.
//   - The connection to NATS breaks (server restart, network failure, or the
//     server cutting the node off as a slow consumer): whatever was published
//     while it was down is lost, and nobody can count it, so once nats.go has
//     reconnected and re-established the subscriptions, every subscription
//     gets onDrop(bus.LostUnknown). Messages this node publishes while
//     disconnected are buffered by nats.go (8 MiB) and sent on reconnection;
//     when that buffer is full, Publish fails.
//
// The connection retries forever; Close ends it.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"kurir"
	"kurir/bus"
)

// Options configure a Bus. The zero value gives the defaults.
type Options struct {
	// Prefix, when set, is put with a '.' before every subject on the wire,
	// so that several kurir deployments (or test runs) can share one NATS
	// system without seeing each other's events; handlers see subjects
	// without it. It must be a valid literal subject, such as "kurir".
	Prefix string
	// Queue bounds each subscription's queue; zero fields take the bus
	// defaults.
	Queue bus.QueueLimits
	// Name identifies the connection in NATS monitoring; default "kurir".
	Name string
	// FlushTimeout bounds how long Subscribe waits for the server to
	// confirm a new subscription, and how long Close waits to send buffered
	// messages; default 5s.
	FlushTimeout time.Duration
	// NATS are extra nats.go options, applied after the bus's own, for
	// credentials, TLS or reconnection timing. Options that replace the
	// bus's connection handlers (disconnect, reconnect, error) break its
	// loss reporting and must not be used.
	NATS []nats.Option
}

// Bus is a bus.Bus on a NATS connection. It is safe for concurrent use by
// multiple goroutines. Create it with Open.
type Bus struct {
	nc           *nats.Conn
	log          *slog.Logger
	prefix       string // Options.Prefix + "." or ""
	limits       bus.QueueLimits
	flushTimeout time.Duration
	closed       atomic.Bool // set first thing in Close, so Publish fails from then on

	// mu guards subs. Lock order: mu, then subscription.mu, then bus.Queue's.
	mu   sync.Mutex
	subs map[*nats.Subscription]*subscription // nil once closed
}

type subscription struct {
	b  *Bus
	ns *nats.Subscription
	q  *bus.Queue

	mu      sync.Mutex
	dropped int // nats.go's drop count already passed on to q
}

// Open connects to the NATS server or cluster at rawURL (such as
// nats://127.0.0.1:4222; a comma-separated list is accepted, and user and
// password may be given in the URL) and returns a Bus on that connection.
// It fails if no server can be reached before ctx is done. log receives
// connection events; nil discards them. Close the Bus when done.
func Open(ctx context.Context, rawURL string, log *slog.Logger, opts Options) (*Bus, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limits, err := opts.Queue.WithDefaults()
	if err != nil {
		return nil, err
	}
	b := &Bus{
		log:          log,
		limits:       limits,
		flushTimeout: opts.FlushTimeout,
		subs:         make(map[*nats.Subscription]*subscription),
	}
	if opts.Prefix != "" {
		if err := bus.ValidateSubject(opts.Prefix); err != nil {
			return nil, fmt.Errorf("natsbus prefix: %w", err)
		}
		b.prefix = opts.Prefix + "."
	}
	if b.flushTimeout <= 0 {
		b.flushTimeout = 5 * time.Second
	}
	name := opts.Name
	if name == "" {
		name = "kurir"
	}
	natsOpts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(b.disconnected),
		nats.ReconnectHandler(b.reconnected),
		nats.ErrorHandler(b.asyncError),
		nats.NoCallbacksAfterClientClose(),
	}
	if deadline, ok := ctx.Deadline(); ok {
		natsOpts = append(natsOpts, nats.Timeout(min(time.Until(deadline), 2*time.Second)))
	}
	natsOpts = append(natsOpts, opts.NATS...)

	type result struct {
		nc  *nats.Conn
		err error
	}
	connected := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(rawURL, natsOpts...)
		connected <- result{nc, err}
	}()
	select {
	case r := <-connected:
		if r.err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", redact(rawURL), r.err)
		}
		b.nc = r.nc
	case <-ctx.Done():
		// The dial is bounded by nats.Timeout; close whatever it returns.
		go func() {
			if r := <-connected; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(rawURL), ctx.Err())
	}
	log.Info("connected to NATS", "url", b.nc.ConnectedUrlRedacted(), "server", b.nc.ConnectedServerName(), "prefix", opts.Prefix)
	return b, nil
}

// redact hides a password in a NATS URL for error messages.
func redact(rawURL string) string {
	parts := strings.Split(rawURL, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// Publish implements bus.Bus. nats.go copies data into its write buffer
// before returning, so no copy is made here. data larger than the server's
// max_payload (1 MiB by default) is rejected with kurir.EInvalid.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if err := bus.ValidateSubject(subject); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := b.nc.Publish(b.prefix+subject, data); err != nil {
		switch {
		case errors.Is(err, nats.ErrMaxPayload):
			return bus.ValidateSize(len(data), int(b.nc.MaxPayload()))
		case errors.Is(err, nats.ErrConnectionClosed) && b.closed.Load():
			return bus.ErrClosed
		}
		return &kurir.Error{Code: kurir.EUnavailable, Message: "The event bus is unavailable.", Err: fmt.Errorf("publish %q to NATS: %w", subject, err)}
	}
	return nil
}

// Subscribe implements bus.Bus. It returns once the server has confirmed the
// subscription. If the connection is down at that moment, the subscription is
// kept and takes effect on reconnection, which reports bus.LostUnknown to it.
func (b *Bus) Subscribe(pattern string, h bus.Handler, onDrop func(n int)) (bus.Subscription, error) {
	if err := bus.ValidatePattern(pattern); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, kurir.Errorf(kurir.EInvalid, "bus subscription to %q has no handler", pattern)
	}
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	q, err := bus.NewQueue(h, onDrop, b.limits)
	if err != nil {
		return nil, err
	}
	s := &subscription{b: b, q: q}

	b.mu.Lock()
	if b.subs == nil {
		b.mu.Unlock()
		q.Stop()
		return nil, bus.ErrClosed
	}
	// Registered under mu, so that a reconnection or slow-consumer report
	// arriving right away finds the subscription.
	ns, err := b.nc.Subscribe(b.prefix+pattern, s.receive)
	if err == nil {
		err = ns.SetPendingLimits(b.limits.Msgs, b.limits.Bytes)
		if err != nil {
			ns.Unsubscribe()
		}
	}
	if err != nil {
		b.mu.Unlock()
		q.Stop()
		if b.closed.Load() {
			return nil, bus.ErrClosed
		}
		return nil, &kurir.Error{Code: kurir.EUnavailable, Message: "The event bus is unavailable.", Err: fmt.Errorf("subscribe to %q on NATS: %w", pattern, err)}
	}
	s.ns = ns
	b.subs[ns] = s
	b.mu.Unlock()

	// Wait for the server to have the subscription: a PING sent after the
	// SUB is answered only once the SUB has been processed.
	if err := b.nc.FlushTimeout(b.flushTimeout); err != nil && b.nc.IsConnected() {
		s.Unsubscribe()
		if b.closed.Load() {
			return nil, bus.ErrClosed
		}
		return nil, &kurir.Error{Code: kurir.EUnavailable, Message: "The event bus is unavailable.", Err: fmt.Errorf("confirm subscription to %q on NATS: %w", pattern, err)}
	}
	return s, nil
}

// receive runs on nats.go's goroutine for the subscription and hands m to
// the subscription's queue.
func (s *subscription) receive(m *nats.Msg) {
	s.passOnDropped(m.Sub)
	subject, _ := strings.CutPrefix(m.Subject, s.b.prefix)
	// nats.go gives every message its own copy of the payload.
	s.q.Push(bus.Msg{Subject: subject, Data: m.Data})
}

// passOnDropped reports to the queue the messages nats.go has dropped for ns
// since the last call.
func (s *subscription) passOnDropped(ns *nats.Subscription) {
	n, err := ns.Dropped()
	if err != nil {
		return // unsubscribed
	}
	s.mu.Lock()
	n, s.dropped = n-s.dropped, max(n, s.dropped)
	s.mu.Unlock()
	if n > 0 {
		s.q.Lost(n)
	}
}

// Unsubscribe implements bus.Subscription.
func (s *subscription) Unsubscribe() error {
	b := s.b
	b.mu.Lock()
	mine := b.subs != nil && b.subs[s.ns] == s
	if mine {
		delete(b.subs, s.ns)
	}
	b.mu.Unlock()
	if mine {
		// An error means the connection is closed, which ends the
		// subscription too.
		s.ns.Unsubscribe()
	}
	s.q.Stop()
	return nil
}

// Close implements bus.Bus: it stops every subscription, sends what Publish
// has buffered (waiting up to Options.FlushTimeout), and closes the
// connection.
func (b *Bus) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.mu.Lock()
	subs := b.subs
	b.subs = nil
	b.mu.Unlock()
	for _, s := range subs {
		s.q.Stop()
	}
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(b.flushTimeout); err != nil {
			b.log.Warn("NATS: could not flush buffered events before closing", "err", err)
		}
	}
	b.nc.Close()
	b.log.Info("NATS connection closed")
	return nil
}

// disconnected is nats.go's disconnect handler.
func (b *Bus) disconnected(_ *nats.Conn, err error) {
	b.log.Warn("disconnected from NATS; live events are lost until reconnected", "err", err)
}

// reconnected is nats.go's reconnect handler, called once the subscriptions
// are re-established on the new connection. Whatever was published while the
// connection was down is lost.
func (b *Bus) reconnected(nc *nats.Conn) {
	b.mu.Lock()
	n := len(b.subs)
	for _, s := range b.subs {
		s.q.Lost(bus.LostUnknown)
	}
	b.mu.Unlock()
	b.log.Info("reconnected to NATS; subscriptions told to resync", "url", nc.ConnectedUrlRedacted(), "subscriptions", n)
}

// asyncError is nats.go's handler for asynchronous errors.
func (b *Bus) asyncError(_ *nats.Conn, ns *nats.Subscription, err error) {
	if ns != nil && errors.Is(err, nats.ErrSlowConsumer) {
		// nats.go reports only the first drop of a run; receive passes on
		// the rest, and this catches a last drop with nothing after it.
		b.mu.Lock()
		s := b.subs[ns]
		b.mu.Unlock()
		if s != nil {
			s.passOnDropped(ns)
		}
		b.log.Warn("NATS subscription is a slow consumer; messages dropped", "subject", ns.Subject)
		return
	}
	b.log.Error("NATS error", "err", err)
}
