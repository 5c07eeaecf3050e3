// Package clocktest provides a kurir.Clock for tests: time moves only when
// the test moves it, so suspensions, grace periods, edit windows and rate
// limits can be checked without sleeping.
package clocktest

import (
	"sync"
	"time"
)

// Start is the moment a Fake made by New(time.Time{}) starts at.
var Start = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// Fake is a clock that stands still until Advance or Set. It is safe for
// concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a Fake at t, or at Start for the zero time.
func New(t time.Time) *Fake {
	if t.IsZero() {
		t = Start
	}
	return &Fake{now: t}
}

// Now returns the clock's current time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Fake) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
