package audit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"kurir"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

// record appends n varied entries and returns them as stored.
func record(t testing.TB, db *sqldb.DB, n int) []Entry {
	t.Helper()
	roles := []kurir.Role{"", kurir.RoleModerator, kurir.RoleLegal, kurir.RoleAdmin, kurir.RoleTriage}
	out := make([]Entry, 0, n)
	for i := range n {
		e, err := Record(t.Context(), db, Entry{
			Actor:   kurir.UserID(i % 4),
			Role:    roles[i%len(roles)],
			Action:  []string{"case.view", "action.takedown", "appeal.decide"}[i%3],
			Subject: fmt.Sprintf("message:%d:%d", i%7, i),
			Detail:  fmt.Sprintf(`{"n":%d,"note":"żółw — 亀"}`, i),
		})
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func verify(t testing.TB, q sqldb.Querier) Result {
	t.Helper()
	r, err := Verify(t.Context(), q)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return r
}

func exec(t testing.TB, db *sqldb.DB, query string, args ...any) {
	t.Helper()
	err := db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(), query, args...)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestChainVerifies(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		if r := verify(t, db.Read()); !r.OK || r.Entries != 0 || r.Head != "" {
			t.Fatalf("empty log: %+v, want intact with 0 entries", r)
		}
		const n = 300
		es := record(t, db, n)
		for i, e := range es {
			if e.ID != int64(i+1) {
				t.Fatalf("entry %d has ID %d", i+1, e.ID)
			}
			if i > 0 && e.Prev != es[i-1].Hash || i == 0 && e.Prev != "" {
				t.Fatalf("entry %d: prev %q, want the hash before it", e.ID, e.Prev)
			}
			if len(e.Hash) != 64 || e.At.IsZero() {
				t.Fatalf("entry %d: hash %q, at %v", e.ID, e.Hash, e.At)
			}
		}
		r := verify(t, db.Read())
		if want := (Result{Entries: n, OK: true, Head: es[n-1].Hash}); r != want {
			t.Errorf("verify = %+v, want %+v", r, want)
		}
		// The same inside a read transaction, as a consistent snapshot.
		err := db.ReadTx(t.Context(), func(tx *sqldb.Tx) error {
			if r := verify(t, tx); !r.OK || r.Entries != n {
				t.Errorf("verify in a transaction = %+v", r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}, Migrations)
}

// TestTamperingIsFound edits the stored log the way someone with database
// access could, and checks that Verify names the entry where the chain breaks.
func TestTamperingIsFound(t *testing.T) {
	const n = 10
	tests := []struct {
		name        string
		tamper      func(t *testing.T, db *sqldb.DB, es []Entry)
		wantAt      int64
		wantProblem string
	}{
		{name: "edit detail", wantAt: 5, wantProblem: "hash does not match its content", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `UPDATE audit_log SET detail = 'nothing to see' WHERE id = 5`)
		}},
		{name: "edit actor", wantAt: 7, wantProblem: "hash does not match its content", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `UPDATE audit_log SET actor_id = 999 WHERE id = 7`)
		}},
		{name: "edit time of the first", wantAt: 1, wantProblem: "hash does not match its content", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `UPDATE audit_log SET at = at + 1 WHERE id = 1`)
		}},
		{name: "edit the last", wantAt: n, wantProblem: "hash does not match its content", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `UPDATE audit_log SET subject = 'user:1' WHERE id = $1`, n)
		}},
		{name: "edit and rehash", wantAt: 6, wantProblem: "does not match entry 5's hash", tamper: func(t *testing.T, db *sqldb.DB, es []Entry) {
			e := es[4]
			e.Detail = "rewritten"
			exec(t, db, `UPDATE audit_log SET detail = $1, hash = $2 WHERE id = 5`, e.Detail, e.hash())
		}},
		{name: "delete a middle entry", wantAt: 4, wantProblem: "missing (the log goes from entry 3 to 5)", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id = 4`)
		}},
		{name: "delete the first entry", wantAt: 1, wantProblem: "starts at entry 2", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id = 1`)
		}},
		{name: "delete the last entry", wantAt: n, wantProblem: "cut short", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id = $1`, n)
		}},
		{name: "delete every entry", wantAt: 1, wantProblem: "records 10 entries but the log ends at entry 0", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_log`)
		}},
		{name: "delete the last and rewind the head", wantAt: n - 1, wantProblem: "does not match the one the log's head recorded", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_log WHERE id = $1`, n)
			exec(t, db, `UPDATE audit_head SET last_id = last_id - 1`)
		}},
		{name: "add past the head", wantAt: n + 1, wantProblem: "past the log's head", tamper: func(t *testing.T, db *sqldb.DB, es []Entry) {
			e := es[n-1]
			e.ID, e.Prev, e.Detail = n+1, e.Hash, "forged"
			exec(t, db, `INSERT INTO audit_log (`+columns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				e.ID, sqldb.Micros(e.At), int64(e.Actor), string(e.Role), e.Action, e.Subject, e.Detail, e.Prev, e.hash())
		}},
		{name: "delete the head", wantAt: 0, wantProblem: "head row is missing", tamper: func(t *testing.T, db *sqldb.DB, _ []Entry) {
			exec(t, db, `DELETE FROM audit_head`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
				es := record(t, db, n)
				if r := verify(t, db.Read()); !r.OK {
					t.Fatalf("before tampering: %+v", r)
				}
				tt.tamper(t, db, es)
				r := verify(t, db.Read())
				if r.OK || r.BrokenAt != tt.wantAt || !strings.Contains(r.Problem, tt.wantProblem) {
					t.Errorf("verify = %+v, want broken at %d with %q", r, tt.wantAt, tt.wantProblem)
				}
				if r.Head != "" {
					t.Errorf("a broken log reports head %q", r.Head)
				}
			}, Migrations)
		})
	}
}

// TestConcurrentAppendsFormOneChain appends from many goroutines through two
// database handles at once, as two nodes of a cluster would.
func TestConcurrentAppendsFormOneChain(t *testing.T) {
	for engine, url := range sqldbtest.URLs(t) {
		t.Run(string(engine), func(t *testing.T) {
			nodes := make([]*sqldb.DB, 2)
			for i := range nodes {
				db, err := sqldb.Open(t.Context(), url, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if err := db.Migrate(t.Context(), Migrations); err != nil {
					t.Fatal(err)
				}
				nodes[i] = db
			}
			const workers, each = 16, 25
			ids := make(chan int64, workers*each)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						e, err := Record(t.Context(), nodes[w%2], Entry{Actor: kurir.UserID(w + 1), Role: kurir.RoleModerator,
							Action: "case.view", Subject: fmt.Sprintf("case:%d", i)})
						if err != nil {
							t.Errorf("worker %d: %v", w, err)
							return
						}
						ids <- e.ID
					}
				})
			}
			wg.Wait()
			close(ids)
			seen := map[int64]bool{}
			for id := range ids {
				if seen[id] {
					t.Errorf("ID %d given twice", id)
				}
				seen[id] = true
			}
			for id := int64(1); id <= workers*each; id++ {
				if !seen[id] {
					t.Errorf("ID %d never given", id)
				}
			}
			for i, db := range nodes {
				if r := verify(t, db.Read()); !r.OK || r.Entries != workers*each {
					t.Errorf("node %d: verify = %+v, want %d entries intact", i, r, workers*each)
				}
			}
		})
	}
}

// TestRolledBackAppendLeavesNoTrace appends in transactions that fail, beside
// ones that commit: only the committed entries are in the log, which still
// verifies and has no gaps.
func TestRolledBackAppendLeavesNoTrace(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		refused := errors.New("the change failed")
		var wg sync.WaitGroup
		var mu sync.Mutex
		committed := 0
		for i := range 60 {
			wg.Go(func() {
				err := db.WriteTx(t.Context(), func(tx *sqldb.Tx) error {
					if _, err := Append(t.Context(), tx, Entry{Action: "user.ban", Subject: fmt.Sprint("user:", i)}); err != nil {
						return err
					}
					if i%3 == 0 {
						return refused
					}
					return nil
				})
				switch {
				case err == nil && i%3 != 0:
					mu.Lock()
					committed++
					mu.Unlock()
				case !errors.Is(err, refused) || i%3 != 0:
					t.Errorf("write %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		r := verify(t, db.Read())
		if !r.OK || r.Entries != int64(committed) || committed != 40 {
			t.Errorf("verify = %+v after %d commits, want 40 entries intact", r, committed)
		}
		for _, e := range list(t, db, Filter{Limit: MaxLimit}) {
			var i int
			fmt.Sscanf(e.Subject, "user:%d", &i)
			if i%3 == 0 {
				t.Errorf("entry %d records a change that rolled back (%s)", e.ID, e.Subject)
			}
		}
		e, err := Record(t.Context(), db, Entry{Action: "case.view"})
		if err != nil || e.ID != int64(committed+1) {
			t.Errorf("next entry: ID %d, %v; want %d", e.ID, err, committed+1)
		}
	}, Migrations)
}

func list(t testing.TB, db *sqldb.DB, f Filter) []Entry {
	t.Helper()
	es, err := List(t.Context(), db.Read(), f)
	if err != nil {
		t.Fatalf("list %+v: %v", f, err)
	}
	return es
}

func ids(es []Entry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestList(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		all := record(t, db, 12) // actor i%4, action by i%3, subject message:i%7:i
		if got := list(t, db, Filter{}); !reflect.DeepEqual(got[0], all[11]) || len(got) != 12 {
			t.Fatalf("list = %d entries, first %+v; want 12, newest first, as Record returned them", len(got), got[0])
		}
		tests := []struct {
			name string
			f    Filter
			want []int64
		}{
			{name: "everything", f: Filter{}, want: []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{name: "actor", f: Filter{Actor: 2}, want: []int64{11, 7, 3}},
			{name: "subject", f: Filter{Subject: "message:1:8"}, want: []int64{9}},
			{name: "action", f: Filter{Action: "appeal.decide"}, want: []int64{12, 9, 6, 3}},
			{name: "actor and action", f: Filter{Actor: 1, Action: "action.takedown"}, want: []int64{2}},
			{name: "before", f: Filter{Before: 4}, want: []int64{3, 2, 1}},
			{name: "limit", f: Filter{Limit: 2}, want: []int64{12, 11}},
			{name: "page", f: Filter{Before: 11, Limit: 3, Action: "case.view"}, want: []int64{10, 7, 4}},
			{name: "nothing", f: Filter{Subject: "user:404"}, want: []int64{}},
		}
		for _, tt := range tests {
			if got := ids(list(t, db, tt.f)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
		}
		for _, f := range []Filter{{Limit: -1}, {Limit: MaxLimit + 1}, {Actor: -1}, {Before: -2}} {
			if _, err := List(t.Context(), db.Read(), f); kurir.ErrorCode(err) != kurir.EInvalid {
				t.Errorf("list %+v: %v, want invalid", f, err)
			}
		}
	}, Migrations)
}

func TestAppendCleansAndRefuses(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		bad := []Entry{
			{Action: ""},
			{Action: "case view"},
			{Action: strings.Repeat("a", MaxAction+1)},
			{Action: "case.view", Role: "king"},
			{Action: "case.view", Actor: -1},
			{Action: "case.view", Subject: "chat:1\n"},
			{Action: "case.view", Subject: "chat:\xff"},
			{Action: "case.view", Subject: strings.Repeat("s", MaxSubject+1)},
		}
		for _, e := range bad {
			if _, err := Record(ctx, db, e); kurir.ErrorCode(err) != kurir.EInvalid {
				t.Errorf("record %+v: %v, want invalid", e, err)
			}
		}
		if r := verify(t, db.Read()); !r.OK || r.Entries != 0 {
			t.Fatalf("after refusals: %+v, want an empty log", r)
		}

		at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("WIB", 7*3600))
		tests := []struct {
			name   string
			detail string
			check  func(string) bool
		}{
			{name: "long", detail: strings.Repeat("é", 3000), check: func(s string) bool {
				return len(s) <= MaxDetail && len(s) > MaxDetail-4 && strings.HasSuffix(s, "é…")
			}},
			{name: "just fits", detail: strings.Repeat("x", MaxDetail), check: func(s string) bool { return s == strings.Repeat("x", MaxDetail) }},
			{name: "NUL", detail: "a\x00b", check: func(s string) bool { return s == "a\uFFFDb" }},
			{name: "not UTF-8", detail: "a\xffb", check: func(s string) bool { return s == "a\uFFFDb" }},
		}
		for _, tt := range tests {
			e, err := Record(ctx, db, Entry{At: at, Action: "case.view", Detail: tt.detail})
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !tt.check(e.Detail) || !utf8.ValidString(e.Detail) {
				t.Errorf("%s: detail stored as %q (%d bytes)", tt.name, e.Detail[max(0, len(e.Detail)-16):], len(e.Detail))
			}
			if !e.At.Equal(at.Truncate(time.Microsecond)) {
				t.Errorf("%s: at = %v, want %v to the microsecond", tt.name, e.At, at)
			}
			if got := list(t, db, Filter{Limit: 1})[0]; !reflect.DeepEqual(got, e) {
				t.Errorf("%s: stored %+v, Record returned %+v", tt.name, got, e)
			}
		}
		before := time.Now().Add(-time.Second)
		if e, err := Record(ctx, db, Entry{Action: "case.view"}); err != nil || e.At.Before(before) {
			t.Errorf("zero At: %v, %v; want now", e.At, err)
		}
		if r := verify(t, db.Read()); !r.OK || r.Entries != int64(len(tests)+1) {
			t.Errorf("verify = %+v", r)
		}
	}, Migrations)
}

// TestHashEncodingIsUnambiguous moves bytes between neighbouring fields: with
// a plain concatenation these would hash alike.
func TestHashEncodingIsUnambiguous(t *testing.T) {
	base := hashOf("", 1, 2, 3, "admin", "case.view", "chat:1", "x")
	for name, h := range map[string]string{
		"action/subject": hashOf("", 1, 2, 3, "admin", "case.vie", "wchat:1", "x"),
		"role/action":    hashOf("", 1, 2, 3, "admi", "ncase.view", "chat:1", "x"),
		"subject/detail": hashOf("", 1, 2, 3, "admin", "case.view", "chat:", "1x"),
		"prev":           hashOf("0", 1, 2, 3, "admin", "case.view", "chat:1", "x"),
		"id":             hashOf("", 2, 2, 3, "admin", "case.view", "chat:1", "x"),
	} {
		if h == base {
			t.Errorf("%s: hashes alike", name)
		}
	}
	if base != hashOf("", 1, 2, 3, "admin", "case.view", "chat:1", "x") {
		t.Error("hash is not deterministic")
	}
}

func benchDBs(b *testing.B) map[sqldb.Engine]*sqldb.DB {
	dbs := map[sqldb.Engine]*sqldb.DB{sqldb.SQLite: sqldbtest.SQLite(b, Migrations)}
	if os.Getenv(sqldbtest.PostgresEnv) != "" {
		dbs[sqldb.Postgres] = sqldbtest.Postgres(b, Migrations)
	}
	return dbs
}

// BenchmarkRecord measures one audit entry in its own transaction, one
// caller at a time (serial) and from many at once (parallel), which SQLite
// commits in groups and PostgreSQL serialises on the head row.
func BenchmarkRecord(b *testing.B) {
	e := Entry{Actor: 7, Role: kurir.RoleModerator, Action: "case.view", Subject: "message:5:17",
		Detail: `{"case":12,"reason":"reported for harassment"}`}
	for engine, db := range benchDBs(b) {
		b.Run(string(engine)+"/serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Record(context.Background(), db, e); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(engine)+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := Record(context.Background(), db, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		if r, err := Verify(context.Background(), db.Read()); err != nil || !r.OK {
			b.Fatalf("after the benchmark: %+v, %v", r, err)
		}
	}
}

// BenchmarkVerify measures checking the chain, per entry.
func BenchmarkVerify(b *testing.B) {
	const n = 10000
	db := sqldbtest.SQLite(b, Migrations)
	err := db.WriteTx(context.Background(), func(tx *sqldb.Tx) error {
		for i := range n {
			if _, err := Append(context.Background(), tx, Entry{Actor: 7, Role: kurir.RoleModerator,
				Action: "case.view", Subject: fmt.Sprint("message:5:", i), Detail: `{"case":12}`}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r, err := Verify(context.Background(), db.Read()); err != nil || !r.OK || r.Entries != n {
			b.Fatalf("%+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
