// Package bus carries live-delivery events between kurir's server nodes: after
// a change commits, the node that made it publishes an event, and every node
// with a session that cares receives it and pushes it to its clients.
//
// # Delivery guarantees
//
// The bus is for live delivery only. The database is the source of truth, and
// a client that misses an event heals the gap by asking for everything after
// the last sequence number it saw. So the bus is at-most-once:
//
//   - A message may be lost: a node restarts, the connection to the backend
//     breaks, or a subscriber falls behind and its bounded queue overflows.
//   - A message is never duplicated, and its subject and data arrive exactly
//     as published.
//   - Messages published one after another by one goroutine on one Bus reach
//     each subscription in the order they were published, whatever their
//     subjects. There is no order between different publishers.
//   - A loss is never silent where the bus can see it: when a subscription's
//     queue overflows, or its node loses and regains its connection to the
//     backend, the subscription's onDrop function is called, so that the
//     realtime layer can tell the affected clients to resync. (A loss inside
//     a NATS cluster, such as a route between two servers breaking, is
//     invisible to every client; sequence numbers heal it on the next event.)
//
// # Subjects
//
// Subjects are NATS subjects: tokens separated by '.', such as "chat.42.msg".
// Subscriptions take patterns, where the token '*' matches exactly one token
// and '>', allowed only as the last token, matches one or more. ValidateSubject
// and ValidatePattern define what is accepted; every implementation rejects
// exactly what they reject, with their error.
//
// # Implementations
//
// Memory, in this package, delivers between the goroutines of one process and
// is the default for a single node. Package kurir/bus/natsbus connects nodes
// through NATS. Package kurir/bus/bustest holds the conformance suite that
// both pass.
package bus

import (
	"context"

	"kurir"
)

// Msg is one event: the subject it was published to and its data.
type Msg struct {
	Subject string
	// Data is the event payload. A Handler may keep it, but must not modify
	// it: one copy may be shared by every subscription that receives it.
	Data []byte
}

// Handler receives the messages of one subscription, one at a time and in
// order, on a goroutine owned by the bus. It must not block for long: while it
// runs, the subscription's queue fills and then drops messages. It may call
// Publish and Subscribe. Neither a Handler nor an onDrop function may call
// Unsubscribe or Close, which wait for running handlers to return; to stop
// from one, call them from a new goroutine.
type Handler func(Msg)

// LostUnknown is the n passed to an onDrop function when messages may have
// been lost but the bus cannot count them, as after a reconnection to the
// backend. Every call to onDrop, whatever its n, means the subscriber must
// resync.
const LostUnknown = -1

// Bus publishes events and delivers them to subscriptions, as described in
// the package documentation. Implementations are safe for concurrent use by
// multiple goroutines.
type Bus interface {
	// Publish sends data to every current subscription whose pattern matches
	// subject. It returns once the bus has taken the message, not when it has
	// been delivered, and the caller may reuse data as soon as it returns.
	// It does not wait for slow subscribers. It fails if subject is invalid
	// (see ValidateSubject), data is larger than the implementation allows,
	// ctx is already done, or the bus is closed (ErrClosed). A caller that
	// publishes after committing a change should pass a context that outlives
	// the client's request, such as context.WithoutCancel(ctx).
	Publish(ctx context.Context, subject string, data []byte) error

	// Subscribe starts delivering the messages whose subject matches pattern
	// (see ValidatePattern) to h, and returns once the subscription is
	// active: a message published after Subscribe returns, from any node,
	// reaches it unless lost. onDrop, which may be nil, is called on the
	// subscription's goroutine, never at the same time as h, with the number
	// of messages lost since the previous report (or LostUnknown); reports
	// are coalesced, so n may be more than 1.
	Subscribe(pattern string, h Handler, onDrop func(n int)) (Subscription, error)

	// Close stops every subscription, waiting for running handlers to
	// return, and releases the connection to the backend. After Close,
	// Publish and Subscribe fail with ErrClosed. Close is idempotent.
	Close() error
}

// Subscription is an active subscription, returned by Bus.Subscribe. It is
// safe for concurrent use.
type Subscription interface {
	// Unsubscribe stops delivery: it discards queued messages, waits for a
	// running handler call to return, and after it returns neither the
	// handler nor onDrop is called again. It is idempotent, and returns nil
	// after the bus has been closed.
	Unsubscribe() error
}

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = &kurir.Error{Code: kurir.EUnavailable, Reason: "bus_closed", Message: "The event bus is closed."}

// Queue limits applied when QueueLimits fields are zero.
const (
	// DefaultQueueMsgs is enough for a burst of about a second of a busy
	// node's events.
	DefaultQueueMsgs = 65536
	// DefaultQueueBytes matches nats.go's default pending-bytes limit.
	DefaultQueueBytes = 64 << 20
)

// QueueLimits bound one subscription's queue: the messages it has received
// but its handler has not finished with, including the one being handled.
// A message that would exceed either limit is dropped and counted, except
// that an empty queue always takes one message, however large. Zero fields
// mean the defaults; negative fields are invalid.
type QueueLimits struct {
	Msgs  int // at most this many messages; default DefaultQueueMsgs
	Bytes int // at most this many bytes of Msg.Data; default DefaultQueueBytes
}

// WithDefaults returns l with zero fields replaced by the defaults, or an
// error if a field is negative.
func (l QueueLimits) WithDefaults() (QueueLimits, error) {
	if l.Msgs < 0 || l.Bytes < 0 {
		return l, kurir.Errorf(kurir.EInvalid, "bus queue limits must not be negative, got %d messages and %d bytes", l.Msgs, l.Bytes)
	}
	if l.Msgs == 0 {
		l.Msgs = DefaultQueueMsgs
	}
	if l.Bytes == 0 {
		l.Bytes = DefaultQueueBytes
	}
	return l, nil
}
