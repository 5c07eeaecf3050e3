package hashbank

import (
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"kurir/safety/pdq"
)

// PDQ is a 256-bit PDQ perceptual hash.
type PDQ = pdq.Hash

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// MaxDistance is the farthest PDQ match the index finds: 31 bits, the
// threshold industry hash sharing uses.
const MaxDistance = pdq.MatchDistance

// chunks is how many 16-bit words the index splits a hash into. With 16 of
// them, two hashes within 31 bits agree to within one bit on at least one
// word (16 × 2 > 31), so probing each word's value and its 16 one-bit
// neighbours finds every match: multi-index hashing (Norouzi et al.).
const chunks = 16

// pdqTable is an immutable multi-index over PDQ hashes: for each of the 16
// words, the entries sorted into 65,536 buckets by that word's value, in
// compressed form (offsets into one array of entry positions).
type pdqTable struct {
	ids    []int64     // entry ID by position
	hashes [][4]uint64 // hash by position, for the final distance check
	start  [chunks][]uint32
	pos    [chunks][]uint32
}

func word(h [4]uint64, c int) uint16 { return uint16(h[c/4] >> (16 * (c % 4))) }

func toWords(h PDQ) [4]uint64 {
	return [4]uint64{le64(h[0:]), le64(h[8:]), le64(h[16:]), le64(h[24:])}
}

func buildTable(ids []int64, hashes [][4]uint64) *pdqTable {
	t := &pdqTable{ids: ids, hashes: hashes}
	n := len(ids)
	for c := range chunks {
		start := make([]uint32, 1<<16+1)
		for _, h := range hashes {
			start[int(word(h, c))+1]++
		}
		for i := 1; i < len(start); i++ {
			start[i] += start[i-1]
		}
		pos := make([]uint32, n)
		fill := slices.Clone(start[:1<<16])
		for p, h := range hashes {
			w := word(h, c)
			pos[fill[w]] = uint32(p)
			fill[w]++
		}
		t.start[c], t.pos[c] = start, pos
	}
	return t
}

// search calls fn for every position within max bits of q, possibly more
// than once.
func (t *pdqTable) search(q [4]uint64, max int, fn func(p uint32, d int)) {
	if t == nil || len(t.ids) == 0 {
		return
	}
	for c := range chunks {
		w := word(q, c)
		start, pos := t.start[c], t.pos[c]
		for flip := -1; flip < 16; flip++ {
			v := w
			if flip >= 0 {
				v ^= 1 << flip
			}
			for _, p := range pos[start[v]:start[int(v)+1]] {
				h := &t.hashes[p]
				d := bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) + bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3])
				if d <= max {
					fn(p, d)
				}
			}
		}
	}
}

// Index finds bank entries by signal: exact MD5 and SHA-256, and PDQ within
// MaxDistance. It is safe for concurrent use: lookups never wait for
// changes, and changes take effect at once.
//
// PDQ entries live in an immutable table plus a small overlay of entries
// added since it was built and a set of entries removed since; when the
// overlay grows, a new table is built in the background and swapped in.
type Index struct {
	state   atomic.Pointer[indexState]
	mu      sync.Mutex // serialises changes
	merging bool
	mergeAt int // overlay size that starts a merge
}

type indexState struct {
	table   *pdqTable
	added   map[int64][4]uint64 // PDQ entries not in table
	removed map[int64]bool      // entries in table no longer wanted
	md5     map[[16]byte][]int64
	sha256  map[[32]byte][]int64
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{mergeAt: 4096}
	x.state.Store(&indexState{added: map[int64][4]uint64{}, removed: map[int64]bool{},
		md5: map[[16]byte][]int64{}, sha256: map[[32]byte][]int64{}})
	return x
}

// Signal is one hash of an entry.
type Signal struct {
	Type  SignalType
	Value []byte // 32 bytes for PDQ and SHA-256, 16 for MD5
}

// Change adds entries and takes out others (given with the signal they
// were added with) in one step: readers see all of it or none of it.
func (x *Index) Change(add, remove map[int64]Signal) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.state.Load()
	s := *old
	var clonedAdded, clonedRemoved, clonedMD5, clonedSHA bool
	added := func() {
		if !clonedAdded {
			s.added, clonedAdded = mapsClone(old.added), true
		}
	}
	removed := func() {
		if !clonedRemoved {
			s.removed, clonedRemoved = mapsClone(old.removed), true
		}
	}
	md5s := func() {
		if !clonedMD5 {
			s.md5, clonedMD5 = mapsClone(old.md5), true
		}
	}
	shas := func() {
		if !clonedSHA {
			s.sha256, clonedSHA = mapsClone(old.sha256), true
		}
	}
	for id, sig := range remove {
		switch sig.Type {
		case SignalPDQ:
			if _, ok := s.added[id]; ok {
				added()
				delete(s.added, id)
			} else {
				removed()
				s.removed[id] = true
			}
		case SignalMD5:
			md5s()
			k := [16]byte(sig.Value)
			s.md5[k] = without(s.md5[k], id)
		case SignalSHA256:
			shas()
			k := [32]byte(sig.Value)
			s.sha256[k] = without(s.sha256[k], id)
		}
	}
	for id, sig := range add {
		switch sig.Type {
		case SignalPDQ:
			if s.removed[id] {
				removed()
				delete(s.removed, id) // back in the table
				continue
			}
			added()
			s.added[id] = toWords(PDQ(sig.Value))
		case SignalMD5:
			md5s()
			k := [16]byte(sig.Value)
			s.md5[k] = append(without(s.md5[k], id), id)
		case SignalSHA256:
			shas()
			k := [32]byte(sig.Value)
			s.sha256[k] = append(without(s.sha256[k], id), id)
		}
	}
	x.state.Store(&s)
	if len(s.added)+len(s.removed) >= x.mergeAt && !x.merging {
		x.merging = true
		go x.merge()
	}
}

// without returns ids without id, as a new slice (the old one may be read).
func without(ids []int64, id int64) []int64 {
	out := make([]int64, 0, len(ids)+1)
	for _, v := range ids {
		if v != id {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func mapsClone[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// merge builds a new table from the current one and the overlay, then
// swaps it in, carrying over changes made while it was building.
func (x *Index) merge() {
	snap := x.state.Load()
	var ids []int64
	var hashes [][4]uint64
	if t := snap.table; t != nil {
		for p, id := range t.ids {
			if !snap.removed[id] {
				ids = append(ids, id)
				hashes = append(hashes, t.hashes[p])
			}
		}
	}
	for id, h := range snap.added {
		ids = append(ids, id)
		hashes = append(hashes, h)
	}
	table := buildTable(ids, hashes)

	x.mu.Lock()
	defer x.mu.Unlock()
	cur := x.state.Load()
	s := &indexState{table: table, added: map[int64][4]uint64{}, removed: map[int64]bool{}, md5: cur.md5, sha256: cur.sha256}
	// Changes since the snapshot: entries added or removed meanwhile.
	for id, h := range cur.added {
		if _, was := snap.added[id]; !was {
			s.added[id] = h
		}
	}
	for id := range cur.removed {
		if !snap.removed[id] {
			s.removed[id] = true
		}
	}
	for id := range snap.added {
		if _, still := cur.added[id]; !still {
			s.removed[id] = true // added, merged, then removed while building
		}
	}
	for id := range snap.removed {
		if !cur.removed[id] && snap.table != nil {
			// Taken out, left out of the new table, then put back while it
			// was building: it comes from the old table.
			if p := slices.Index(snap.table.ids, id); p >= 0 {
				s.added[id] = snap.table.hashes[p]
			}
		}
	}
	x.state.Store(s)
	x.merging = false
	x.mergeAt = max(4096, len(ids)/8)
}

// Hit is an entry an Index found, with the distance for PDQ (0 otherwise).
type Hit struct {
	Entry    int64
	Distance int
}

// LookupPDQ returns the PDQ entries within max (at most MaxDistance) bits
// of h, nearest first.
func (x *Index) LookupPDQ(h PDQ, max int) []Hit {
	max = min(max, MaxDistance)
	s := x.state.Load()
	q := toWords(h)
	var hits []Hit
	s.table.search(q, max, func(p uint32, d int) {
		id := s.table.ids[p]
		if s.removed[id] {
			return
		}
		for _, h := range hits {
			if h.Entry == id {
				return
			}
		}
		hits = append(hits, Hit{Entry: id, Distance: d})
	})
	for id, w := range s.added {
		d := bits.OnesCount64(w[0]^q[0]) + bits.OnesCount64(w[1]^q[1]) + bits.OnesCount64(w[2]^q[2]) + bits.OnesCount64(w[3]^q[3])
		if d <= max {
			hits = append(hits, Hit{Entry: id, Distance: d})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int { return a.Distance - b.Distance })
	return hits
}

// LookupMD5 returns the entries with MD5 m.
func (x *Index) LookupMD5(m [16]byte) []int64 { return x.state.Load().md5[m] }

// LookupSHA256 returns the entries with SHA-256 h.
func (x *Index) LookupSHA256(h [32]byte) []int64 { return x.state.Load().sha256[h] }

// Len returns how many PDQ entries the index holds.
func (x *Index) Len() int {
	s := x.state.Load()
	n := len(s.added) - len(s.removed)
	if s.table != nil {
		n += len(s.table.ids)
	}
	return n
}

// linearScan is the baseline the benchmarks compare the index with.
func linearScan(hashes [][4]uint64, q [4]uint64, max int) int {
	n := 0
	for i := range hashes {
		h := &hashes[i]
		if bits.OnesCount64(h[0]^q[0])+bits.OnesCount64(h[1]^q[1])+bits.OnesCount64(h[2]^q[2])+bits.OnesCount64(h[3]^q[3]) <= max {
			n++
		}
	}
	return n
}
