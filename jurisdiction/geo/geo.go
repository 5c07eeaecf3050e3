// Package geo answers where an IP address is: the country that an
// operator-supplied IP-range table puts it in, for the per-country rules of
// package jurisdiction.
//
// Operators import one of the common free IP-to-country databases (DB-IP
// lite, IP2Location LITE DB1, the ip-location-db country files): CSV with a
// start IP, an end IP and a country code on each line, IPv4 and IPv6 (see
// Parse). The table is stored in the database whole (Save, Load), and every
// server node holds the newest one in memory (Locator), where a lookup takes
// tens of nanoseconds and allocates nothing.
package geo

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// u128 is an IPv6 address as a number: hi holds its first 8 bytes.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) cmp(b u128) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// next returns a+1, and false if a is the last address.
func (a u128) next() (u128, bool) {
	if a.lo != ^uint64(0) {
		return u128{a.hi, a.lo + 1}, true
	}
	if a.hi != ^uint64(0) {
		return u128{a.hi + 1, 0}, true
	}
	return a, false
}

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (a u128) addr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return netip.AddrFrom16(b)
}

func addr4(a uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a)
	return netip.AddrFrom4(b)
}

// indexBits is how many leading bits of an address the first-level index
// of each family covers: 1<<16 entries of 4 bytes, 256 KiB per family.
const indexBits = 16

// index narrows a lookup to the ranges that can hold an address with given
// leading bits p: those from index[p] to index[p+1] (inclusive, if there
// is such a range), where index[p] is the first range whose end has leading
// bits >= p.
type index [1<<indexBits + 1]uint32

// noRanges is the index of a family without ranges: all zeros, shared
// since it is never written.
var noRanges = new(index)

// Table maps ranges of IP addresses to countries. A Table is immutable once
// Parse or UnmarshalBinary has built it, and safe for concurrent use. A nil
// *Table holds no ranges.
//
// IPv4 ranges are held as sorted parallel slices of start and end addresses
// and a one-byte index into the table's list of country codes; IPv6 ranges
// the same way, with each address as two 64-bit halves. An index over 16
// bits of each family (IPv4's first 16; IPv6's first 16 after the prefix
// all its ranges share) narrows the binary search of a lookup to the
// ranges under those bits.
type Table struct {
	codes []string // the country codes ranges refer to, sorted

	v4start, v4end []uint32 // sorted and disjoint: v4end[i] < v4start[i+1]
	v4cc           []uint8  // index into codes
	v4idx          *index   // over v4end

	v6start, v6end []u128
	v6cc           []uint8
	v6idx          *index
	// Every IPv6 range lies under one prefix of v6bits bits (at most 48),
	// v6prefix: 2000::/3 for most tables. v6idx covers the 16 bits after
	// it, where the ranges differ.
	v6bits   uint
	v6prefix uint64
}

// newTable returns a Table of ranges that are sorted, disjoint and refer
// to codes, and builds its indexes.
func newTable(codes []string, v4start, v4end []uint32, v4cc []uint8, v6start, v6end []u128, v6cc []uint8) *Table {
	t := &Table{codes: codes, v4start: v4start, v4end: v4end, v4cc: v4cc, v6start: v6start, v6end: v6end, v6cc: v6cc,
		v4idx: noRanges, v6idx: noRanges}
	if len(v4end) > 0 {
		t.v4idx = new(index)
		i := 0
		for p := range t.v4idx {
			for i < len(v4end) && int(v4end[i]>>(32-indexBits)) < p {
				i++
			}
			t.v4idx[p] = uint32(i)
		}
	}
	if n := len(v6end); n > 0 {
		t.v6bits = uint(min(bits.LeadingZeros64(v6start[0].hi^v6end[n-1].hi), 64-indexBits))
		t.v6prefix = v6start[0].hi >> (64 - t.v6bits) // 0 when v6bits is 0
		t.v6idx = new(index)
		i := 0
		for p := range t.v6idx {
			for i < len(v6end) && int(v6end[i].hi<<t.v6bits>>(64-indexBits)) < p {
				i++
			}
			t.v6idx[p] = uint32(i)
		}
	}
	return t
}

// Lookup returns the country code of the range that holds addr, and false
// if no range does. An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is looked
// up as the IPv4 address it maps; a zone is ignored. Lookup does not
// allocate.
func (t *Table) Lookup(addr netip.Addr) (country string, ok bool) {
	if t == nil || t.v4idx == nil {
		return "", false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		a := binary.BigEndian.Uint32(b[:])
		p := a >> (32 - indexBits)
		// The first range whose end is >= a, in [lo, hi]: range hi (if
		// there is one) ends after every address with leading bits p.
		lo, hi := t.v4idx[p], t.v4idx[p+1]
		for lo < hi {
			m := (lo + hi) >> 1
			if t.v4end[m] < a {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if int(lo) < len(t.v4start) && t.v4start[lo] <= a {
			return t.codes[t.v4cc[lo]], true
		}
		return "", false
	}
	if !addr.Is6() { // the zero Addr
		return "", false
	}
	a := u128Of(addr)
	if t.v6bits > 0 && a.hi>>(64-t.v6bits) != t.v6prefix {
		return "", false
	}
	p := a.hi << t.v6bits >> (64 - indexBits)
	lo, hi := t.v6idx[p], t.v6idx[p+1]
	for lo < hi {
		m := (lo + hi) >> 1
		if e := t.v6end[m]; e.hi < a.hi || e.hi == a.hi && e.lo < a.lo {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if int(lo) < len(t.v6start) && !a.less(t.v6start[lo]) {
		return t.codes[t.v6cc[lo]], true
	}
	return "", false
}

// Len returns the number of ranges in the table, IPv4 and IPv6. Parse joins
// adjacent ranges of one country, so it may be fewer than the file had.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.v4start) + len(t.v6start)
}

// Countries returns the codes of the countries the table has ranges for,
// sorted. The caller owns the slice.
func (t *Table) Countries() []string {
	if t == nil {
		return nil
	}
	return append([]string(nil), t.codes...)
}
