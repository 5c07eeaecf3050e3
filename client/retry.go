package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// Retry is how Client.Send retries a message whose fate it does not know.
// Zero fields take the defaults given below.
//
// Send tries again when an attempt got no response (a refused or dropped
// connection, a timeout of the http.Client, a response cut short) or got 429
// Too Many Requests or any 5xx status. Every attempt carries the same
// idempotency key, and the server stores at most one message per key and
// answers a repeat with the message it stored first, so a retry never posts a
// message twice — even when an earlier attempt was committed and only its
// answer was lost. Any other status is final and returned at once, as is a
// failure of the caller's context.
//
// Before attempt n+1, Send waits MinDelay·2^(n-1), at most MaxDelay, of which
// a random part (up to half) is left out so that many clients failing at once
// do not retry in step; if the server sent Retry-After, Send waits at least
// that long. It does not wait, but returns the last error at once, when the
// Retry-After is longer than MaxRetryAfter or the wait would outlast the
// context's deadline: the caller then has the *Error with its RetryAfter.
type Retry struct {
	// Attempts is the most requests one Send makes, counting the first
	// (default 4). 1 turns retrying off.
	Attempts int
	// MinDelay is the wait before the first retry (default 50ms).
	MinDelay time.Duration
	// MaxDelay caps the exponential backoff (default 2s).
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After that Send waits out
	// (default 30s).
	MaxRetryAfter time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.MinDelay <= 0 {
		r.MinDelay = 50 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 2 * time.Second
	}
	if r.MaxDelay < r.MinDelay {
		r.MaxDelay = r.MinDelay
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 30 * time.Second
	}
	return r
}

// backoff returns the jittered wait after the attempt-th failure (1-based).
func (r Retry) backoff(attempt int) time.Duration {
	d := r.MaxDelay
	if attempt < 32 && r.MinDelay<<(attempt-1) < r.MaxDelay {
		d = r.MinDelay << (attempt - 1)
	}
	return d - rand.N(d/2+1)
}

// wait returns how long to wait before retrying after the attempt-th
// failure err, and false if err should not be retried.
func (r Retry) wait(ctx context.Context, attempt int, err error) (time.Duration, bool) {
	if attempt >= r.Attempts || ctx.Err() != nil {
		return 0, false
	}
	var after time.Duration
	var e *Error
	var ne *netError
	switch {
	case errors.As(err, &e):
		if e.Status != http.StatusTooManyRequests && e.Status < 500 {
			return 0, false
		}
		after = e.RetryAfter
		if after > r.MaxRetryAfter {
			return 0, false
		}
	case errors.As(err, &ne):
		// A certificate the client refuses will be refused again.
		var unknown x509.UnknownAuthorityError
		var hostname x509.HostnameError
		var verify *tls.CertificateVerificationError
		if errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &verify) {
			return 0, false
		}
	default:
		return 0, false
	}
	d := max(r.backoff(attempt), after)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return 0, false
	}
	return d, true
}

// sleep waits for d or until ctx is done, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
