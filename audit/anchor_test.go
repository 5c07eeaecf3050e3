package audit

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kurir"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// syncBuffer is a log destination that Run's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func readHeadsFile(t *testing.T, path string) []Head {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hs, err := ReadHeads(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return hs
}

func TestAnchorWritesHeads(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		path := filepath.Join(t.TempDir(), "audit-heads.log")
		var logs syncBuffer
		a := &Anchor{DB: db.Read(), Path: path, Clock: kurir.SystemClock{}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}

		if _, wrote, err := a.Once(t.Context()); err != nil || wrote {
			t.Fatalf("empty log: wrote %v, %v; want nothing written", wrote, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Fatalf("empty log: heads file %v, %v; want it created empty", fi, err)
		}

		es := record(t, db, 3)
		before := time.Now().Add(-time.Second)
		h, wrote, err := a.Once(t.Context())
		if err != nil || !wrote || h.ID != 3 || h.Hash != es[2].Hash || h.At.Before(before) {
			t.Fatalf("Once = %+v, %v, %v; want entry 3's head written now", h, wrote, err)
		}
		if _, wrote, err := a.Once(t.Context()); err != nil || wrote {
			t.Errorf("unchanged head: wrote %v, %v; want it not written twice", wrote, err)
		}
		es = append(es, record(t, db, 2)...)
		if _, wrote, err := a.Once(t.Context()); err != nil || !wrote {
			t.Fatalf("moved head: wrote %v, %v", wrote, err)
		}
		hs := readHeadsFile(t, path)
		if len(hs) != 2 || hs[0].ID != 3 || hs[0].Hash != es[2].Hash || hs[1].ID != 5 || hs[1].Hash != es[4].Hash || !hs[0].At.Equal(h.At) {
			t.Fatalf("heads file = %+v, want entries 3 then 5 with their hashes", hs)
		}

		// The server's JSON log carries the same heads, as structured info
		// lines that ReadHeads reads too.
		var logged []string
		for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
			if strings.Contains(line, `"level":"INFO","msg":"audit head"`) {
				logged = append(logged, line)
			}
		}
		lh, err := ReadHeads(strings.NewReader(strings.Join(logged, "\n")))
		if err != nil || len(lh) != 2 || lh[0].ID != 3 || lh[1].ID != 5 || lh[1].Hash != es[4].Hash {
			t.Fatalf("logged heads = %+v, %v; log:\n%s", lh, err, logs.String())
		}

		// Run anchors on each tick, and once more as it stops.
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { a.Run(ctx, 20*time.Millisecond); close(done) }()
		record(t, db, 1)
		for deadline := time.Now().Add(10 * time.Second); len(readHeadsFile(t, path)) < 3; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("Run wrote no head for entry 6")
			}
		}
		time.Sleep(50 * time.Millisecond) // a tick with nothing new writes nothing
		last := record(t, db, 1)[0]
		cancel()
		<-done
		hs = readHeadsFile(t, path)
		if len(hs) < 4 || hs[2].ID != 6 || hs[len(hs)-1].ID != 7 || hs[len(hs)-1].Hash != last.Hash {
			t.Fatalf("heads after Run = %+v, want 6 and then 7 (written on stopping at the latest)", hs)
		}
		if len(hs) != 4 {
			t.Errorf("heads after Run = %+v: an unchanged head was written again", hs)
		}
	}, Migrations)
}

func TestAnchorReportsAnUnwritableFile(t *testing.T) {
	db := sqldbtest.SQLite(t, Migrations)
	a := &Anchor{DB: db.Read(), Path: filepath.Join(t.TempDir(), "no-such-dir", "heads.log"), Clock: kurir.SystemClock{},
		Log: slog.New(slog.DiscardHandler)}
	if _, _, err := a.Once(t.Context()); err == nil || !strings.Contains(err.Error(), "heads file") {
		t.Fatalf("Once on an empty log into a missing directory: %v; want an error about the heads file", err)
	}
	record(t, db, 1)
	if _, wrote, err := a.Once(t.Context()); err == nil || wrote || !strings.Contains(err.Error(), "heads file") {
		t.Fatalf("Once into a missing directory: wrote %v, %v; want an error about the heads file", wrote, err)
	}
	a.Path = filepath.Join(t.TempDir(), "heads.log")
	if _, wrote, err := a.Once(t.Context()); err != nil || !wrote {
		t.Fatalf("after the failure the head is tried again: wrote %v, %v", wrote, err)
	}
}

// TestRewriteIsCaughtByAnchoredHeads rewrites the table from entry 6 onward
// and recomputes the chain, as someone with write access could: Verify is
// satisfied, the anchored heads are not.
func TestRewriteIsCaughtByAnchoredHeads(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		var heads []Head
		a := &Anchor{DB: db.Read(), Clock: kurir.SystemClock{}, Log: slog.New(slog.DiscardHandler)}
		anchor := func() {
			t.Helper()
			h, wrote, err := a.Once(t.Context())
			if err != nil || !wrote {
				t.Fatalf("anchor: %v, %v", wrote, err)
			}
			heads = append(heads, h)
		}
		record(t, db, 4)
		anchor() // 4
		record(t, db, 6)
		anchor() // 10
		record(t, db, 2)
		anchor() // 12

		r, err := CheckHeads(t.Context(), db.Read(), heads)
		if err != nil || r != (HeadsResult{Checked: 3, First: -1, LastGood: -1}) {
			t.Fatalf("untouched log: %+v, %v; want every head to match", r, err)
		}

		exec(t, db, `DELETE FROM audit_log WHERE id >= 6`)
		exec(t, db, `UPDATE audit_head SET last_id = 5, last_hash = (SELECT hash FROM audit_log WHERE id = 5)`)
		for range 7 {
			if _, err := Record(t.Context(), db, Entry{Action: "user.create", Subject: "user:1"}); err != nil {
				t.Fatal(err)
			}
		}
		if v := verify(t, db.Read()); !v.OK || v.Entries != 12 {
			t.Fatalf("the rewritten chain should verify: %+v", v)
		}
		r, err = CheckHeads(t.Context(), db.Read(), heads)
		if err != nil {
			t.Fatal(err)
		}
		es := list(t, db, Filter{Before: 11, Limit: 1})
		if r.Checked != 3 || r.Failed != 2 || r.First != 1 || r.Now != es[0].Hash || r.LastGood != 0 {
			t.Fatalf("rewritten log: %+v; want heads 10 and 12 failed, 10 first (now %s), 4 still good", r, es[0].Hash)
		}

		// Rewritten from the start and shorter than an anchored head.
		exec(t, db, `DELETE FROM audit_log`)
		exec(t, db, `UPDATE audit_head SET last_id = 0, last_hash = ''`)
		record(t, db, 3)
		r, err = CheckHeads(t.Context(), db.Read(), heads)
		if err != nil || r.Failed != 3 || r.First != 0 || r.Now != "" || r.LastGood != -1 {
			t.Fatalf("log cut short and rewritten: %+v, %v; want head 4 first, with no entry 4 now", r, err)
		}
	}, Migrations)
}

func TestReadHeads(t *testing.T) {
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	good := `{"id":3,"hash":"` + hash + `","at":"2026-11-29T17:45:00.123456Z"}` + "\n\n" +
		`{"time":"2026-11-29T18:00:00Z","level":"INFO","msg":"audit head","component":"audit","id":7,"hash":"` + strings.ToUpper(hash) + `"}` + "\r\n"
	hs, err := ReadHeads(strings.NewReader(good))
	if err != nil || len(hs) != 2 || hs[0].ID != 3 || hs[1].ID != 7 || hs[1].Hash != hash || hs[0].Line != 1 || hs[1].Line != 3 ||
		!hs[0].At.Equal(time.Date(2026, 11, 29, 17, 45, 0, 123456000, time.UTC)) {
		t.Fatalf("ReadHeads = %+v, %v", hs, err)
	}
	for _, tt := range []struct{ name, in, want string }{
		{"not JSON", "3:" + hash + "\n", "line 1: not a head"},
		{"no ID", "\n" + `{"hash":"` + hash + `"}`, "line 2: not a head: no entry ID"},
		{"negative ID", `{"id":-1,"hash":"` + hash + `"}`, "no entry ID of 1 or more"},
		{"short hash", `{"id":1,"hash":"abc"}`, "line 1: not a head: the hash is not 64 hex digits"},
		{"not hex", `{"id":1,"hash":"` + strings.Repeat("zz", 32) + `"}`, "not 64 hex digits"},
		{"bad time", `{"id":1,"hash":"` + hash + `","at":"yesterday"}`, "line 1: not a head"},
		{"torn line", `{"id":1,"hash":"` + hash + `"}` + "\n" + `{"id":2,"ha`, "line 2: not a head"},
		{"too long", `{"id":1,"hash":"` + hash + `"}` + "\n" + strings.Repeat(" ", maxHeadLine+1), "line 2: not a head: longer than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := ReadHeads(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) || hs != nil {
				t.Errorf("ReadHeads = %+v, %v; want an error containing %q", hs, err, tt.want)
			}
		})
	}
}
