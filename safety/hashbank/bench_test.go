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
