package geo

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"kurir"
)

// The benchmark table: 2,500,000 IPv4 and 500,000 IPv6 random disjoint
// ranges (several times the free databases), the IPv6 ones in 2000::/4
// where real allocations are. Built once per process, and only by the
// benchmarks that need it.
var big struct {
	once   sync.Once
	table  *Table
	v4, v6 []netip.Addr // addresses to look up
}

func bigTable(b *testing.B) *Table {
	big.once.Do(func() {
		rng := rand.New(rand.NewPCG(9, 9))
		codes := kurirCodes()
		p := &parser{codes: codes}

		points4 := make([]uint32, 5_000_000)
		for i := range points4 {
			points4[i] = rng.Uint32()
		}
		slices.Sort(points4)
		points4 = slices.Compact(points4)
		v4 := make([]range4, 0, len(points4)/2)
		for i := 0; i+1 < len(points4); i += 2 {
			v4 = append(v4, range4{start: points4[i], end: points4[i+1], cc: uint8(rng.IntN(len(codes)))})
		}

		points6 := make([]u128, 1_000_000)
		for i := range points6 {
			points6[i] = u128{0x2000<<48 | rng.Uint64()>>4, rng.Uint64()}
		}
		slices.SortFunc(points6, u128.cmp)
		points6 = slices.Compact(points6)
		v6 := make([]range6, 0, len(points6)/2)
		for i := 0; i+1 < len(points6); i += 2 {
			v6 = append(v6, range6{start: points6[i], end: points6[i+1], cc: uint8(rng.IntN(len(codes)))})
		}
		big.table = p.build(v4, v6)

		big.v4 = make([]netip.Addr, 1<<16)
		big.v6 = make([]netip.Addr, 1<<16)
		for i := range big.v4 {
			big.v4[i] = addr4(rng.Uint32())
			big.v6[i] = u128{0x2000<<48 | rng.Uint64()>>4, rng.Uint64()}.addr()
		}
	})
	b.Logf("%d IPv4 and %d IPv6 ranges", len(big.table.v4start), len(big.table.v6start))
	return big.table
}

// kurirCodes returns 200 country codes, as a large table names.
func kurirCodes() []string {
	var codes []string
	for c1 := 'A'; c1 <= 'Z'; c1++ {
		for c2 := 'A'; c2 <= 'Z'; c2++ {
			if code := string([]rune{c1, c2}); kurir.IsCountry(code) && len(codes) < 200 {
				codes = append(codes, code)
			}
		}
	}
	return codes
}

func benchmarkLookup(b *testing.B, addrs func() []netip.Addr, lookup func(*Table, netip.Addr) (string, bool)) {
	t := bigTable(b)
	as := addrs()
	found := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := lookup(t, as[i&(len(as)-1)]); ok {
			found++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(found)/float64(b.N), "found/op")
}

func BenchmarkLookupIPv4(b *testing.B) {
	benchmarkLookup(b, func() []netip.Addr { return big.v4 }, (*Table).Lookup)
}

func BenchmarkLookupIPv6(b *testing.B) {
	benchmarkLookup(b, func() []netip.Addr { return big.v6 }, (*Table).Lookup)
}

// The same lookups by binary search over all ranges of the family, without
// the first-level index: what the index saves.
func BenchmarkLookupIPv4NoIndex(b *testing.B) {
	benchmarkLookup(b, func() []netip.Addr { return big.v4 }, lookupNoIndex)
}

func BenchmarkLookupIPv6NoIndex(b *testing.B) {
	benchmarkLookup(b, func() []netip.Addr { return big.v6 }, lookupNoIndex)
}

func lookupNoIndex(t *Table, addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	if addr.Is4() {
		a := v4of(addr)
		lo, hi := 0, len(t.v4end)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if t.v4end[m] < a {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(t.v4start) && t.v4start[lo] <= a {
			return t.codes[t.v4cc[lo]], true
		}
		return "", false
	}
	a := u128Of(addr)
	lo, hi := 0, len(t.v6end)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.v6end[m].less(a) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.v6start) && !a.less(t.v6start[lo]) {
		return t.codes[t.v6cc[lo]], true
	}
	return "", false
}

// BenchmarkUnmarshalBinary decodes the 3,000,000-range table, as every
// node does when a new one is imported.
func BenchmarkUnmarshalBinary(b *testing.B) {
	enc, _ := bigTable(b).MarshalBinary()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		var t Table
		if err := t.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse reads a 300,000-line file in DB-IP lite's layout, sorted
// as the databases ship: 250,000 IPv4 and 50,000 IPv6 ranges.
func BenchmarkParse(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	codes := kurirCodes()
	var sb strings.Builder
	a4 := uint32(1 << 24)
	for range 250_000 {
		size := uint32(1) << rng.IntN(13)
		sb.WriteString(addr4(a4).String() + "," + addr4(a4+size-1).String() + "," + codes[rng.IntN(len(codes))] + "\n")
		a4 += size + uint32(rng.IntN(2))*256
	}
	a6 := u128{0x2001_0200 << 32, 0}
	for range 50_000 {
		end := u128{a6.hi | (1<<rng.IntN(32) - 1), ^uint64(0)}
		sb.WriteString(a6.addr().String() + "," + end.addr().String() + "," + codes[rng.IntN(len(codes))] + "\n")
		a6 = u128{end.hi + 1 + uint64(rng.IntN(2))<<32, 0}
	}
	file := sb.String()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		_, rep, err := Parse(strings.NewReader(file), ParseOptions{})
		if err != nil || rep.Ranges != 300_000 {
			b.Fatalf("%+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(300_000*b.N)/b.Elapsed().Seconds(), "lines/s")
}
