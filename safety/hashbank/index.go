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
// compressed form (offsets into one array of entries).
//
// The hashes themselves are stored in the bucket order of word 0, so word
// 0's buckets are ranges of positions and need no entry array. For the
// other words an entry is one uint32: the position in its high bits and, in
// the bits a position does not need (8 at 10M hashes, 12 at 1M), the low
// bits of the next word as a tag. The tag rejects most candidates without
// touching their hashes, which at 10M are each a cache miss (see search).
type pdqTable struct {
	ids32   []uint32    // entry ID by position, when every ID fits in 32 bits
	ids64   []int64     // entry ID by position otherwise
	hashes  [][4]uint64 // hash by position, sorted by word 0
	tagBits uint        // low bits of an entry that hold the tag
	start   [chunks][]uint32
	entries [chunks][]uint32 // entries[0] is unused
}

func word(h [4]uint64, c int) uint16 { return uint16(h[c/4] >> (16 * (c % 4))) }

func toWords(h PDQ) [4]uint64 {
	return [4]uint64{le64(h[0:]), le64(h[8:]), le64(h[16:]), le64(h[24:])}
}

// buildTable indexes hashes, whose entry IDs are ids. It keeps neither
// slice. At most 1<<32 - 1 hashes fit.
func buildTable(ids []int64, hashes [][4]uint64) *pdqTable {
	n := len(hashes)
	t := &pdqTable{hashes: make([][4]uint64, n)}
	small := true
	for _, id := range ids {
		if uint64(id) > 1<<32-1 {
			small = false
			break
		}
	}
	if small {
		t.ids32 = make([]uint32, n)
	} else {
		t.ids64 = make([]int64, n)
	}
	t.tagBits = uint(min(16, 32-bits.Len(uint(n))))
	mask := uint32(1)<<t.tagBits - 1
	for c := range chunks {
		start := make([]uint32, 1<<16+1)
		for _, h := range hashes {
			start[int(word(h, c))+1]++
		}
		for i := 1; i < len(start); i++ {
			start[i] += start[i-1]
		}
		t.start[c] = start
		fill := slices.Clone(start[:1<<16])
		if c == 0 {
			for i, h := range hashes {
				p := fill[word(h, 0)]
				fill[word(h, 0)]++
				t.hashes[p] = h
				if small {
					t.ids32[p] = uint32(ids[i])
				} else {
					t.ids64[p] = ids[i]
				}
			}
			continue
		}
		next := (c + 1) % chunks
		entries := make([]uint32, n)
		for p, h := range t.hashes {
			w := word(h, c)
			entries[fill[w]] = uint32(p)<<t.tagBits | uint32(word(h, next))&mask
			fill[w]++
		}
		t.entries[c] = entries
	}
	return t
}

// len returns how many hashes t holds.
func (t *pdqTable) len() int {
	if t == nil {
		return 0
	}
	return len(t.hashes)
}

// id returns the entry ID at position p.
func (t *pdqTable) id(p uint32) int64 {
	if t.ids32 != nil {
		return int64(t.ids32[p])
	}
	return t.ids64[p]
}

// position returns where entry id is in t, or -1.
func (t *pdqTable) position(id int64) int {
	if t.ids32 != nil {
		if uint64(id) > 1<<32-1 {
			return -1
		}
		return slices.Index(t.ids32, uint32(id))
	}
	return slices.Index(t.ids64, id)
}

// bytes returns the memory t's slices hold.
func (t *pdqTable) bytes() int {
	n := 4*cap(t.ids32) + 8*cap(t.ids64) + 32*cap(t.hashes)
	for c := range chunks {
		n += 4*cap(t.start[c]) + 4*cap(t.entries[c])
	}
	return n
}

// search calls fn for every position within max (at most 31) bits of q,
// possibly more than once.
//
// The tags are exact filters because of the pigeonring principle (Qin et
// al.): if the 16 word distances d₀…d₁₅ add up to at most 31, less than 2
// per word, then some word c starts a run around the ring in which every
// prefix stays below 2 per word: d_c ≤ 1 and d_c + d_{c+1} ≤ 3. So a
// candidate in word c's bucket at distance d_c need only be checked when
// its tag, a lower bound on d_{c+1}, is at most 3 - d_c; some other word
// finds it otherwise.
func (t *pdqTable) search(q [4]uint64, max int, fn func(p uint32, d int)) {
	if t.len() == 0 {
		return
	}
	check := func(p uint32) {
		h := &t.hashes[p]
		d := bits.OnesCount64(h[0]^q[0]) + bits.OnesCount64(h[1]^q[1]) + bits.OnesCount64(h[2]^q[2]) + bits.OnesCount64(h[3]^q[3])
		if d <= max {
			fn(p, d)
		}
	}
	start := t.start[0]
	w := word(q, 0)
	for flip := -1; flip < 16; flip++ {
		v := w
		if flip >= 0 {
			v ^= 1 << flip
		}
		for p := start[v]; p < start[int(v)+1]; p++ {
			check(p)
		}
	}
	shift := t.tagBits
	mask := uint32(1)<<shift - 1
	for c := 1; c < chunks; c++ {
		w := word(q, c)
		qt := uint32(word(q, (c+1)%chunks)) & mask
		start, entries := t.start[c], t.entries[c]
		for flip := -1; flip < 16; flip++ {
			v, slack := w, 3
			if flip >= 0 {
				v, slack = v^1<<flip, 2
			}
			for _, e := range entries[start[v]:start[int(v)+1]] {
				if bits.OnesCount32((e^qt)&mask) <= slack {
					check(e >> shift)
				}
			}
		}
	}
}

// Index finds bank entries by signal: exact MD5 and SHA-256, and PDQ within
// MaxDistance. It is safe for concurrent use: lookups never wait for a
// rebuild, and changes take effect as soon as Change returns.
//
// PDQ entries live in an immutable table plus a small overlay of entries
// added since it was built (scanned linearly by every lookup) and a set of
// entries removed since. When the overlay reaches mergeAt entries a new
// table is built in the background and swapped in; the overlay never grows
// past overlayCap: a Change that would take it past waits for the running
// merge instead, so a lookup's linear part stays bounded (about 150 µs at
// 16,384 entries) however large the bank and however fast it grows.
//
// Exact hashes live in sharded maps changed in place, under one lock per
// shard, so one addition costs a map insertion, not a copy of the set.
type Index struct {
	state      atomic.Pointer[indexState]
	mu         sync.Mutex // serialises changes
	merged     sync.Cond  // on mu: a merge ended
	merging    bool
	mergeAt    int // overlay size that starts a merge
	overlayCap int // most PDQ entries the overlay holds
	md5        exactSet
	sha256     exactSet
}

type indexState struct {
	table   *pdqTable
	added   map[int64][4]uint64 // PDQ entries not in table
	removed map[int64]bool      // entries in table no longer wanted
}

// exactShards is how many shards an exactSet has: a change locks one, so
// lookups of the others never wait, and one lock is held for a map
// insertion at most.
const exactShards = 256

// exactSet maps a hash (an MD5 in the first 16 bytes, or a SHA-256) to the
// entries that have it. The ID slices are never changed in place, so a
// slice a lookup returned stays valid.
type exactSet struct {
	shards [exactShards]struct {
		mu sync.RWMutex
		m  map[[32]byte][]int64
	}
}

func (e *exactSet) lookup(k [32]byte) []int64 {
	sh := &e.shards[k[0]]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.m[k]
}

func (e *exactSet) add(k [32]byte, id int64) {
	sh := &e.shards[k[0]]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.m == nil {
		sh.m = map[[32]byte][]int64{}
	}
	sh.m[k] = append(without(sh.m[k], id), id)
}

func (e *exactSet) remove(k [32]byte, id int64) {
	sh := &e.shards[k[0]]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if ids := without(sh.m[k], id); ids != nil {
		sh.m[k] = ids
	} else {
		delete(sh.m, k)
	}
}

// exactKey returns the key of an exact hash in its exactSet.
func exactKey(v []byte) (k [32]byte) {
	copy(k[:], v)
	return k
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{mergeAt: 4096, overlayCap: 16384}
	x.merged.L = &x.mu
	x.state.Store(&indexState{added: map[int64][4]uint64{}, removed: map[int64]bool{}})
	return x
}

// Signal is one hash of an entry.
type Signal struct {
	Type  SignalType
	Value []byte // 32 bytes for PDQ and SHA-256, 16 for MD5
}

// load replaces the index's PDQ entries with a table built from ids and
// hashes, at once: for startup, when there is nothing to look up yet.
func (x *Index) load(ids []int64, hashes [][4]uint64) {
	table := buildTable(ids, hashes)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.state.Store(&indexState{table: table, added: map[int64][4]uint64{}, removed: map[int64]bool{}})
}

// Change adds entries and takes out others (given with the signal they
// were added with). PDQ changes are seen by readers all at once; exact
// hashes one by one. It waits for a running merge when its PDQ additions
// would take the overlay past its cap, so callers with many should pass
// them a few thousand at a time.
func (x *Index) Change(add, remove map[int64]Signal) {
	x.mu.Lock()
	defer x.mu.Unlock()
	newPDQ := 0
	for _, sig := range add {
		if sig.Type == SignalPDQ {
			newPDQ++
		}
	}
	for x.merging && len(x.state.Load().added)+newPDQ > x.overlayCap {
		x.merged.Wait()
	}
	old := x.state.Load()
	s := *old
	var clonedAdded, clonedRemoved bool
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
			x.md5.remove(exactKey(sig.Value), id)
		case SignalSHA256:
			x.sha256.remove(exactKey(sig.Value), id)
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
			x.md5.add(exactKey(sig.Value), id)
		case SignalSHA256:
			x.sha256.add(exactKey(sig.Value), id)
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
		ids = make([]int64, 0, t.len()+len(snap.added))
		hashes = make([][4]uint64, 0, t.len()+len(snap.added))
		for p := range t.len() {
			if id := t.id(uint32(p)); !snap.removed[id] {
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
	s := &indexState{table: table, added: map[int64][4]uint64{}, removed: map[int64]bool{}}
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
			if p := snap.table.position(id); p >= 0 {
				s.added[id] = snap.table.hashes[p]
			}
		}
	}
	x.state.Store(s)
	x.merging = false
	x.merged.Broadcast()
	if len(s.added)+len(s.removed) >= x.mergeAt {
		x.merging = true
		go x.merge() // what came in while this one built
	}
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
		id := s.table.id(p)
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
func (x *Index) LookupMD5(m [16]byte) []int64 { return x.md5.lookup(exactKey(m[:])) }

// LookupSHA256 returns the entries with SHA-256 h.
func (x *Index) LookupSHA256(h [32]byte) []int64 { return x.sha256.lookup(h) }

// Len returns how many PDQ entries the index holds.
func (x *Index) Len() int {
	s := x.state.Load()
	return s.table.len() + len(s.added) - len(s.removed)
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
