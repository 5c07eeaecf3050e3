package hashbank

import (
	"math/rand/v2"
	"slices"
	"testing"

	"kurir/safety/pdq"
)

func randomPDQ(rng *rand.Rand) PDQ {
	var h PDQ
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// near flips d distinct random bits of h.
func near(rng *rand.Rand, h PDQ, d int) PDQ {
	for _, b := range rng.Perm(256)[:d] {
		h[b/8] ^= 1 << (b % 8)
	}
	return h
}

// TestIndexFindsExactlyWhatAScanFinds checks the multi-index against a
// plain scan, with neighbours planted at every distance up to 40, across a
// merge into a new table and with entries removed and put back.
func TestIndexFindsExactlyWhatAScanFinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	x := NewIndex()
	x.mergeAt = 500 // merge several times during the test
	all := map[int64]PDQ{}
	var queries []PDQ
	add := map[int64]Signal{}
	for id := int64(1); id <= 3000; id++ {
		h := randomPDQ(rng)
		if id%10 == 0 { // a near neighbour of an earlier query
			h = near(rng, queries[rng.IntN(len(queries))], rng.IntN(41))
		} else if id%7 == 0 {
			queries = append(queries, h)
		}
		all[id] = h
		add[id] = Signal{Type: SignalPDQ, Value: h[:]}
		if len(add) == 300 {
			x.Change(add, nil)
			add = map[int64]Signal{}
		}
	}
	x.Change(add, nil)
	removed := map[int64]Signal{}
	for id := int64(5); id <= 3000; id += 37 {
		h := all[id]
		removed[id] = Signal{Type: SignalPDQ, Value: h[:]}
	}
	x.Change(nil, removed)
	back := map[int64]Signal{}
	for id := int64(5); id <= 3000; id += 74 {
		back[id] = removed[id]
		delete(removed, id)
	}
	x.Change(back, nil)
	waitMerged(x)

	for qi, q := range queries {
		var want []int64
		for id, h := range all {
			if _, gone := removed[id]; !gone && pdq.Distance(h, q) <= MaxDistance {
				want = append(want, id)
			}
		}
		var got []int64
		for _, hit := range x.LookupPDQ(q, MaxDistance) {
			if hit.Distance != pdq.Distance(all[hit.Entry], q) {
				t.Fatalf("query %d: entry %d at distance %d, reported %d", qi, hit.Entry, pdq.Distance(all[hit.Entry], q), hit.Distance)
			}
			got = append(got, hit.Entry)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d: index found %v, a scan finds %v", qi, got, want)
		}
	}
	if x.Len() != 3000-len(removed) {
		t.Errorf("Len = %d, want %d", x.Len(), 3000-len(removed))
	}
}

func waitMerged(x *Index) {
	for {
		x.mu.Lock()
		m := x.merging
		x.mu.Unlock()
		if !m {
			return
		}
	}
}

func TestIndexExact(t *testing.T) {
	x := NewIndex()
	md := [16]byte{1, 2, 3}
	sh := [32]byte{9, 9}
	x.Change(map[int64]Signal{1: {SignalMD5, md[:]}, 2: {SignalSHA256, sh[:]}, 3: {SignalMD5, md[:]}}, nil)
	if got := x.LookupMD5(md); !slices.Equal(got, []int64{1, 3}) && !slices.Equal(got, []int64{3, 1}) {
		t.Errorf("LookupMD5 = %v, want 1 and 3", got)
	}
	x.Change(nil, map[int64]Signal{1: {SignalMD5, md[:]}})
	if got := x.LookupMD5(md); !slices.Equal(got, []int64{3}) {
		t.Errorf("after removing 1: %v, want [3]", got)
	}
	if got := x.LookupSHA256(sh); !slices.Equal(got, []int64{2}) {
		t.Errorf("LookupSHA256 = %v", got)
	}
}

// TestIndexFindsTightNeighbours plants neighbours whose distance is spread
// over the 16 words as evenly as 31 bits allow (every word 1 to 3 bits
// off), so that few words, sometimes one, can find them: the cases where
// the index's filters are tight. IDs above 32 bits take the other layout.
func TestIndexFindsTightNeighbours(t *testing.T) {
	for _, base := range []int64{1, 1 << 40} {
		rng := rand.New(rand.NewPCG(11, uint64(base)))
		x := NewIndex()
		x.mergeAt = 1000
		all := map[int64]PDQ{}
		var queries []PDQ
		add := map[int64]Signal{}
		put := func(h PDQ) {
			id := base + int64(len(all))
			all[id] = h
			add[id] = Signal{Type: SignalPDQ, Value: h[:]}
		}
		for range 100 {
			q := randomPDQ(rng)
			queries = append(queries, q)
			for range 30 {
				var per [chunks]int
				for c := range per {
					per[c] = 2
				}
				per[rng.IntN(chunks)] = 1 - rng.IntN(2) // 31 or 30 bits in all
				for range rng.IntN(4) {                 // move bits between words
					from, to := rng.IntN(chunks), rng.IntN(chunks)
					if per[from] > 0 {
						per[from]--
						per[to]++
					}
				}
				if rng.IntN(4) == 0 {
					per[rng.IntN(chunks)]++ // 32 or 31: at or past the edge
				}
				h := q
				for c, d := range per {
					for _, b := range rng.Perm(16)[:d] {
						bit := 16*c + b
						h[bit/8] ^= 1 << (bit % 8)
					}
				}
				put(h)
			}
		}
		x.Change(add, nil)
		waitMerged(x)
		for qi, q := range queries {
			var want, got []int64
			for id, h := range all {
				if pdq.Distance(h, q) <= MaxDistance {
					want = append(want, id)
				}
			}
			for _, hit := range x.LookupPDQ(q, MaxDistance) {
				got = append(got, hit.Entry)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("base %d, query %d: index found %d entries, a scan finds %d", base, qi, len(got), len(want))
			}
		}
	}
}

// TestOverlayStaysCapped streams additions into an index far faster than
// it can merge them: the overlay every lookup scans never grows past its
// cap (changes wait for the merge instead), and every entry is found in
// the end.
func TestOverlayStaysCapped(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := NewIndex()
	x.mergeAt, x.overlayCap = 1000, 4000
	const base = 200_000
	ids := make([]int64, base)
	hashes := make([][4]uint64, base)
	for i := range ids {
		ids[i] = int64(i + 1)
		hashes[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	x.load(ids, hashes)
	all := map[int64]PDQ{}
	most := 0
	for id := int64(base + 1); id <= base+30_000; {
		add := map[int64]Signal{}
		for range 1000 {
			h := randomPDQ(rng)
			all[id] = h
			add[id] = Signal{Type: SignalPDQ, Value: h[:]}
			id++
		}
		x.Change(add, nil)
		most = max(most, len(x.state.Load().added))
	}
	if most > x.overlayCap {
		t.Errorf("the overlay reached %d entries, over its cap of %d", most, x.overlayCap)
	}
	t.Logf("largest overlay: %d entries (cap %d)", most, x.overlayCap)
	waitMerged(x)
	for id, h := range all {
		if hits := x.LookupPDQ(h, 0); len(hits) != 1 || hits[0].Entry != id {
			t.Fatalf("entry %d: found %+v", id, hits)
		}
	}
	if x.Len() != base+len(all) {
		t.Errorf("Len = %d, want %d", x.Len(), base+len(all))
	}
}
