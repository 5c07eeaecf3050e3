package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"kurir"
)

// The binary form of a Table, little-endian:
//
//	magic "KGEO", version 1 (1 byte)
//	number of country codes (2 bytes), then each code (2 ASCII bytes), sorted
//	number of IPv4 ranges n4 (4 bytes), number of IPv6 ranges n6 (4 bytes)
//	n4 starts (4 bytes each), n4 ends (4 each), n4 country indexes (1 each)
//	n6 starts (16 bytes each, first half first), n6 ends, n6 country indexes
//	CRC-32C of everything before it (4 bytes)
//
// Columns rather than rows, so that encoding and decoding are straight
// copies into the Table's slices.
const (
	magic       = "KGEO"
	version     = 1
	headerSize  = len(magic) + 1 + 2
	trailerSize = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the table for storage; UnmarshalBinary decodes it.
// It never fails.
func (t *Table) MarshalBinary() ([]byte, error) {
	if t == nil {
		t = &Table{}
	}
	n4, n6 := len(t.v4start), len(t.v6start)
	b := make([]byte, 0, headerSize+2*len(t.codes)+8+9*n4+33*n6+trailerSize)
	b = append(b, magic...)
	b = append(b, version)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(t.codes)))
	for _, c := range t.codes {
		b = append(b, c...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(n4))
	b = binary.LittleEndian.AppendUint32(b, uint32(n6))
	for _, a := range t.v4start {
		b = binary.LittleEndian.AppendUint32(b, a)
	}
	for _, a := range t.v4end {
		b = binary.LittleEndian.AppendUint32(b, a)
	}
	b = append(b, t.v4cc...)
	for _, col := range [][]u128{t.v6start, t.v6end} {
		for _, a := range col {
			b = binary.LittleEndian.AppendUint64(b, a.hi)
			b = binary.LittleEndian.AppendUint64(b, a.lo)
		}
	}
	b = append(b, t.v6cc...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// UnmarshalBinary decodes a table that MarshalBinary encoded, replacing
// t's contents; t must not be in use. It checks everything a Table relies
// on (the checksum, lengths, country codes, ranges sorted and disjoint,
// every country index in range) and returns an error, leaving t unchanged,
// if anything is wrong.
func (t *Table) UnmarshalBinary(data []byte) error {
	nt, err := decode(data)
	if err != nil {
		return fmt.Errorf("decode IP-to-country table: %w", err)
	}
	*t = *nt
	return nil
}

func decode(b []byte) (*Table, error) {
	if len(b) < headerSize+8+trailerSize || string(b[:len(magic)]) != magic {
		return nil, errors.New("not an encoded table")
	}
	if b[len(magic)] != version {
		return nil, fmt.Errorf("version %d, want %d", b[len(magic)], version)
	}
	body, sum := b[:len(b)-trailerSize], binary.LittleEndian.Uint32(b[len(b)-trailerSize:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, errors.New("checksum mismatch: the data is damaged")
	}
	r := body[len(magic)+1:]
	nc := int(binary.LittleEndian.Uint16(r))
	r = r[2:]
	if nc > 256 || len(r) < 2*nc+8 {
		return nil, fmt.Errorf("%d country codes", nc)
	}
	codes := make([]string, nc)
	for i := range codes {
		codes[i] = string(r[2*i : 2*i+2])
		if !kurir.IsCountry(codes[i]) {
			return nil, fmt.Errorf("country code %q", codes[i])
		}
		if i > 0 && codes[i] <= codes[i-1] {
			return nil, errors.New("country codes out of order")
		}
	}
	r = r[2*nc:]
	n4, n6 := uint64(binary.LittleEndian.Uint32(r)), uint64(binary.LittleEndian.Uint32(r[4:]))
	r = r[8:]
	if n4+n6 > MaxRanges || uint64(len(r)) != 9*n4+33*n6 {
		return nil, fmt.Errorf("%d IPv4 and %d IPv6 ranges in %d bytes", n4, n6, len(r))
	}
	var used [256]bool
	v4start, v4end := make([]uint32, n4), make([]uint32, n4)
	for i := range v4start {
		v4start[i] = binary.LittleEndian.Uint32(r[4*i:])
		v4end[i] = binary.LittleEndian.Uint32(r[4*(int(n4)+i):])
		if v4end[i] < v4start[i] || i > 0 && v4start[i] <= v4end[i-1] {
			return nil, fmt.Errorf("IPv4 range %d (%s-%s) is out of order", i, addr4(v4start[i]), addr4(v4end[i]))
		}
	}
	r = r[8*n4:]
	v4cc := make([]uint8, n4)
	copy(v4cc, r)
	r = r[n4:]
	v6start, v6end := make([]u128, n6), make([]u128, n6)
	for i := range v6start {
		s, e := r[16*i:], r[16*(int(n6)+i):]
		v6start[i] = u128{binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])}
		v6end[i] = u128{binary.LittleEndian.Uint64(e), binary.LittleEndian.Uint64(e[8:])}
		if v6end[i].less(v6start[i]) || i > 0 && !v6end[i-1].less(v6start[i]) {
			return nil, fmt.Errorf("IPv6 range %d (%s-%s) is out of order", i, v6start[i].addr(), v6end[i].addr())
		}
	}
	r = r[32*n6:]
	v6cc := make([]uint8, n6)
	copy(v6cc, r)
	for _, col := range [][]uint8{v4cc, v6cc} {
		for _, cc := range col {
			if int(cc) >= nc {
				return nil, fmt.Errorf("country index %d of %d", cc, nc)
			}
			used[cc] = true
		}
	}
	for i, c := range codes {
		if !used[i] {
			return nil, fmt.Errorf("country %s has no range", c)
		}
	}
	return newTable(codes, v4start, v4end, v4cc, v6start, v6end, v6cc), nil
}
