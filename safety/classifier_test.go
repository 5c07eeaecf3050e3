package safety_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/blob"
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/safety"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

type classifierEnv struct {
	files   *media.Service
	user    kurir.UserID
	clock   *clocktest.Fake
	db      *sqldb.DB
	calls   atomic.Int64
	mu      sync.Mutex
	verdict map[string]string // by sha256 hex
	fail    atomic.Bool
}

func newClassifierEnv(t *testing.T) *classifierEnv {
	db := sqldbtest.SQLite(t, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations)
	e := &classifierEnv{clock: clocktest.New(time.Time{}), db: db, verdict: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		if e.fail.Load() || r.Header.Get("X-Kurir-SHA256") != hex.EncodeToString(sum[:]) {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		e.mu.Lock()
		v := e.verdict[hex.EncodeToString(sum[:])]
		e.mu.Unlock()
		if v == "" {
			v = "allow"
		}
		w.Write([]byte(`{"action":"` + v + `","reason":"test classifier"}`))
	}))
	t.Cleanup(srv.Close)
	acc := account.NewService(db, e.clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	u, err := acc.Register(t.Context(), account.RegisterParams{Username: "classified", Password: "wet-otter-lantern-9"})
	if err != nil {
		t.Fatal(err)
	}
	e.user = u.ID
	var c *safety.Classifier
	cfg := media.Config{Stored: func(m media.Media, open func(context.Context) (blob.Object, error)) { c.Stored(m, open) }}
	e.files = mediatest.New(t, db, messaging.NewService(db, nil, e.clock, nil, messaging.Config{}), e.clock, nil, cfg)
	c = safety.NewClassifier(safety.ClassifierConfig{URL: srv.URL, Timeout: 5 * time.Second}, e.files.Remove, db, e.clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx, 1); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

func (e *classifierEnv) upload(t *testing.T, content string) media.Media {
	t.Helper()
	m, err := e.files.Upload(t.Context(), e.user, media.UploadParams{Name: "f.bin", Size: int64(len(content))}, bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *classifierEnv) waitCalls(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); e.calls.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("classifier called %d times, want %d", e.calls.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClassifierTakesDown: an upload the classifier blocks becomes
// unavailable after the fact; one it flags stays and is recorded.
func TestClassifierTakesDown(t *testing.T) {
	e := newClassifierEnv(t)
	bad, flagged := "content the classifier blocks", "content the classifier flags"
	for content, v := range map[string]string{bad: "block", flagged: "flag"} {
		sum := sha256.Sum256([]byte(content))
		e.verdict[hex.EncodeToString(sum[:])] = v
	}
	m := e.upload(t, bad)
	f := e.upload(t, flagged)
	ok := e.upload(t, "harmless content")
	e.waitCalls(t, 3)
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, err := e.files.Get(t.Context(), e.user, m.ID)
		if kurir.ErrorReason(err) == "media_removed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blocked upload still available: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, id := range []media.ID{f.ID, ok.ID} {
		if _, err := e.files.Get(t.Context(), e.user, id); err != nil {
			t.Errorf("media %d: %v, want it still there", id, err)
		}
	}
	var flags int
	for deadline := time.Now().Add(5 * time.Second); flags == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		e.db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM safety_signals WHERE source = 'classifier' AND action = 'flag'`).Scan(&flags)
	}
	if flags != 1 {
		t.Errorf("%d flag signals recorded, want 1", flags)
	}
}

// TestClassifierBreaker: after five failures in a row the classifier is
// left alone for the cool-down, then tried again.
func TestClassifierBreaker(t *testing.T) {
	e := newClassifierEnv(t)
	e.fail.Store(true)
	for i := range 5 {
		e.upload(t, "failing "+string(rune('a'+i)))
		e.waitCalls(t, int64(i+1))
	}
	for i := range 3 {
		e.upload(t, "skipped "+string(rune('a'+i)))
	}
	time.Sleep(100 * time.Millisecond) // let the worker take them
	if n := e.calls.Load(); n != 5 {
		t.Errorf("classifier called %d times with its breaker open, want 5", n)
	}
	e.clock.Advance(31 * time.Second)
	e.fail.Store(false)
	e.upload(t, "after the cool-down")
	e.waitCalls(t, 6)
}
