package safety_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kurir"
	"kurir/account"
	"kurir/audit"
	"kurir/clocktest"
	"kurir/media"
	"kurir/media/mediatest"
	"kurir/messaging"
	"kurir/moderation"
	"kurir/safety"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// classifierServer is a classification service on a loopback port: it
// checks the body's hash and, with a secret, the signature, and answers
// the verdict set for the body's SHA-256 (a file) or for a word in the
// text (a message).
type classifierServer struct {
	url      string
	secret   []byte
	calls    atomic.Int64
	messages atomic.Int64 // calls about messages
	fail     atomic.Bool
	mu       sync.Mutex
	verdict  map[string]string // by sha256 hex of a file, or by a word of a message
	texts    []string          // the messages' texts it was sent
}

func newClassifierServer(t *testing.T, secret []byte) *classifierServer {
	s := &classifierServer{secret: secret, verdict: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		hexSum := hex.EncodeToString(sum[:])
		if s.fail.Load() || r.Header.Get("X-Kurir-SHA256") != hexSum {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		if s.secret != nil && r.Header.Get("X-Kurir-Signature") != safety.Sign(s.secret, r.Header.Get("X-Kurir-Timestamp"), hexSum) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		v := s.verdict[hexSum]
		if r.Header.Get("X-Kurir-Kind") == "message" {
			s.messages.Add(1)
			var m struct{ Text string }
			json.Unmarshal(body, &m)
			s.texts = append(s.texts, m.Text)
			for _, w := range strings.Fields(m.Text) {
				if s.verdict[w] != "" {
					v = s.verdict[w]
				}
			}
		}
		if v == "" {
			v = "allow"
		}
		w.Write([]byte(`{"action":"` + v + `","reason":"test classifier"}`))
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *classifierServer) set(key, verdict string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verdict[key] = verdict
}

func (s *classifierServer) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

type classifierEnv struct {
	srv   *classifierServer
	c     *safety.Classifier
	files *media.Service
	msg   *messaging.Service
	acc   *account.Service
	user  kurir.UserID
	clock *clocktest.Fake
	db    *sqldb.DB
}

// newClassifierEnv wires a classifier into media and messaging as kurir
// serve does; start runs it.
func newClassifierEnv(t *testing.T, db *sqldb.DB, cfg safety.ClassifierConfig, secret []byte) *classifierEnv {
	e := &classifierEnv{clock: clocktest.New(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)), db: db}
	e.srv = newClassifierServer(t, secret)
	cfg.URL, cfg.Timeout = e.srv.url, 5*time.Second
	e.c = safety.NewClassifier(cfg, db, e.clock, nil)
	e.acc = account.NewService(db, e.clock, nil, account.Config{Argon2: account.CheapArgon2Params, Limits: &account.Limits{}})
	u, err := e.acc.Register(t.Context(), account.RegisterParams{Username: "classified", Password: "wet-otter-lantern-9"})
	if err != nil {
		t.Fatal(err)
	}
	e.user = u.ID
	e.msg = messaging.NewService(db, nil, e.clock, nil, messaging.Config{Stored: e.c.MessageStored})
	e.files = mediatest.New(t, db, e.msg, e.clock, nil, media.Config{Stored: e.c.Stored})
	return e
}

func (e *classifierEnv) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.c.Run(ctx, 2, e.files, e.msg); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
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
	for deadline := time.Now().Add(5 * time.Second); e.srv.calls.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("classifier called %d times, want %d", e.srv.calls.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *classifierEnv) pending(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM safety_classify_jobs WHERE state = 'pending'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// TestClassifierTakesDown: an upload the classifier blocks becomes
// unavailable after the fact; one it flags stays and is recorded.
func TestClassifierTakesDown(t *testing.T) {
	e := newClassifierEnv(t, sqldbtest.SQLite(t, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations), safety.ClassifierConfig{}, nil)
	e.start(t)
	bad, flagged := "content the classifier blocks", "content the classifier flags"
	for content, v := range map[string]string{bad: "block", flagged: "flag"} {
		sum := sha256.Sum256([]byte(content))
		e.srv.set(hex.EncodeToString(sum[:]), v)
	}
	m := e.upload(t, bad)
	f := e.upload(t, flagged)
	ok := e.upload(t, "harmless content")
	e.waitCalls(t, 3)
	waitFor(t, "the blocked upload is removed", func() bool {
		_, err := e.files.Get(t.Context(), e.user, m.ID)
		return kurir.ErrorReason(err) == "media_removed"
	})
	for _, id := range []media.ID{f.ID, ok.ID} {
		if _, err := e.files.Get(t.Context(), e.user, id); err != nil {
			t.Errorf("media %d: %v, want it still there", id, err)
		}
	}
	waitFor(t, "one flag signal", func() bool {
		var flags int
		e.db.Read().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM safety_signals WHERE source = 'classifier' AND action = 'flag'`).Scan(&flags)
		return flags == 1
	})
	waitFor(t, "the queue is empty", func() bool { return e.pending(t) == 0 })
}

// TestClassifierBreakerAndDurableQueue: after five failures in a row the
// classifier is left alone for the cool-down, while what is uploaded
// meanwhile waits in the queue (none of it is dropped); then one call
// probes it, not every worker at once; a failed probe waits another
// cool-down, and once one succeeds everything queued is classified. A
// restarted node takes the queue over.
func TestClassifierBreakerAndDurableQueue(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations)
	e := newClassifierEnv(t, db, safety.ClassifierConfig{}, nil)
	e.srv.fail.Store(true)
	for i := range 5 {
		e.upload(t, "failing "+string(rune('a'+i)))
	}
	ctx := t.Context()
	// One worker at a time, step by step: five calls fail.
	for range 5 {
		if _, err := e.c.ClassifyDue(ctx, 1, e.files, e.msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.calls.Load(); n != 5 {
		t.Fatalf("%d calls, want 5", n)
	}
	for i := range 3 {
		e.upload(t, "waiting "+string(rune('a'+i)))
	}
	e.clock.Advance(11 * time.Second) // the failed jobs are due again, but the breaker is open
	if n, err := e.c.ClassifyDue(ctx, 8, e.files, e.msg); err != nil || n != 0 {
		t.Errorf("with the breaker open, ClassifyDue took %d jobs (%v), want none", n, err)
	}
	if n := e.srv.calls.Load(); n != 5 {
		t.Errorf("classifier called %d times with its breaker open, want 5", n)
	}
	if n := e.pending(t); n != 8 {
		t.Errorf("%d jobs queued, want all 8", n)
	}
	// After the cool-down, eight workers ask: one probe goes out.
	e.clock.Advance(31 * time.Second)
	if n, err := e.c.ClassifyDue(ctx, 8, e.files, e.msg); err != nil || n != 1 {
		t.Errorf("after the cool-down ClassifyDue took %d jobs (%v), want the one probe", n, err)
	}
	if n := e.srv.calls.Load(); n != 6 {
		t.Errorf("%d calls after the cool-down, want 6 (one probe)", n)
	}
	// The probe failed: the breaker is open again.
	if n, _ := e.c.ClassifyDue(ctx, 8, e.files, e.msg); n != 0 {
		t.Errorf("after a failed probe ClassifyDue took %d jobs, want none", n)
	}
	// A restarted node, with the classifier healthy again, classifies
	// everything still queued.
	e.srv.fail.Store(false)
	e.clock.Advance(time.Hour)
	e2 := safety.NewClassifier(safety.ClassifierConfig{URL: e.srv.url}, db, e.clock, nil)
	for i := 0; e.pending(t) > 0; i++ {
		if i > 10 {
			t.Fatalf("%d jobs still queued", e.pending(t))
		}
		if _, err := e2.ClassifyDue(ctx, 4, e.files, e.msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.calls.Load(); n != 6+8 {
		t.Errorf("%d calls in all, want 14 (each of the 8 uploads once more)", n)
	}
}

// TestClassifierSignsRequests: with a secret, every request carries an
// HMAC-SHA256 signature the service checks; a node with the wrong secret
// is refused, and its job is kept to be tried again.
func TestClassifierSignsRequests(t *testing.T) {
	db := sqldbtest.SQLite(t, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations)
	secret := []byte("a shared secret of some length")
	e := newClassifierEnv(t, db, safety.ClassifierConfig{Secret: []byte("the wrong secret, also long")}, secret)
	sum := sha256.Sum256([]byte("signed content"))
	e.srv.set(hex.EncodeToString(sum[:]), "block")
	m := e.upload(t, "signed content")
	if _, err := e.c.ClassifyDue(t.Context(), 1, e.files, e.msg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.files.Get(t.Context(), e.user, m.ID); err != nil {
		t.Fatalf("a refused call took the file down: %v", err)
	}
	if n := e.pending(t); n != 1 {
		t.Fatalf("%d jobs queued after a refused call, want 1", n)
	}
	right := safety.NewClassifier(safety.ClassifierConfig{URL: e.srv.url, Secret: secret}, db, e.clock, nil)
	e.clock.Advance(time.Minute)
	if _, err := right.ClassifyDue(t.Context(), 1, e.files, e.msg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.files.Get(t.Context(), e.user, m.ID); kurir.ErrorReason(err) != "media_removed" {
		t.Errorf("after a signed call with a block verdict: %v, want media_removed", err)
	}
}

// TestClassifierMessages: the text of messages in public channels and
// groups goes to the classifier after they are delivered; private chats'
// does not, unless the operator chose TextAll. A block removes the message
// for everyone and moderation records it as an automated decision its
// author can appeal to a person; a hold hides it pending a case; a flag
// opens a case and leaves it up.
func TestClassifierMessages(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		e := newClassifierEnv(t, db, safety.ClassifierConfig{}, nil)
		e.srv.set("glimmerfraud", "block")
		e.srv.set("zorblax", "hold")
		e.srv.set("quibbleton", "flag")
		reader, err := e.acc.Register(ctx, account.RegisterParams{Username: "reader", Password: "wet-otter-lantern-9"})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := e.msg.CreateChannel(ctx, e.user, messaging.NewChat{Title: "News", Username: "news_daily"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.msg.Join(ctx, reader.ID, ch.ID); err != nil {
			t.Fatal(err)
		}
		private, err := e.msg.OpenPrivate(ctx, e.user, reader.ID)
		if err != nil {
			t.Fatal(err)
		}
		send := func(chat messaging.ChatID, text string) messaging.Message {
			t.Helper()
			m, err := e.msg.Send(ctx, e.user, chat, messaging.SendParams{Text: text, IdempotencyKey: text})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		blocked := send(ch.ID, "buy glimmerfraud coins now")
		held := send(ch.ID, "zorblax giveaway")
		flagged := send(ch.ID, "quibbleton weekly")
		fine := send(ch.ID, "the weather today")
		send(private.ID, "glimmerfraud between friends")
		edited := send(ch.ID, "a harmless first draft")
		e.start(t)
		waitFor(t, "the queue is empty", func() bool { return e.pending(t) == 0 })
		if got := e.srv.sent(); len(got) != 5 || slicesContain(got, "glimmerfraud between friends") {
			t.Errorf("the classifier was sent %q; want the 5 channel posts and not the private message", got)
		}
		// An edit is classified again: a harmless post edited into a
		// blocked one comes down.
		if _, err := e.msg.Edit(ctx, e.user, ch.ID, edited.Seq, "now selling glimmerfraud"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the edit is classified", func() bool { return len(e.srv.sent()) == 6 && e.pending(t) == 0 })
		read := func(m messaging.Message) messaging.Message {
			t.Helper()
			got, err := e.msg.MessageVisible(ctx, reader.ID, m.ChatID, m.Seq)
			if kurir.ErrorCode(err) == kurir.ENotFound {
				return messaging.Message{Deleted: true} // a removed message is no longer readable
			}
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		for _, m := range []messaging.Message{blocked, held, edited} {
			if got := read(m); !got.Deleted || got.Text != "" {
				t.Errorf("message %q reads %+v; want it taken down", m.Text, got)
			}
		}
		for _, m := range []messaging.Message{flagged, fine} {
			if got := read(m); got.Deleted || got.Text != m.Text {
				t.Errorf("message %q reads %+v; want it up", m.Text, got)
			}
		}
		// Moderation files all three; the block is a decided case.
		mod := moderation.NewService(db, e.msg, e.acc, e.clock, nil, moderation.Config{})
		filed, err := mod.IntakeDetection(ctx, 100)
		if err != nil || filed != 4 {
			t.Fatalf("intake filed %d (%v), want 4", filed, err)
		}
		acts, _, err := mod.Statements(ctx, e.user)
		if err != nil {
			t.Fatal(err)
		}
		var removed []int64
		for _, a := range acts {
			if a.Kind != moderation.RemoveMessage || !a.AutomatedDecision {
				t.Errorf("statement %+v; want automated removals only", a)
			}
			removed = append(removed, a.Subject.Seq)
		}
		slices.Sort(removed)
		if want := []int64{blocked.Seq, edited.Seq}; !slices.Equal(removed, want) {
			t.Fatalf("automated removals of messages %v, want %v", removed, want)
		}
		slices.SortFunc(acts, func(a, b moderation.Action) int { return int(a.Subject.Seq - b.Subject.Seq) })
		if st := mod.Statement(acts[0], nil, "en"); !strings.Contains(st.Automation, "taken by automated means") {
			t.Errorf("statement automation: %q", st.Automation)
		}
		if _, err := mod.FileAppeal(ctx, e.user, acts[0].ID, "It was a joke about a game."); err != nil {
			t.Errorf("appealing the automated removal: %v", err)
		}
		// A held message is released by ReleaseHeld, as one held at sending.
		if ok, err := e.msg.ReleaseHeld(ctx, held.ChatID, held.Seq); err != nil || !ok {
			t.Errorf("ReleaseHeld: %v, %v; want the held message released", ok, err)
		}
		if got := read(held); got.Deleted || got.Text != held.Text {
			t.Errorf("released message reads %+v", got)
		}
	}, account.Migrations, media.Migrations, messaging.Migrations, hashbank.Migrations, safety.Migrations, audit.Migrations, moderation.Migrations)
}

// TestClassifierTextScope: with TextAll a private chat's messages are sent
// too; with TextOff no message is, and a message deleted before its turn
// is never sent.
func TestClassifierTextScope(t *testing.T) {
	for _, tc := range []struct {
		scope safety.TextScope
		want  int
	}{{safety.TextAll, 1}, {safety.TextOff, 0}, {safety.TextPublic, 0}} {
		t.Run(string(tc.scope), func(t *testing.T) {
			db := sqldbtest.SQLite(t, account.Migrations, media.Migrations, messaging.Migrations, safety.Migrations)
			e := newClassifierEnv(t, db, safety.ClassifierConfig{Text: tc.scope}, nil)
			ctx := t.Context()
			peer, err := e.acc.Register(ctx, account.RegisterParams{Username: "peer", Password: "wet-otter-lantern-9"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.msg.OpenPrivate(ctx, e.user, peer.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{"kept", "deleted"} {
				m, err := e.msg.Send(ctx, e.user, p.ID, messaging.SendParams{Text: text, IdempotencyKey: text})
				if err != nil {
					t.Fatal(err)
				}
				if text == "deleted" {
					if err := e.msg.Delete(ctx, e.user, p.ID, m.Seq); err != nil {
						t.Fatal(err)
					}
				}
			}
			for e.pending(t) > 0 {
				if _, err := e.c.ClassifyDue(ctx, 4, e.files, e.msg); err != nil {
					t.Fatal(err)
				}
			}
			if got := e.srv.messages.Load(); got != int64(tc.want) {
				t.Errorf("%d messages sent, want %d (%q)", got, tc.want, e.srv.sent())
			}
		})
	}
	if _, err := safety.ParseTextScope("everything"); err == nil {
		t.Error("ParseTextScope accepted an unknown scope")
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
