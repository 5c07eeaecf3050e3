package geo_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"kurir/jurisdiction/geo"
)

// parse parses a file that must be valid.
func parse(t *testing.T, file string) (*geo.Table, geo.Report) {
	t.Helper()
	tab, rep, err := geo.Parse(strings.NewReader(file), geo.ParseOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return tab, rep
}

// lookups checks the country of each address: "" for none.
func lookups(t *testing.T, tab *geo.Table, want map[string]string) {
	t.Helper()
	for ip, cc := range want {
		got, ok := tab.Lookup(netip.MustParseAddr(ip))
		if got != cc || ok != (cc != "") {
			t.Errorf("Lookup(%s) = %q, %v; want %q", ip, got, ok, cc)
		}
	}
}

func TestLookupEdges(t *testing.T) {
	tab, rep := parse(t, `
0.0.0.0,0.0.0.255,AU
1.0.0.0,1.0.0.255,AU
1.0.255.0,1.1.0.255,CN
10.0.0.0,20.255.255.255,US
255.255.255.0,255.255.255.255,DE
::,::ff,NL
2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP
2001:ffff::,2002:0:ffff::,FR
2c0f:fff0::,2c0f:fff0:ffff:ffff:ffff:ffff:ffff:ffff,NG
ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,SE
`)
	if rep.Ranges != 10 || rep.IPv4 != 5 || rep.IPv6 != 5 || rep.Countries != 9 || tab.Len() != 10 {
		t.Errorf("report %+v, Len %d; want 10 ranges (5 IPv4, 5 IPv6), 9 countries", rep, tab.Len())
	}
	lookups(t, tab, map[string]string{
		"0.0.0.0":         "AU", // the first address there is
		"0.0.0.255":       "AU",
		"0.0.1.0":         "",
		"0.255.255.255":   "",
		"1.0.0.0":         "AU",
		"1.0.0.255":       "AU",
		"1.0.1.0":         "",
		"1.0.254.255":     "",
		"1.0.255.0":       "CN",
		"1.1.0.0":         "CN", // a range across two /16s
		"1.1.0.255":       "CN",
		"1.1.1.0":         "",
		"9.255.255.255":   "",
		"10.0.0.0":        "US",
		"15.1.2.3":        "US", // a range over many /16s
		"20.255.255.255":  "US",
		"21.0.0.0":        "",
		"255.255.254.255": "",
		"255.255.255.0":   "DE",
		"255.255.255.255": "DE", // the last

		"::ffff:1.0.0.7":         "AU", // IPv4-mapped IPv6 is IPv4
		"::ffff:255.255.255.255": "DE",
		"::ffff:2.0.0.0":         "",

		"::":                                     "NL",
		"::ff":                                   "NL",
		"::100":                                  "",
		"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff": "",
		"2001:200::":                             "JP",
		"2001:200:1234::1":                       "JP",
		"2001:200:ffff:ffff:ffff:ffff:ffff:ffff": "JP",
		"2001:201::":                             "",
		"2001:fffe:ffff:ffff:ffff:ffff:ffff:ffff": "",
		"2001:ffff::":    "FR",
		"2002::1":        "FR", // across two top-16-bit blocks
		"2002:0:ffff::":  "FR",
		"2002:0:ffff::1": "",
		"2c0f:fff0::1":   "NG",
		"2c0f:fff1::":    "",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff": "",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00": "SE",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "SE", // the last
	})
	// A zone does not matter; the zero Addr is nowhere.
	if cc, _ := tab.Lookup(netip.MustParseAddr("2001:200::1%eth0")); cc != "JP" {
		t.Errorf("Lookup with a zone = %q, want JP", cc)
	}
	if cc, ok := tab.Lookup(netip.Addr{}); ok {
		t.Errorf("Lookup(zero Addr) = %q, want nothing", cc)
	}
	var none *geo.Table
	if cc, ok := none.Lookup(netip.MustParseAddr("1.0.0.1")); ok || none.Len() != 0 {
		t.Errorf("nil table: Lookup = %q, Len = %d", cc, none.Len())
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	tab, _ := parse(t, "1.0.0.0,1.0.0.255,AU\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n")
	for _, ip := range []string{"1.0.0.7", "::ffff:1.0.0.7", "2001:200::1", "9.9.9.9", "2001:db8::1"} {
		a := netip.MustParseAddr(ip)
		if n := testing.AllocsPerRun(100, func() { tab.Lookup(a) }); n != 0 {
			t.Errorf("Lookup(%s) allocates %v times", ip, n)
		}
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		name string
		file string
		want geo.Report // Lines, Ranges, IPv4, IPv6, Unknown, Countries
		look map[string]string
	}{{
		name: "DB-IP lite",
		file: "1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.3.255,CN\n2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n",
		want: geo.Report{Lines: 3, Ranges: 3, IPv4: 2, IPv6: 1, Countries: 3},
		look: map[string]string{"1.0.2.9": "CN", "2001:200::9": "JP", "1.0.4.0": ""},
	}, {
		name: "ip-location-db with a header",
		file: "start,end,country\n1.0.0.0,1.0.0.255,AU\n",
		want: geo.Report{Lines: 2, Ranges: 1, IPv4: 1, Countries: 1},
		look: map[string]string{"1.0.0.0": "AU"},
	}, {
		name: "IP2Location LITE DB1, IPv4",
		file: `"ip_from","ip_to","country_code","country_name"` + "\r\n" +
			`"0","16777215","-","-"` + "\r\n" +
			`"16777216","16777471","AU","Australia"` + "\r\n" +
			`"16778240","16779263","AU","Australia"` + "\r\n" +
			`"3758096128","3758096383","KR","Korea, Republic of"` + "\r\n",
		want: geo.Report{Lines: 5, Ranges: 3, IPv4: 3, Unknown: 1, Countries: 2},
		look: map[string]string{"1.0.0.1": "AU", "1.0.5.0": "AU", "1.0.8.0": "", "0.1.2.3": "", "223.255.255.255": "KR"},
	}, {
		name: "IP2Location LITE DB1, IPv6",
		file: `"0","281470681743359","-","-"` + "\n" +
			`"281470681743360","281470698520575","-","-"` + "\n" +
			`"281470698520576","281470698520831","AU","Australia"` + "\n" +
			`"42540528726795050063891204319802818560","42540528806023212578155541913346768895","JP","Japan"` + "\n" +
			`"340282366920938463463374607431768211200","340282366920938463463374607431768211455","SE","Sweden"` + "\n",
		want: geo.Report{Lines: 5, Ranges: 3, IPv4: 1, IPv6: 2, Unknown: 2, Countries: 3},
		look: map[string]string{"1.0.0.255": "AU", "1.0.1.0": "", "2001:200:ffff::": "JP",
			"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": "SE", "::1": ""},
	}, {
		name: "comments, blank lines, spaces, lower case, extra columns, byte order mark",
		file: "\xef\xbb\xbf# DB-IP country lite\n\n  1.0.0.0 , 1.0.0.255 , au , Australia, Oceania\n\t\n#2.0.0.0,2.0.0.255,FR\n\"1.0.1.0\", \"1.0.1.255\",\"zz\"\n",
		want: geo.Report{Lines: 6, Ranges: 1, IPv4: 1, Unknown: 1, Countries: 1},
		look: map[string]string{"1.0.0.9": "AU", "1.0.1.9": "", "2.0.0.9": ""},
	}, {
		name: "unsorted, families mixed",
		file: "2001:200::,2001:200::ffff,JP\n5.0.0.0,5.0.0.255,DE\n::ffff:1.0.0.0,::ffff:1.0.0.255,AU\n3.0.0.0,3.255.255.255,US\n2001:100::,2001:100::ff,IT\n",
		want: geo.Report{Lines: 5, Ranges: 5, IPv4: 3, IPv6: 2, Countries: 5},
		look: map[string]string{"1.0.0.4": "AU", "3.4.5.6": "US", "5.0.0.255": "DE", "2001:100::1": "IT", "2001:200::1": "JP", "4.0.0.0": ""},
	}, {
		name: "quotes",
		file: `1.0.0.0,"1.0.0.255",AU,"Australia ""Oz"", really"` + "\n" + `"1.0.1.0" , "1.0.1.255","CN",more,"x"y` + "\n",
		want: geo.Report{Lines: 2, Ranges: 2, IPv4: 2, Countries: 2},
		look: map[string]string{"1.0.0.1": "AU"},
	}, {
		name: "the longest line there may be",
		file: "1.0.0.0,1.0.0.255,AU," + strings.Repeat("x", geo.MaxLineLength-len("1.0.0.0,1.0.0.255,AU,")) + "\r\n",
		want: geo.Report{Lines: 1, Ranges: 1, IPv4: 1, Countries: 1},
		look: map[string]string{"1.0.0.1": "AU"},
	}, {
		name: "empty",
		file: "",
		want: geo.Report{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, rep, err := geo.Parse(strings.NewReader(tt.file), geo.ParseOptions{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if rep.Lines != tt.want.Lines || rep.Ranges != tt.want.Ranges || rep.IPv4 != tt.want.IPv4 || rep.IPv6 != tt.want.IPv6 ||
				rep.Unknown != tt.want.Unknown || rep.Countries != tt.want.Countries || rep.InvalidLines != 0 {
				t.Errorf("report %+v\nwant   %+v", rep, tt.want)
			}
			lookups(t, tab, tt.look)
		})
	}
}

func TestParseJoinsAdjacentRangesOfOneCountry(t *testing.T) {
	tab, rep := parse(t, "1.0.1.0,1.0.1.255,AU\n1.0.0.0,1.0.0.255,AU\n1.0.2.0,1.0.2.255,CN\n2001:db8::,2001:db8::ffff,NL\n2001:db8::1:0,2001:db8::1:ffff,NL\n")
	if rep.Ranges != 5 || tab.Len() != 3 {
		t.Errorf("Ranges %d, Len %d; want 5 read, 3 after joining", rep.Ranges, tab.Len())
	}
	lookups(t, tab, map[string]string{"1.0.0.0": "AU", "1.0.1.255": "AU", "1.0.2.0": "CN", "2001:db8::1:ffff": "NL"})
}

func TestParseInvalidLines(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"two fields", "1.0.0.0,1.0.0.255", "want a start IP, an end IP and a country code, got 2 field(s)"},
		{"one field", "1.0.0.0", "want a start IP, an end IP and a country code, got 1 field(s)"},
		{"bad start", "1.0.0.256,1.0.0.255,AU", `start IP "1.0.0.256" is not an IP address`},
		{"leading zero", "1.0.0.01,1.0.0.255,AU", `start IP "1.0.0.01" is not an IP address`},
		{"bad end", "1.0.0.0,1.0.0,AU", `end IP "1.0.0" is not an IP address`},
		{"missing start", ",1.0.0.255,AU", "start IP is missing"},
		{"too large an integer", "0,340282366920938463463374607431768211456,AU", `end IP "340282366920938463463374607431768211456" is larger than any IPv6 address`},
		{"zone", "fe80::1%eth0,fe80::ff,DE", `start IP "fe80::1%eth0" has a zone (%eth0)`},
		{"start after end", "1.0.0.255,1.0.0.0,AU", "start 1.0.0.255 is after end 1.0.0.0"},
		{"IPv6 start after end", "2001:db8::ff,2001:db8::,AU", "start 2001:db8::ff is after end 2001:db8::"},
		{"families", "1.0.0.0,::1,AU", "start 1.0.0.0 and end ::1 are of different families"},
		{"mapped start, IPv6 end", "::ffff:1.0.0.0,2001:db8::,AU", "start 1.0.0.0 and end 2001:db8:: are of different families"},
		{"integers across the mapped block", "281470681743359,281470698520831,AU", "start ::fffe:ffff:ffff and end 1.0.0.255 are of different families"},
		{"unknown country", "1.0.0.0,1.0.0.255,QQ", `unknown country code "QQ"`},
		{"three letters", "1.0.0.0,1.0.0.255,AUS", `unknown country code "AUS"`},
		{"no country", "1.0.0.0,1.0.0.255,", `unknown country code ""`},
		{"too long", "1.0.0.0,1.0.0.255,AU," + strings.Repeat("x", geo.MaxLineLength), "longer than 1024 bytes"},
		{"far too long", "1.0.0.0,1.0.0.255,AU," + strings.Repeat("x", 200_000), "longer than 1024 bytes"},
		{"unterminated quote", `"1.0.0.0,1.0.0.255,AU`, `not a CSV record: extraneous or missing " in quoted-field`},
		{"text after a quoted field", `"1.0.0.0"x,1.0.0.255,AU`, `not a CSV record: extraneous or missing " in quoted-field`},
		{"bare quote", `1.0.0.0,1.0.0.255,A"U`, `not a CSV record: bare " in non-quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bad line is line 3, between good ones.
			file := "9.0.0.0,9.0.0.255,US\n# a comment\n" + tt.line + "\n8.0.0.0,8.0.0.255,FR\n"
			tab, rep, err := geo.Parse(strings.NewReader(file), geo.ParseOptions{})
			var inv *geo.InvalidError
			if !errors.As(err, &inv) || tab != nil {
				t.Fatalf("Parse = %v, %v; want an *InvalidError and no table", tab, err)
			}
			want := "line 3: " + tt.want
			if inv.Total != 1 || len(inv.Lines) != 1 || !strings.HasPrefix(inv.Lines[0].Error(), want) {
				t.Errorf("error %q, want one line starting %q", err, want)
			}
			if rep.Lines != 4 || rep.InvalidLines != 1 || len(rep.Invalid) != 1 || rep.Invalid[0] != inv.Lines[0] {
				t.Errorf("report %+v", rep)
			}

			tab, rep, err = geo.Parse(strings.NewReader(file), geo.ParseOptions{SkipInvalid: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Ranges != 2 || rep.InvalidLines != 1 || len(rep.Invalid) != 1 || rep.Invalid[0].Line != 3 {
				t.Errorf("with SkipInvalid: report %+v; want 2 ranges kept and line 3 invalid", rep)
			}
			lookups(t, tab, map[string]string{"9.0.0.1": "US", "8.0.0.1": "FR", "1.0.0.1": ""})
		})
	}
}

func TestParseOverlaps(t *testing.T) {
	file := strings.Join([]string{
		"# line 1",
		"2.0.0.0,2.0.0.255,FR",
		"1.0.0.128,1.0.1.0,CN",
		"2001:db8::,2001:db8::ffff,NL",
		"5.0.0.0,5.0.0.255,DE",
		"",
		"1.0.0.0,1.0.0.255,AU",         // line 7: overlaps line 3
		"2001:db8::ff,2001:db8::ff,BE", // line 8: inside line 4
		"4.0.0.0,6.0.0.0,US",           // line 9: covers line 5
		"2.0.0.0,2.0.0.255,FR",         // line 10: the same as line 2
	}, "\n")
	_, _, err := geo.Parse(strings.NewReader(file), geo.ParseOptions{})
	want := `4 invalid line(s)
  line 7: range 1.0.0.0-1.0.0.255 overlaps line 3 (1.0.0.128-1.0.1.0)
  line 8: range 2001:db8::ff-2001:db8::ff overlaps line 4 (2001:db8::-2001:db8::ffff)
  line 9: range 4.0.0.0-6.0.0.0 overlaps line 5 (5.0.0.0-5.0.0.255)
  line 10: range 2.0.0.0-2.0.0.255 overlaps line 2 (2.0.0.0-2.0.0.255)`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	// Skipping them keeps the line higher up the file.
	tab, rep, err := geo.Parse(strings.NewReader(file), geo.ParseOptions{SkipInvalid: true})
	if err != nil || rep.Ranges != 4 || rep.InvalidLines != 4 {
		t.Fatalf("with SkipInvalid: %+v, %v", rep, err)
	}
	lookups(t, tab, map[string]string{"1.0.0.5": "", "1.0.0.200": "CN", "2001:db8::ff": "NL", "4.0.0.1": "", "5.0.0.1": "DE", "2.0.0.1": "FR"})
}

func TestInvalidErrorListsTheFirst20(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, "1.0.0.%d,1.0.0.%d,XX\n", i, i)
	}
	_, rep, err := geo.Parse(strings.NewReader(b.String()), geo.ParseOptions{})
	var inv *geo.InvalidError
	if !errors.As(err, &inv) || inv.Total != 25 || len(inv.Lines) != 20 || inv.Lines[19].Line != 20 ||
		!strings.HasSuffix(err.Error(), "line 20: unknown country code \"XX\"\n  ... and 5 more") {
		t.Errorf("error: %v", err)
	}
	if rep.InvalidLines != 25 || len(rep.Invalid) != 25 {
		t.Errorf("report lists %d of %d invalid lines, want 25 of 25", len(rep.Invalid), rep.InvalidLines)
	}
}

func TestReportListsAtMostMaxReported(t *testing.T) {
	var b strings.Builder
	n := 2*geo.MaxReported + 500
	for i := n; i > 0; i-- {
		// Valid lines first, and overlaps found after the whole file is read.
		fmt.Fprintf(&b, "10.0.%d.%d,10.0.%d.%d,DE\n", i/256, i%256, i/256, i%256)
	}
	for i := range n {
		fmt.Fprintf(&b, "10.0.%d.%d,10.0.%d.%d,QQ\n", i/256, i%256, i/256, i%256)
	}
	fmt.Fprintf(&b, "10.0.0.0,10.255.255.255,DE\n")
	_, rep, err := geo.Parse(strings.NewReader(b.String()), geo.ParseOptions{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.InvalidLines != n+1 || len(rep.Invalid) != geo.MaxReported || rep.Invalid[0].Line != n+1 || rep.Invalid[geo.MaxReported-1].Line != n+geo.MaxReported {
		t.Errorf("%d invalid lines, %d listed, from line %d to %d", rep.InvalidLines, len(rep.Invalid), rep.Invalid[0].Line, rep.Invalid[len(rep.Invalid)-1].Line)
	}
}

func TestParseProgress(t *testing.T) {
	var b strings.Builder
	for i := range 40_000 {
		fmt.Fprintf(&b, "%d,%d,AU\n", 2*i, 2*i)
	}
	var calls []int64
	_, _, err := geo.Parse(strings.NewReader(b.String()), geo.ParseOptions{Progress: func(n int64) { calls = append(calls, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || calls[len(calls)-1] != int64(b.Len()) {
		t.Errorf("progress %v; want several calls, the last with all %d bytes", calls, b.Len())
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Errorf("progress went from %d to %d", calls[i-1], calls[i])
		}
	}
}

func TestParseReadError(t *testing.T) {
	broken := errors.New("disk on fire")
	_, _, err := geo.Parse(&failingReader{data: "1.0.0.0,1.0.0.255,AU\n", err: broken}, geo.ParseOptions{SkipInvalid: true})
	if !errors.Is(err, broken) {
		t.Errorf("err = %v, want the read error", err)
	}
}

type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestMarshalBinary(t *testing.T) {
	tab, _ := parse(t, "0.0.0.0,0.0.0.0,AU\n1.0.0.0,1.0.0.255,AU\n9.0.0.0,9.255.255.255,US\n::,::1,NL\n2001:200::,2001:200::ffff,JP\nffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,SE\n")
	data, err := tab.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back geo.Table
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if back.Len() != tab.Len() || strings.Join(back.Countries(), " ") != "AU JP NL SE US" {
		t.Errorf("decoded %d ranges of %v, want %d", back.Len(), back.Countries(), tab.Len())
	}
	for _, ip := range []string{"0.0.0.0", "0.0.0.1", "1.0.0.9", "9.1.1.1", "10.0.0.0", "::", "::1", "::2", "2001:200::5", "ffff::", "fffe::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		a := netip.MustParseAddr(ip)
		g1, ok1 := tab.Lookup(a)
		g2, ok2 := back.Lookup(a)
		if g1 != g2 || ok1 != ok2 {
			t.Errorf("Lookup(%s): %q, %v before encoding, %q, %v after", ip, g1, ok1, g2, ok2)
		}
	}

	// Damage is refused, and leaves the table as it was.
	bad := map[string][]byte{
		"empty":      nil,
		"truncated":  data[:len(data)-1],
		"longer":     append(append([]byte(nil), data...), 0),
		"magic":      append([]byte("XGEO"), data[4:]...),
		"version":    append(append([]byte("KGEO"), 2), data[5:]...),
		"a bit flip": flip(data, len(data)/2),
	}
	for name, b := range bad {
		if err := back.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
		if back.Len() != tab.Len() {
			t.Errorf("%s: a failed decode changed the table", name)
		}
	}

	// An empty table, and a nil one, encode and decode.
	for _, tab := range []*geo.Table{nil, new(geo.Table)} {
		data, _ := tab.MarshalBinary()
		var back geo.Table
		if err := back.UnmarshalBinary(data); err != nil || back.Len() != 0 {
			t.Errorf("empty table: %v, %d ranges", err, back.Len())
		}
		if _, ok := back.Lookup(netip.MustParseAddr("1.2.3.4")); ok {
			t.Error("empty table found an address")
		}
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x10
	return out
}

func ExampleParse() {
	file := `"ip_from","ip_to","country_code","country_name"
"16777216","16777471","AU","Australia"
"16777472","16778239","CN","China"
"16778240","16779263","AU","Australia"
"16779264","16781311","-","-"
`
	tab, rep, err := geo.Parse(strings.NewReader(file), geo.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d ranges in %d countries, %d unknown\n", rep.Ranges, rep.Countries, rep.Unknown)
	for _, ip := range []string{"1.0.0.1", "1.0.1.1", "::ffff:1.0.4.1", "1.0.9.1"} {
		cc, ok := tab.Lookup(netip.MustParseAddr(ip))
		fmt.Println(ip, cc, ok)
	}
	// Output:
	// 3 ranges in 2 countries, 1 unknown
	// 1.0.0.1 AU true
	// 1.0.1.1 CN true
	// ::ffff:1.0.4.1 AU true
	// 1.0.9.1  false
}
