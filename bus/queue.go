package bus

import "sync"

// Queue is the bounded queue of one subscription together with the goroutine
// that drains it into the subscription's Handler. Every Bus implementation
// delivers through a Queue, so that all of them bound, order, drop and report
// losses the same way:
//
//   - Push appends a message, or, when the queue is full (see QueueLimits),
//     drops it and counts it. The arriving message is the one dropped, never
//     a queued one, so what the handler gets stays in publish order.
//   - Lost counts messages lost before they reached the queue, such as those
//     missed while the connection to a backend was down.
//   - The goroutine calls onDrop with the losses counted since its previous
//     report before it hands the handler its next message, and whenever it
//     would otherwise go idle, so no loss goes unreported.
//
// Push, Lost and Stop are safe for concurrent use. Lock order: a Bus's own
// locks are taken before Queue.mu; Queue.mu is never held while calling the
// handler or onDrop.
type Queue struct {
	h      Handler
	onDrop func(int)
	limits QueueLimits
	done   chan struct{} // closed when the goroutine has returned

	mu       sync.Mutex
	wake     sync.Cond // signalled, with mu held, when there is work or Stop
	waiting  bool      // the goroutine is in wake.Wait
	ring     []Msg     // queued messages: ring[head], ring[head+1], ... wrapping
	head, n  int
	inFlight bool // the goroutine is handling a message, which counts toward limits
	bytes    int  // len(Data) of queued and in-flight messages
	lost     int  // losses not yet reported
	unknown  bool // a loss of unknown size not yet reported
	stopped  bool
}

// ringShrink is the capacity above which an emptied ring is released, so that
// a burst does not pin its peak memory for the life of the subscription.
const ringShrink = 1024

// NewQueue starts a Queue, and its goroutine, that delivers to h and reports
// losses to onDrop (which may be nil). Zero limits take the defaults.
// The caller must call Stop when the subscription ends.
func NewQueue(h Handler, onDrop func(n int), limits QueueLimits) (*Queue, error) {
	limits, err := limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	q := &Queue{h: h, onDrop: onDrop, limits: limits, done: make(chan struct{})}
	q.wake.L = &q.mu
	go q.run()
	return q, nil
}

// Push queues m for the handler and reports whether it was queued; when the
// queue is full or stopped, m is dropped (and, unless stopped, counted as a
// loss). The queue keeps m.Data: the caller must not modify it afterwards.
func (q *Queue) Push(m Msg) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return false
	}
	held := q.n
	if q.inFlight {
		held++
	}
	if held > 0 && (held >= q.limits.Msgs || q.bytes+len(m.Data) > q.limits.Bytes) {
		q.lost++
		q.signalLocked()
		return false
	}
	if q.n == len(q.ring) {
		q.growLocked()
	}
	i := q.head + q.n
	if i >= len(q.ring) {
		i -= len(q.ring)
	}
	q.ring[i] = m
	q.n++
	q.bytes += len(m.Data)
	q.signalLocked()
	return true
}

// Lost records that n messages meant for this subscription were lost before
// reaching it; n may be LostUnknown. The loss is reported to onDrop from the
// subscription's goroutine.
func (q *Queue) Lost(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	if n < 0 {
		q.unknown = true
	} else {
		q.lost += n
	}
	q.signalLocked()
}

// Stop discards the queued messages and unreported losses, waits for a
// running handler or onDrop call to return, and stops the goroutine. After
// Stop returns, neither is called again. Stop is idempotent; it must not be
// called from the queue's own handler or onDrop, which it would wait for.
func (q *Queue) Stop() {
	q.mu.Lock()
	if !q.stopped {
		q.stopped = true
		clear(q.ring)
		q.ring, q.head, q.n = nil, 0, 0
		q.wake.Signal()
	}
	q.mu.Unlock()
	<-q.done
}

func (q *Queue) signalLocked() {
	if q.waiting {
		q.wake.Signal()
	}
}

// growLocked makes room for one more message in the ring.
func (q *Queue) growLocked() {
	size := max(16, 2*len(q.ring))
	size = min(size, q.limits.Msgs)
	ring := make([]Msg, size)
	k := copy(ring, q.ring[q.head:])
	copy(ring[k:], q.ring[:q.head])
	q.ring, q.head = ring, 0
}

func (q *Queue) run() {
	defer close(q.done)
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for !q.stopped && q.n == 0 && q.lost == 0 && !q.unknown {
			q.waiting = true
			q.wake.Wait()
			q.waiting = false
		}
		if q.stopped {
			return
		}
		lost, unknown := q.lost, q.unknown
		q.lost, q.unknown = 0, false
		var m Msg
		have := q.n > 0
		if have {
			m = q.ring[q.head]
			q.ring[q.head] = Msg{}
			q.head++
			if q.head == len(q.ring) {
				q.head = 0
			}
			q.n--
			if q.n == 0 {
				q.head = 0
				if len(q.ring) > ringShrink {
					q.ring = nil
				}
			}
			q.inFlight = true
		}
		q.mu.Unlock()
		if q.onDrop != nil {
			if lost > 0 {
				q.onDrop(lost)
			}
			if unknown {
				q.onDrop(LostUnknown)
			}
		}
		if have {
			q.h(m)
		}
		q.mu.Lock()
		if have {
			q.inFlight = false
			q.bytes -= len(m.Data)
		}
	}
}
