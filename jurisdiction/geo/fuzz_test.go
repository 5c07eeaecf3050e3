package geo

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

// sameLookups fails unless a and b find the same country for every probe
// of a (and of b).
func sameLookups(t *testing.T, a, b *Table) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%d ranges, then %d", a.Len(), b.Len())
	}
	for _, tab := range []*Table{a, b} {
		for _, p := range probes(tab, nil, 0) {
			ca, oka := a.Lookup(p)
			cb, okb := b.Lookup(p)
			if ca != cb || oka != okb {
				t.Fatalf("Lookup(%s): %q, %v then %q, %v", p, ca, oka, cb, okb)
			}
		}
	}
}

// checkTable checks what a Table promises: lookups agree with a plain
// binary search, and it survives encoding.
func checkTable(t *testing.T, tab *Table) {
	t.Helper()
	for _, p := range probes(tab, nil, 0) {
		got, gotOK := tab.Lookup(p)
		want, wantOK := slowLookup(tab, p)
		if got != want || gotOK != wantOK {
			t.Fatalf("Lookup(%s) = %q, %v; binary search says %q, %v", p, got, gotOK, want, wantOK)
		}
	}
	enc, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatalf("decode what was encoded: %v", err)
	}
	sameLookups(t, tab, &back)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n",
		"start,end,country\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n",
		`"ip_from","ip_to","country_code","country_name"` + "\r\n" + `"16777216","16777471","AU","Australia"` + "\r\n",
		`"281470698520576","281470698520831","AU","Australia"` + "\n" + `"0","281470681743359","-","-"` + "\n",
		"1.0.0.128,1.0.1.0,CN\n1.0.0.0,1.0.0.255,AU\n",
		"::,::ff,NL\n::ffff:1.0.0.0,::ffff:1.0.0.255,AU\nfe80::1%eth0,fe80::2,DE\n",
		"# comment\n\n1.0.0.0 , \"1.0.0.255\" ,au,\"a, b\"\n",
		"0,340282366920938463463374607431768211455,ZZ\n",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, file string, skip bool) {
		tab, rep, err := Parse(strings.NewReader(file), ParseOptions{SkipInvalid: skip})
		var inv *InvalidError
		switch {
		case errors.As(err, &inv):
			if skip || tab != nil || inv.Total != rep.InvalidLines || inv.Total == 0 || len(inv.Lines) > maxShown {
				t.Fatalf("invalid-lines error %v with SkipInvalid %v, table %v, report %+v", err, skip, tab, rep)
			}
			return
		case err != nil:
			t.Fatalf("Parse: %v", err)
		}
		if rep.InvalidLines > 0 && !skip || len(rep.Invalid) > MaxReported || len(rep.Invalid) > rep.InvalidLines ||
			rep.Ranges != rep.IPv4+rep.IPv6 || tab.Len() > rep.Ranges || rep.Countries != len(tab.Countries()) {
			t.Fatalf("report %+v, %d ranges in the table", rep, tab.Len())
		}
		for i := 1; i < len(rep.Invalid); i++ {
			if rep.Invalid[i].Line <= rep.Invalid[i-1].Line || rep.Invalid[i].Line > rep.Lines {
				t.Fatalf("invalid lines out of order: %v", rep.Invalid)
			}
		}
		checkTable(t, tab)
	})
}

func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range []string{
		"1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n",
		"0.0.0.0,255.255.255.255,US\n::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,US\n",
		"",
	} {
		tab, _, err := Parse(strings.NewReader(s), ParseOptions{})
		if err != nil {
			f.Fatal(err)
		}
		enc, _ := tab.MarshalBinary()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// As stored, and with the checksum made right so that the other
		// checks see the damage.
		for _, b := range [][]byte{data, withChecksum(data)} {
			var tab Table
			if err := tab.UnmarshalBinary(b); err != nil {
				if tab.Len() != 0 {
					t.Fatal("a failed decode changed the table")
				}
				continue
			}
			checkTable(t, &tab)
			enc, _ := tab.MarshalBinary()
			if !bytes.Equal(enc, b) {
				t.Fatalf("decoded and encoded again, % x became % x", b, enc)
			}
		}
	})
}

// FuzzSplit checks that the line splitter reads the first three fields of
// a line as encoding/csv does, wherever encoding/csv accepts the line.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{`a,b,c`, `"a","b","c","d"`, `"a""b",c`, `a, "b" ,c`, `"a,b",c,d`, ``, `,,,`, `"a"b,c`, `a"b,c`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			return
		}
		var p parser
		nf, err := p.split([]byte(line))
		cr := csv.NewReader(strings.NewReader(line))
		cr.FieldsPerRecord = -1
		rec, cerr := cr.Read()
		if cerr != nil {
			return // the splitter may be more lenient: it stops at the third field
		}
		if err != nil {
			t.Fatalf("split(%q): %v; encoding/csv reads %q", line, err, rec)
		}
		if nf != min(len(rec), 3) {
			t.Fatalf("split(%q): %d fields; encoding/csv reads %q", line, nf, rec)
		}
		for i := range nf {
			if got, want := strings.Trim(string(p.fields[i]), " \t"), strings.Trim(rec[i], " \t"); got != want {
				t.Fatalf("split(%q): field %d is %q; encoding/csv reads %q", line, i, got, want)
			}
		}
	})
}
