package hashbank

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPDQLookup looks up PDQ hashes at distance 31 in banks of 1M and
// 10M random hashes, with the multi-index and with a plain scan (the
// baseline). Half the queries are near copies (up to 20 bits off) of a
// stored hash, half unrelated. B/hash is the index's memory, counted from
// the capacity of its slices.
//
//	go test -run '^$' -bench PDQLookup -benchtime 1000x ./safety/hashbank/
func BenchmarkPDQLookup(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		rng := rand.New(rand.NewPCG(3, 4))
		ids := make([]int64, n)
		hashes := make([][4]uint64, n)
		for i := range hashes {
			ids[i] = int64(i + 1)
			hashes[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
		}
		x := NewIndex()
		table := buildTable(ids, hashes)
		x.state.Load().table = table
		ids = nil
		queries := make([]PDQ, 1024)
		for i := range queries {
			if i%2 == 0 {
				var p PDQ
				h := hashes[rng.IntN(n)]
				for w := range 4 {
					for k := range 8 {
						p[w*8+k] = byte(h[w] >> (8 * k))
					}
				}
				queries[i] = near(rng, p, rng.IntN(21))
			} else {
				queries[i] = randomPDQ(rng)
			}
		}
		name := fmt.Sprintf("%dM", n/1_000_000)
		b.Run(name+"/index", func(b *testing.B) {
			found := 0
			i := 0
			for b.Loop() {
				found += len(x.LookupPDQ(queries[i%len(queries)], MaxDistance))
				i++
			}
			if found < b.N/2-1 {
				b.Fatalf("found %d matches for %d queries, half of which are near copies", found, b.N)
			}
			b.ReportMetric(float64(table.bytes())/float64(n), "B/hash")
		})
		b.Run(name+"/scan", func(b *testing.B) {
			found := 0
			i := 0
			for b.Loop() {
				found += linearScan(hashes, toWords(queries[i%len(queries)]), MaxDistance)
				i++
			}
			if found < b.N/2-1 {
				b.Fatalf("found %d matches for %d queries", found, b.N)
			}
		})
	}
}

// randomTable returns n random PDQ hashes with IDs 1 to n.
func randomTable(n int) ([]int64, [][4]uint64) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := make([]int64, n)
	hashes := make([][4]uint64, n)
	for i := range hashes {
		ids[i] = int64(i + 1)
		hashes[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	return ids, hashes
}

// BenchmarkPDQLookupFullOverlay is a lookup in a bank of 1M hashes whose
// overlay (the entries added since the last merge, scanned one by one) is
// at its cap: the slowest a lookup gets between merges, whatever the rate
// of additions.
//
//	go test -run '^$' -bench PDQLookupFullOverlay -benchtime 1000x ./safety/hashbank/
func BenchmarkPDQLookupFullOverlay(b *testing.B) {
	ids, hashes := randomTable(1_000_000)
	x := NewIndex()
	x.load(ids, hashes)
	rng := rand.New(rand.NewPCG(8, 9))
	s := x.state.Load()
	for i := range x.overlayCap {
		s.added[int64(2_000_000+i)] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	queries := make([]PDQ, 1024)
	for i := range queries {
		queries[i] = randomPDQ(rng)
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		x.LookupPDQ(queries[i%len(queries)], MaxDistance)
		i++
	}
	b.ReportMetric(float64(len(s.added)), "overlay")
}

// BenchmarkExactAdd adds one SHA-256 entry to an index that holds 1M of
// them, and takes it out again: the cost of one change, which the sharded
// maps keep to a map insertion. clone is what the change cost when it
// copied the whole set (the baseline, measured in the same run).
//
//	go test -run '^$' -bench ExactAdd ./safety/hashbank/
func BenchmarkExactAdd(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	x := NewIndex()
	flat := make(map[[32]byte][]int64, n)
	for id := int64(1); id <= n; id++ {
		var k [32]byte
		for w := range 4 {
			v := rng.Uint64()
			for j := range 8 {
				k[w*8+j] = byte(v >> (8 * j))
			}
		}
		x.sha256.add(k, id)
		flat[k] = []int64{id}
	}
	sig := Signal{Type: SignalSHA256, Value: make([]byte, 32)}
	b.Run("sharded", func(b *testing.B) {
		for b.Loop() {
			sig.Value[0]++
			x.Change(map[int64]Signal{n + 1: sig}, nil)
			x.Change(nil, map[int64]Signal{n + 1: sig})
		}
	})
	b.Run("clone", func(b *testing.B) {
		for b.Loop() {
			c := mapsClone(flat)
			c[[32]byte{1}] = []int64{n + 1}
		}
	})
}
