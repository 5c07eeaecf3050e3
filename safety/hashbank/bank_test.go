package hashbank_test

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kurir"
	"kurir/clocktest"
	"kurir/safety/hashbank"
	"kurir/sqldb"
	"kurir/sqldb/sqldbtest"
)

const pdqA = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"

// flip returns hex hash h with the first n bits flipped.
func flip(h string, n int) hashbank.PDQ {
	b, _ := hex.DecodeString(h)
	p := hashbank.PDQ(b)
	for i := range n {
		p[i/8] ^= 1 << (i % 8)
	}
	return p
}

func TestBanks(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clock := clocktest.New(time.Time{})
		s, err := hashbank.NewService(ctx, db, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBank(ctx, "CHILD_SAFETY", hashbank.Block, "known material"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBank(ctx, "SPAM", hashbank.Flag, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateBank(ctx, "bad name", hashbank.Block, ""); kurir.ErrorCode(err) != kurir.EInvalid {
			t.Errorf("bank name with a space: %v", err)
		}
		file := []byte("known bad file")
		sum, m5 := sha256.Sum256(file), md5.Sum(file)
		csv := fmt.Sprintf("signal_type,signal_value,provenance\npdq,%s,NCMEC list 2026-11\nsha256,%x,\nmd5,%x,\npdq,%s,again\n", pdqA, sum, m5, strings.ToUpper(pdqA))
		res, err := s.Import(ctx, "CHILD_SAFETY", strings.NewReader(csv), hashbank.CSV, "", "operator upload", nil)
		if err != nil || res.Added != 3 || res.Duplicates != 1 || res.Lines != 5 {
			t.Fatalf("import CSV = %+v, %v; want 3 added, 1 duplicate, 5 lines", res, err)
		}
		res, err = s.Import(ctx, "CHILD_SAFETY", strings.NewReader("# again\n"+pdqA+"\n"), hashbank.List, hashbank.SignalPDQ, "", nil)
		if err != nil || res.Added != 0 || res.Duplicates != 1 {
			t.Errorf("re-import = %+v, %v; want one duplicate", res, err)
		}

		// Lookups: exact hashes, and PDQ within 31 bits.
		if m := s.Lookup(ctx, &sum, nil, nil); len(m) != 1 || m[0].Action != hashbank.Block || m[0].Entry.Bank != "CHILD_SAFETY" {
			t.Errorf("SHA-256 lookup = %+v", m)
		}
		if m := s.Lookup(ctx, nil, &m5, nil); len(m) != 1 {
			t.Errorf("MD5 lookup = %+v", m)
		}
		if m := s.Lookup(ctx, nil, nil, []hashbank.PDQ{flip(pdqA, 20)}); len(m) != 1 || m[0].Distance != 20 || m[0].Entry.Provenance != "NCMEC list 2026-11" {
			t.Errorf("PDQ 20 bits away = %+v, want the entry at distance 20 with its provenance", m)
		}
		if m := s.Lookup(ctx, nil, nil, []hashbank.PDQ{flip(pdqA, 32)}); len(m) != 0 {
			t.Errorf("PDQ 32 bits away matched: %+v", m)
		}

		// Another node, sharing the database, sees a disable within a sync.
		other, err := hashbank.NewService(ctx, db, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := other.Lookup(ctx, &sum, nil, nil)
		if len(m) != 1 {
			t.Fatalf("second node lookup = %+v", m)
		}
		if err := s.SetEnabled(ctx, m[0].Entry.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := other.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if m := other.Lookup(ctx, &sum, nil, nil); len(m) != 0 {
			t.Errorf("disabled entry still matches on the other node: %+v", m)
		}
		if err := s.SetEnabled(ctx, m[0].Entry.ID, true); err != nil {
			t.Fatal(err)
		}
		other.Sync(ctx)
		if m := other.Lookup(ctx, &sum, nil, nil); len(m) != 1 {
			t.Errorf("re-enabled entry does not match on the other node: %+v", m)
		}

		banks, err := s.Banks(ctx)
		if err != nil || len(banks) != 2 || banks[0].Name != "CHILD_SAFETY" || banks[0].Entries != 3 {
			t.Errorf("Banks = %+v, %v", banks, err)
		}
	}, hashbank.Migrations)
}

// TestImportBadInput: a file with any bad line is refused whole, and the
// error names each bad line.
func TestImportBadInput(t *testing.T) {
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		s, err := hashbank.NewService(ctx, db, clocktest.New(time.Time{}), nil)
		if err != nil {
			t.Fatal(err)
		}
		s.CreateBank(ctx, "TERRORISM", hashbank.Hold, "")
		for _, tt := range []struct {
			name, file string
			format     hashbank.Format
			lines      []int
		}{
			{"invalid hex", pdqA + "\n" + strings.Replace(pdqA, "d", "z", 1) + "\n", hashbank.List, []int{2}},
			{"truncated hash", pdqA[:40] + "\n", hashbank.List, []int{1}},
			{"gigantic line", strings.Repeat("a", 100_000) + "\n" + pdqA + "\n", hashbank.List, []int{1}},
			{"invalid UTF-8", pdqA + "\n\xff\xfe\n", hashbank.List, []int{2}},
			{"binary junk", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", hashbank.List, []int{1, 2, 3}},
			{"unknown signal", "type,value\nsha1,abc\n", hashbank.CSV, []int{2}},
			{"one field", "pdq\n", hashbank.CSV, []int{1}},
			{"md5 with a sha256", "md5," + pdqA + "\n", hashbank.CSV, []int{1}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.Import(ctx, "TERRORISM", strings.NewReader(tt.file), tt.format, hashbank.SignalPDQ, "", nil)
				var ie *hashbank.ImportError
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want an ImportError", err)
				}
				var got []int
				for _, l := range ie.Lines {
					got = append(got, l.Line)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.lines) {
					t.Errorf("bad lines %v (%v), want %v", got, err, tt.lines)
				}
			})
		}
		if banks, _ := s.Banks(ctx); banks[0].Entries != 0 {
			t.Errorf("%d entries stored from refused files, want 0", banks[0].Entries)
		}
		if _, err := s.Import(ctx, "NOPE", strings.NewReader(pdqA), hashbank.List, hashbank.SignalPDQ, "", nil); kurir.ErrorCode(err) != kurir.ENotFound {
			t.Errorf("import into a missing bank: %v", err)
		}
	}, hashbank.Migrations)
}
