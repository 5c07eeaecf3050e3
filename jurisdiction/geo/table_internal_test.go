package geo

import (
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"
	"testing"
)

// slowLookup finds addr in t by binary search over all ranges of its
// family, without the first-level index: the reference Lookup must agree
// with.
func slowLookup(t *Table, addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		a := v4of(addr)
		i := sort.Search(len(t.v4end), func(i int) bool { return t.v4end[i] >= a })
		if i < len(t.v4start) && t.v4start[i] <= a {
			return t.codes[t.v4cc[i]], true
		}
	case addr.Is6():
		a := u128Of(addr)
		i := sort.Search(len(t.v6end), func(i int) bool { return !t.v6end[i].less(a) })
		if i < len(t.v6start) && !a.less(t.v6start[i]) {
			return t.codes[t.v6cc[i]], true
		}
	}
	return "", false
}

// probes returns addresses at and around every range edge of t, and
// random ones.
func probes(t *Table, rng *rand.Rand, random int) []netip.Addr {
	var out []netip.Addr
	for i := range t.v4start {
		for _, a := range []uint32{t.v4start[i], t.v4end[i]} {
			out = append(out, addr4(a), addr4(a-1), addr4(a+1))
		}
	}
	for i := range t.v6start {
		for _, a := range []u128{t.v6start[i], t.v6end[i]} {
			n, _ := a.next()
			p := u128{a.hi, a.lo - 1}
			if a.lo == 0 {
				p.hi--
			}
			out = append(out, a.addr(), n.addr(), p.addr())
		}
	}
	for range random {
		out = append(out, addr4(rng.Uint32()), u128{rng.Uint64(), rng.Uint64()}.addr(), u128{0x2000<<48 | rng.Uint64()>>20, rng.Uint64()}.addr())
	}
	return out
}

// randomTable returns a table of n random disjoint ranges of each family,
// some of them wide, some crossing the index's 16-bit blocks. With
// v6prefix > 0, every IPv6 range is in 2001:db8::/v6prefix.
func randomTable(rng *rand.Rand, n int, v6prefix uint) *Table {
	var csv strings.Builder
	points4 := map[uint32]bool{}
	for len(points4) < 2*n {
		p := rng.Uint32()
		if rng.IntN(4) == 0 {
			p &= 0x0fffffff // crowd some together
		}
		points4[p] = true
	}
	sorted4 := make([]uint32, 0, len(points4))
	for p := range points4 {
		sorted4 = append(sorted4, p)
	}
	sort.Slice(sorted4, func(i, j int) bool { return sorted4[i] < sorted4[j] })
	codes := []string{"AU", "CN", "DE", "ID", "US"}
	for i := 0; i+1 < len(sorted4); i += 2 {
		csv.WriteString(addr4(sorted4[i]).String() + "," + addr4(sorted4[i+1]).String() + "," + codes[rng.IntN(len(codes))] + "\n")
	}
	points6 := map[u128]bool{}
	for len(points6) < 2*n {
		hi := rng.Uint64()
		switch {
		case v6prefix > 0:
			hi = 0x20010db8<<32>>(64-v6prefix)<<(64-v6prefix) | hi>>v6prefix
		case rng.IntN(2) == 0:
			hi = 0x2000<<48 | hi>>20
		}
		p := u128{hi, rng.Uint64()}
		if p.hi == 0 && p.lo>>32 == 0xffff { // keep out of the IPv4-mapped block
			continue
		}
		points6[p] = true
	}
	sorted6 := make([]u128, 0, len(points6))
	for p := range points6 {
		sorted6 = append(sorted6, p)
	}
	sort.Slice(sorted6, func(i, j int) bool { return sorted6[i].less(sorted6[j]) })
	for i := 0; i+1 < len(sorted6); i += 2 {
		csv.WriteString(sorted6[i].addr().String() + "," + sorted6[i+1].addr().String() + "," + codes[rng.IntN(len(codes))] + "\n")
	}
	t, _, err := Parse(strings.NewReader(csv.String()), ParseOptions{})
	if err != nil {
		panic(err)
	}
	return t
}

func TestIndexAgreesWithBinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 1000, 20000} {
		for _, prefix := range []uint{0, 3, 32, 48} {
			tab := randomTable(rng, n, prefix)
			if prefix > 0 && n > 1 && tab.v6bits < prefix {
				t.Errorf("all IPv6 ranges in a /%d, and the index covers the bits after /%d", prefix, tab.v6bits)
			}
			for _, a := range probes(tab, rng, 10000) {
				got, gotOK := tab.Lookup(a)
				want, wantOK := slowLookup(tab, a)
				if got != want || gotOK != wantOK {
					t.Fatalf("%d ranges under /%d: Lookup(%s) = %q, %v; binary search says %q, %v", n, prefix, a, got, gotOK, want, wantOK)
				}
			}
		}
	}
}

// withChecksum returns b with its checksum made right, so that the
// decoder's other checks can be tested (and fuzzed).
func withChecksum(b []byte) []byte {
	if len(b) < trailerSize {
		return b
	}
	out := append([]byte(nil), b...)
	body := out[:len(out)-trailerSize]
	binary.LittleEndian.PutUint32(out[len(body):], crc32.Checksum(body, castagnoli))
	return out
}

func TestUnmarshalBinaryChecksStructure(t *testing.T) {
	good, _, err := Parse(strings.NewReader("1.0.0.0,1.0.0.255,AU\n2.0.0.0,2.0.0.255,CN\n2001:db8::,2001:db8::ff,NL\n2001:db9::,2001:db9::ff,AU\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := good.MarshalBinary()
	// Offsets in enc: codes at 7 (AU CN NL), counts at 13, IPv4 starts at
	// 21, ends at 29, countries at 37, IPv6 starts at 39, ends at 71,
	// countries at 103.
	const codes, v4start, v4end, v4cc, v6start, v6end, v6cc = 7, 21, 29, 37, 39, 71, 103
	edit := func(f func(b []byte) []byte) []byte {
		return withChecksum(f(append([]byte(nil), enc...)))
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unchanged", edit(func(b []byte) []byte { return b }), ""},
		{"country code", edit(func(b []byte) []byte { b[codes] = 'Q'; b[codes+1] = 'Q'; return b }), `country code "QQ"`},
		{"lower-case code", edit(func(b []byte) []byte { b[codes] = 'a'; return b }), `country code "aU"`},
		{"codes out of order", edit(func(b []byte) []byte { copy(b[codes:], "CNAU"); return b }), "out of order"},
		{"too many codes", edit(func(b []byte) []byte { b[5] = 0xff; b[6] = 0xff; return b }), "country codes"},
		{"IPv4 count", edit(func(b []byte) []byte { b[13] = 3; return b }), "ranges in"},
		{"IPv6 count", edit(func(b []byte) []byte { b[17] = 0xff; b[18] = 0xff; b[19] = 0xff; b[20] = 0xff; return b }), "ranges in"},
		{"IPv4 start after end", edit(func(b []byte) []byte { b[v4start+3] = 2; return b }), "IPv4 range 0"},
		{"IPv4 overlap", edit(func(b []byte) []byte { copy(b[v4end:], []byte{0, 0, 0, 2}); return b }), "IPv4 range 1"},
		{"IPv4 country index", edit(func(b []byte) []byte { b[v4cc+1] = 3; return b }), "country index 3 of 3"},
		{"IPv6 start after end", edit(func(b []byte) []byte { b[v6start] = 0xff; return b }), "IPv6 range 0"},
		{"IPv6 overlap", edit(func(b []byte) []byte { b[v6end+7] = 0x30; return b }), "IPv6 range 1"},
		{"IPv6 country index", edit(func(b []byte) []byte { b[v6cc] = 200; return b }), "country index 200 of 3"},
		{"unused country", edit(func(b []byte) []byte { b[v4cc+1] = 0; return b }), "country CN has no range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tab Table
			err := tab.UnmarshalBinary(tt.data)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	if t.Failed() {
		t.Logf("encoded: % x", enc)
	}
}
