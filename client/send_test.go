package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/client"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// fault is what the flaky front does to one send.
type fault int

const (
	// pass lets the send through untouched.
	pass fault = iota
	// dropAfterCommit lets the server store the message, then closes the
	// connection instead of answering: the client cannot know it was stored.
	dropAfterCommit
	// dropBeforeCommit closes the connection without passing the send on.
	dropBeforeCommit
	// unavailableAfterCommit lets the server store the message, then answers
	// 503 as an overloaded proxy or a failing node might.
	unavailableAfterCommit
	// internalAfterCommit lets the server store the message, then answers 500.
	internalAfterCommit
	// tooManyBeforeCommit answers 429 with Retry-After: 1 without passing
	// the send on.
	tooManyBeforeCommit
	// tooManyLong answers 429 with Retry-After: 60 without passing the send on.
	tooManyLong
	// tooManyPastDeadline answers 429 with Retry-After: 10 (under the
	// client's MaxRetryAfter) without passing the send on.
	tooManyPastDeadline
	// forbidden answers 403 without passing the send on.
	forbidden
)

// flaky stands in front of the API and mistreats sends (POST
// /api/v1/chats/{id}/messages): the n-th send (from 1) gets faults(n). It
// records each send's idempotency key and arrival time.
type flaky struct {
	next   http.Handler
	faults func(n int) fault

	mu    sync.Mutex
	keys  []string
	times []time.Time
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/messages") {
		f.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req struct {
		IdempotencyKey string `json:"idempotency_key"`
	}
	json.Unmarshal(body, &req)
	f.mu.Lock()
	f.keys = append(f.keys, req.IdempotencyKey)
	f.times = append(f.times, time.Now())
	n := len(f.keys)
	f.mu.Unlock()

	commit := func() {
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		if rec.Code != http.StatusCreated {
			panic("flaky: the send to commit failed: " + rec.Body.String())
		}
	}
	problem := func(status int, code, retryAfter string) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		io.WriteString(w, `{"type":"urn:kurir:problem:`+code+`","title":"Oops","status":`+strconv.Itoa(status)+`,"detail":"Injected by the test.","code":"`+code+`"}`)
	}
	switch f.faults(n) {
	case pass:
		f.next.ServeHTTP(w, r)
	case dropAfterCommit:
		commit()
		hangUp(w)
	case dropBeforeCommit:
		hangUp(w)
	case unavailableAfterCommit:
		commit()
		problem(http.StatusServiceUnavailable, "unavailable", "")
	case internalAfterCommit:
		commit()
		problem(http.StatusInternalServerError, "internal", "")
	case tooManyBeforeCommit:
		problem(http.StatusTooManyRequests, "rate_limited", "1")
	case tooManyLong:
		problem(http.StatusTooManyRequests, "rate_limited", "60")
	case tooManyPastDeadline:
		problem(http.StatusTooManyRequests, "rate_limited", "10")
	case forbidden:
		problem(http.StatusForbidden, "forbidden", "")
	}
}

// hangUp closes the connection of w without a response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

func (f *flaky) sends() ([]string, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...), append([]time.Time(nil), f.times...)
}

// TestSendRetry proves that Send's own retries never duplicate a message:
// whatever happened to the first attempt, the chat ends with exactly one
// message, the one Send returned, and every attempt carried the same key.
func TestSendRetry(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		i := 0
		for _, tc := range []struct {
			name  string
			first fault
			// callerKey, if set, is the caller's own idempotency key.
			callerKey string
			// wait is the least time between the attempts.
			wait time.Duration
		}{
			{name: "connection closed after commit", first: dropAfterCommit},
			{name: "connection closed before commit", first: dropBeforeCommit},
			{name: "503 after commit", first: unavailableAfterCommit},
			{name: "500 after commit", first: internalAfterCommit},
			{name: "caller's key, connection closed after commit", first: dropAfterCommit, callerKey: "my-key-1"},
			{name: "429 with Retry-After", first: tooManyBeforeCommit, wait: time.Second},
		} {
			i++
			t.Run(tc.name, func(t *testing.T) {
				f := &flaky{faults: func(n int) fault {
					if n == 1 {
						return tc.first
					}
					return pass
				}}
				s := newServer(t, db, options{wrap: func(h http.Handler) http.Handler { f.next = h; return f }})
				ctx := t.Context()
				c, _ := s.user(t, "retry"+strconv.Itoa(i))
				g := must(c.CreateGroup(ctx, client.NewChat{Title: "Retries"}))(t, "create group")

				m, err := c.Send(ctx, g.ID, client.SendParams{Text: "exactly once", IdempotencyKey: tc.callerKey})
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				keys, times := f.sends()
				if len(keys) != 2 || keys[0] != keys[1] || keys[0] == "" {
					t.Fatalf("the server saw sends with keys %q, want two with one key", keys)
				}
				if tc.callerKey != "" && keys[0] != tc.callerKey {
					t.Errorf("sent key %q, want the caller's %q", keys[0], tc.callerKey)
				}
				if gap := times[1].Sub(times[0]); gap < tc.wait {
					t.Errorf("retried %v after the first attempt, want at least %v", gap, tc.wait)
				}
				hist := must(c.History(ctx, g.ID, client.After(0), 10))(t, "history")
				if len(hist) != 1 || hist[0] != m {
					t.Fatalf("history: %+v, want only the message Send returned: %+v", hist, m)
				}
			})
		}
	}, schema...)
}

// TestSendGivesUp checks that retries are bounded and that only failures
// with an unknown outcome are retried.
func TestSendGivesUp(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		fast := client.Retry{Attempts: 3, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
		i := 0
		for _, tc := range []struct {
			name     string
			fault    fault
			timeout  time.Duration // of the caller's context; 0 for none
			code     kurir.Code
			attempts int
			// stored is how many messages the chat has afterwards.
			stored int
		}{
			{name: "503 every time", fault: unavailableAfterCommit, code: kurir.EUnavailable, attempts: 3, stored: 1},
			{name: "connection closed every time", fault: dropBeforeCommit, attempts: 3},
			{name: "403 is final", fault: forbidden, code: kurir.EForbidden, attempts: 1},
			{name: "Retry-After beyond MaxRetryAfter", fault: tooManyLong, code: kurir.ERateLimited, attempts: 1},
			// The deadline leaves ample time for the first attempt on a
			// loaded machine, but not for the 10 s wait.
			{name: "Retry-After beyond the deadline", fault: tooManyPastDeadline, timeout: 5 * time.Second, code: kurir.ERateLimited, attempts: 1},
		} {
			i++
			t.Run(tc.name, func(t *testing.T) {
				f := &flaky{faults: func(int) fault { return tc.fault }}
				s := newServer(t, db, options{wrap: func(h http.Handler) http.Handler { f.next = h; return f }})
				ctx := t.Context()
				if tc.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.timeout)
					defer cancel()
				}
				c, _ := s.user(t, "giveup"+strconv.Itoa(i))
				g := must(c.CreateGroup(t.Context(), client.NewChat{Title: "Retries"}))(t, "create group")

				_, err := s.client(t, client.WithToken(c.Token()), client.WithRetry(fast)).Send(ctx, g.ID, client.SendParams{Text: "doomed"})
				if err == nil {
					t.Fatal("send succeeded")
				}
				if tc.code != "" && !client.IsCode(err, tc.code) {
					t.Errorf("got %v, want a %s error", err, tc.code)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("got %v: Send waited for a retry that could not happen in time", err)
				}
				if keys, _ := f.sends(); len(keys) != tc.attempts {
					t.Errorf("the server saw %d attempts, want %d", len(keys), tc.attempts)
				}
				hist := must(c.History(t.Context(), g.ID, client.After(0), 10))(t, "history")
				if len(hist) != tc.stored {
					t.Errorf("history has %d messages, want %d", len(hist), tc.stored)
				}
			})
		}
	}, schema...)
}
