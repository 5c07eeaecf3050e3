package geo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strings"

	"kurir"
)

// Limits on what Parse reads, so that a wrong or hostile file costs bounded
// memory. The free databases have well under a million ranges, and lines of
// under 100 bytes.
const (
	// MaxLineLength is the longest line Parse accepts, in bytes.
	MaxLineLength = 1024
	// MaxRanges is the most ranges a table holds.
	MaxRanges = 1 << 24
	// MaxReported is the most invalid lines a Report lists.
	MaxReported = 1000
	// maxShown is the most invalid lines an InvalidError lists.
	maxShown = 20
)

// ParseOptions controls Parse.
type ParseOptions struct {
	// SkipInvalid keeps the valid lines of a file that has invalid ones,
	// and lists those in the Report. Without it, one invalid line makes
	// Parse return an *InvalidError and no Table: nothing is half-imported.
	SkipInvalid bool
	// Progress, if not nil, is called now and then with the number of bytes
	// read so far, and once when the input has been read.
	Progress func(bytesRead int64)
}

// Report describes what Parse read.
type Report struct {
	Lines        int         // lines read, counting blank lines, comments and a header
	Ranges       int         // ranges kept: IPv4 + IPv6
	IPv4, IPv6   int         // ranges kept, by family
	Unknown      int         // lines for addresses of no known country ("-" or "ZZ"), skipped
	Invalid      []LineError // the first MaxReported invalid lines, in line order
	InvalidLines int         // invalid lines in all
	Countries    int         // countries the kept ranges name
}

// LineError is an invalid line of an IP-range file.
type LineError struct {
	Line int    // 1 for the first line of the file
	Err  string // what is wrong with it
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// InvalidError is a file refused because of invalid lines.
type InvalidError struct {
	Lines []LineError // the first 20, in line order
	Total int         // invalid lines in all
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d invalid line(s)", e.Total)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n  %s", l)
	}
	if e.Total > len(e.Lines) {
		fmt.Fprintf(&b, "\n  ... and %d more", e.Total-len(e.Lines))
	}
	return b.String()
}

// Parse reads an IP-range file: CSV lines of a start IP, an end IP (both
// included in the range) and an ISO 3166-1 alpha-2 country code, in any
// order. It accepts the layouts of the common free databases:
//
//	1.0.0.0,1.0.0.255,AU                                  DB-IP lite, ip-location-db
//	2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP
//	"16777216","16777471","AU","Australia"                IP2Location LITE DB1
//	"281470698520576","281470698520831","AU","Australia"  its IPv6 file
//
// An address is text (dotted IPv4 or IPv6) or a decimal integer. A row of
// integers is IPv4 when both fit in 32 bits and IPv6 otherwise; an
// IPv4-mapped IPv6 address (::ffff:1.0.0.0) is the IPv4 address it maps.
// Fields may be quoted; columns after the third, blank lines, lines
// starting with '#' and a header line (a first line whose address fields
// are not addresses) are ignored. Lines for no known country ("-" or "ZZ")
// are counted as Unknown and skipped.
//
// A line is invalid if it has fewer than three fields, an address that is
// not one or has a zone (fe80::1%eth0), a start after its end, a start and
// end of different families, a country code that kurir.IsCountry rejects,
// or more than MaxLineLength bytes; or if its range overlaps another line's
// (the line further down the file is the invalid one). See ParseOptions for
// what happens then.
//
// Adjacent ranges of one country are joined in the Table. Parse returns an
// error without a Table if reading fails or the file has more than
// MaxRanges ranges.
func Parse(r io.Reader, opts ParseOptions) (*Table, Report, error) {
	p := &parser{opts: opts}
	if err := p.read(r); err != nil {
		return nil, p.rep, err
	}
	v4, v6 := p.disjoint()
	p.rep.IPv4, p.rep.IPv6 = len(v4), len(v6)
	p.rep.Ranges = len(v4) + len(v6)
	slices.SortFunc(p.bad, func(a, b LineError) int { return a.Line - b.Line })
	p.rep.Invalid = p.bad[:min(len(p.bad), MaxReported):min(len(p.bad), MaxReported)]
	if p.rep.InvalidLines > 0 && !opts.SkipInvalid {
		return nil, p.rep, &InvalidError{Lines: p.bad[:min(len(p.bad), maxShown)], Total: p.rep.InvalidLines}
	}
	t := p.build(v4, v6)
	p.rep.Countries = len(t.codes)
	return t, p.rep, nil
}

type range4 struct {
	start, end uint32
	line       uint32
	cc         uint8 // index into parser.codes
}

type range6 struct {
	start, end u128
	line       uint32
	cc         uint8
}

type parser struct {
	opts ParseOptions
	rep  Report
	bad  []LineError // trimmed to the first MaxReported now and then

	v4 []range4
	v6 []range6

	codes   []string        // country codes in order of first use
	codeIdx [26 * 26]uint16 // 1 + index into codes, by code
	record  bool            // a record (not blank, not a comment) has been seen
	fields  [3][]byte       // the current line's first fields
}

func (p *parser) invalid(line int, format string, args ...any) {
	p.rep.InvalidLines++
	p.bad = append(p.bad, LineError{Line: line, Err: fmt.Sprintf(format, args...)})
	if len(p.bad) >= 2*MaxReported {
		slices.SortFunc(p.bad, func(a, b LineError) int { return a.Line - b.Line })
		p.bad = p.bad[:MaxReported]
	}
}

// read reads r line by line, collecting ranges and invalid lines.
func (p *parser) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var read int64
	next := int64(256 << 10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		p.rep.Lines++
		n := p.rep.Lines
		if n == math.MaxUint32 {
			return fmt.Errorf("more than %d lines", math.MaxUint32-1)
		}
		read += int64(len(line))
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			p.invalid(n, "longer than %d bytes", MaxLineLength)
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of it
				line, err = br.ReadSlice('\n')
				read += int64(len(line))
			}
			if err != nil && err != io.EOF {
				return fmt.Errorf("read line %d: %w", n, err)
			}
		case err != nil && err != io.EOF:
			return fmt.Errorf("read line %d: %w", n, err)
		case len(bytes.TrimRight(line, "\r\n")) > MaxLineLength:
			p.invalid(n, "longer than %d bytes", MaxLineLength)
		default:
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a byte order mark
			}
			p.line(n, line)
			if len(p.v4)+len(p.v6) > MaxRanges {
				return fmt.Errorf("more than %d ranges at line %d: this is not an IP-to-country table", MaxRanges, n)
			}
		}
		if p.opts.Progress != nil && read >= next {
			p.opts.Progress(read)
			next = read + 256<<10
		}
		if err == io.EOF {
			break
		}
	}
	if p.opts.Progress != nil {
		p.opts.Progress(read)
	}
	return nil
}

// line parses line number n.
func (p *parser) line(n int, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return
	}
	nf, err := p.split(line)
	if err != nil {
		p.invalid(n, "not a CSV record: %v", err)
		return
	}
	first := !p.record
	p.record = true
	if first && nf >= 3 && p.header() {
		return
	}
	if nf < 3 {
		p.invalid(n, "want a start IP, an end IP and a country code, got %d field(s)", nf)
		return
	}
	startText, endText, ccText := p.fields[0], p.fields[1], bytes.TrimSpace(p.fields[2])
	start, err := parseAddr(startText)
	if err != nil {
		p.invalid(n, "start IP %s", err)
		return
	}
	end, err := parseAddr(endText)
	if err != nil {
		p.invalid(n, "end IP %s", err)
		return
	}
	if string(ccText) == "-" || len(ccText) == 2 && upper(ccText[0]) == 'Z' && upper(ccText[1]) == 'Z' {
		p.rep.Unknown++
		return
	}
	cc, ok := p.country(ccText)
	if !ok {
		p.invalid(n, "unknown country code %q", clip(ccText))
		return
	}
	s, e := start.resolve(end), end.resolve(start)
	switch {
	case s.Is4() != e.Is4():
		p.invalid(n, "start %s and end %s are of different families (IPv4 and IPv6)", s, e)
	case e.Less(s):
		p.invalid(n, "start %s is after end %s", s, e)
	case s.Is4():
		p.v4 = append(p.v4, range4{start: v4of(s), end: v4of(e), line: uint32(n), cc: cc})
	default:
		p.v6 = append(p.v6, range6{start: u128Of(s), end: u128Of(e), line: uint32(n), cc: cc})
	}
}

// header reports whether the current record is a header line: neither
// address field is an address, and the third field is not a country.
func (p *parser) header() bool {
	if _, err := parseAddr(p.fields[0]); err == nil {
		return false
	}
	if _, err := parseAddr(p.fields[1]); err == nil {
		return false
	}
	cc := bytes.TrimSpace(p.fields[2])
	if string(cc) == "-" {
		return false
	}
	_, ok := p.country(cc)
	return !ok
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// country returns the index in p.codes of a country code, in any case,
// adding it if it is new.
func (p *parser) country(b []byte) (uint8, bool) {
	if len(b) != 2 {
		return 0, false
	}
	code := [2]byte{upper(b[0]), upper(b[1])}
	if !kurir.IsCountry(string(code[:])) {
		return 0, false
	}
	k := int(code[0]-'A')*26 + int(code[1]-'A')
	if p.codeIdx[k] == 0 {
		p.codes = append(p.codes, string(code[:]))
		p.codeIdx[k] = uint16(len(p.codes))
	}
	return uint8(p.codeIdx[k] - 1), true
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// split puts the first three fields of a CSV line (without its line end)
// in p.fields and returns how many fields the line has, up to 3. Fields
// are unquoted as RFC 4180 (and encoding/csv) say, and spaces around them
// dropped; fields after the third are not looked at.
func (p *parser) split(line []byte) (int, error) {
	nf := 0
	for nf < 3 {
		f := bytes.TrimLeft(line, " \t")
		var val []byte
		if len(f) > 0 && f[0] == '"' {
			// A quoted field runs to the next quote that is not doubled.
			i, escaped := 1, false
			for {
				j := bytes.IndexByte(f[i:], '"')
				if j < 0 {
					return 0, csv.ErrQuote
				}
				i += j + 1
				if i < len(f) && f[i] == '"' {
					escaped = true
					i++
					continue
				}
				break
			}
			val, f = f[1:i-1], bytes.TrimLeft(f[i:], " \t")
			if len(f) > 0 && f[0] != ',' {
				return 0, csv.ErrQuote
			}
			if escaped {
				val = bytes.ReplaceAll(val, []byte(`""`), []byte(`"`))
			}
		} else {
			j := bytes.IndexByte(f, ',')
			if j < 0 {
				j = len(f)
			}
			val, f = bytes.TrimRight(f[:j], " \t"), f[j:]
			if bytes.IndexByte(val, '"') >= 0 {
				return 0, csv.ErrBareQuote
			}
		}
		p.fields[nf] = val
		nf++
		if len(f) == 0 {
			break
		}
		line = f[1:] // after the comma
	}
	return nf, nil
}

// addrField is an address field as written: text or a decimal integer,
// whose family depends on the other address of its row.
type addrField struct {
	addr  netip.Addr // text
	n     u128       // integer
	isInt bool
}

func (f addrField) small() bool { return f.isInt && f.n.hi == 0 && f.n.lo <= math.MaxUint32 }

// resolve returns the address f stands for, with an IPv4-mapped address
// unmapped. An integer is IPv4 if it fits in 32 bits, unless other is an
// integer that does not (a row of IP2Location's IPv6 file).
func (f addrField) resolve(other addrField) netip.Addr {
	if !f.isInt {
		return f.addr.Unmap()
	}
	if f.small() && (!other.isInt || other.small()) {
		return addr4(uint32(f.n.lo))
	}
	return f.n.addr().Unmap()
}

// parseAddr parses an address field.
func parseAddr(b []byte) (addrField, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return addrField{}, errors.New("is missing")
	}
	if n, ok, digits := parseDecimal(b); digits {
		if !ok {
			return addrField{}, fmt.Errorf("%q is larger than any IPv6 address", clip(b))
		}
		return addrField{n: n, isInt: true}, nil
	}
	a, ok := parseIPv4(b)
	if !ok {
		var err error
		if a, err = netip.ParseAddr(string(b)); err != nil {
			return addrField{}, fmt.Errorf("%q is not an IP address", clip(b))
		}
	}
	if a.Zone() != "" {
		return addrField{}, fmt.Errorf("%q has a zone (%%%s): a range is of global addresses", clip(b), a.Zone())
	}
	return addrField{addr: a}, nil
}

// parseDecimal parses a decimal integer of up to 128 bits. digits reports
// whether b is all digits; ok, whether it fits.
func parseDecimal(b []byte) (n u128, ok, digits bool) {
	for _, c := range b {
		if c < '0' || c > '9' {
			return u128{}, false, false
		}
	}
	for _, c := range b {
		// n = n*10 + c
		hi1, lo := bits.Mul64(n.lo, 10)
		hi2, hi := bits.Mul64(n.hi, 10)
		if hi2 != 0 {
			return u128{}, false, true
		}
		hi, carry := bits.Add64(hi, hi1, 0)
		if carry != 0 {
			return u128{}, false, true
		}
		lo, carry = bits.Add64(lo, uint64(c-'0'), 0)
		hi, carry = bits.Add64(hi, 0, carry)
		if carry != 0 {
			return u128{}, false, true
		}
		n = u128{hi, lo}
	}
	return n, true, true
}

// parseIPv4 parses dotted-decimal IPv4 as netip.ParseAddr does (four
// decimal octets without leading zeros), without turning b into a string:
// most lines of most files are IPv4.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var out [4]byte
	i := 0
	for k := range 4 {
		if k > 0 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		v, digits := 0, 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if digits == 1 && v == 0 { // a leading zero
				return netip.Addr{}, false
			}
			v = v*10 + int(b[i]-'0')
			digits++
			i++
			if v > 255 {
				return netip.Addr{}, false
			}
		}
		if digits == 0 {
			return netip.Addr{}, false
		}
		out[k] = byte(v)
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}

func v4of(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// disjoint sorts the ranges and drops those that overlap another (the one
// on the later line of each pair), reporting them.
func (p *parser) disjoint() ([]range4, []range6) {
	slices.SortFunc(p.v4, func(a, b range4) int {
		if a.start != b.start {
			return cmpUint(a.start, b.start)
		}
		return cmpUint(a.line, b.line)
	})
	v4 := p.v4[:0]
	for _, r := range p.v4 {
		if len(v4) > 0 {
			// The ranges kept so far are sorted and disjoint, so only the
			// last can overlap r.
			last := v4[len(v4)-1]
			if r.start <= last.end {
				if r.line > last.line {
					p.overlap(r.line, addr4(r.start), addr4(r.end), last.line, addr4(last.start), addr4(last.end))
					continue
				}
				p.overlap(last.line, addr4(last.start), addr4(last.end), r.line, addr4(r.start), addr4(r.end))
				v4 = v4[:len(v4)-1]
			}
		}
		v4 = append(v4, r)
	}
	slices.SortFunc(p.v6, func(a, b range6) int {
		if c := a.start.cmp(b.start); c != 0 {
			return c
		}
		return cmpUint(a.line, b.line)
	})
	v6 := p.v6[:0]
	for _, r := range p.v6 {
		if len(v6) > 0 {
			last := v6[len(v6)-1]
			if !last.end.less(r.start) {
				if r.line > last.line {
					p.overlap(r.line, r.start.addr(), r.end.addr(), last.line, last.start.addr(), last.end.addr())
					continue
				}
				p.overlap(last.line, last.start.addr(), last.end.addr(), r.line, r.start.addr(), r.end.addr())
				v6 = v6[:len(v6)-1]
			}
		}
		v6 = append(v6, r)
	}
	return v4, v6
}

func cmpUint[T uint32 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (p *parser) overlap(line uint32, start, end netip.Addr, other uint32, ostart, oend netip.Addr) {
	p.invalid(int(line), "range %s-%s overlaps line %d (%s-%s)", start, end, other, ostart, oend)
}

// build makes the Table of sorted, disjoint ranges, joining adjacent ones
// of one country and numbering countries in the order of their codes.
func (p *parser) build(v4 []range4, v6 []range6) *Table {
	var used [256]bool
	for _, r := range v4 {
		used[r.cc] = true
	}
	for _, r := range v6 {
		used[r.cc] = true
	}
	var codes []string
	for i, c := range p.codes {
		if used[i] {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	var renum [256]uint8
	for i, c := range p.codes {
		if j, ok := slices.BinarySearch(codes, c); ok {
			renum[i] = uint8(j)
		}
	}

	v4start, v4end, v4cc := make([]uint32, 0, len(v4)), make([]uint32, 0, len(v4)), make([]uint8, 0, len(v4))
	for _, r := range v4 {
		cc := renum[r.cc]
		if n := len(v4end); n > 0 && v4cc[n-1] == cc && v4end[n-1] != math.MaxUint32 && v4end[n-1]+1 == r.start {
			v4end[n-1] = r.end
			continue
		}
		v4start, v4end, v4cc = append(v4start, r.start), append(v4end, r.end), append(v4cc, cc)
	}
	v6start, v6end, v6cc := make([]u128, 0, len(v6)), make([]u128, 0, len(v6)), make([]uint8, 0, len(v6))
	for _, r := range v6 {
		cc := renum[r.cc]
		if n := len(v6end); n > 0 && v6cc[n-1] == cc {
			if next, ok := v6end[n-1].next(); ok && next == r.start {
				v6end[n-1] = r.end
				continue
			}
		}
		v6start, v6end, v6cc = append(v6start, r.start), append(v6end, r.end), append(v6cc, cc)
	}
	return newTable(codes, slices.Clip(v4start), slices.Clip(v4end), slices.Clip(v4cc), slices.Clip(v6start), slices.Clip(v6end), slices.Clip(v6cc))
}
