package textscan_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"kurir/safety/textscan"
)

// bigScanner has n synthetic terms (pseudo-words of 5 to 12 letters), a
// tenth of them with leet and spacing, plus 100 domains and 20 regexps.
func bigScanner(b *testing.B, n int) *textscan.Scanner {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for i := range n {
		w := make([]byte, 5+rng.IntN(8))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		opts := ""
		if i%10 == 0 {
			opts = "\tleet,spacing"
		}
		fmt.Fprintf(&sb, "CAT%d\tflag\t%s%s\n", i%40, w, opts)
	}
	for i := range 100 {
		fmt.Fprintf(&sb, "PHISH\tblock\tdomain:bad%d.example\n", i)
	}
	for i := range 20 {
		fmt.Fprintf(&sb, "SCAM\tblock\tre:win\\s+%d\\s+qoins\n", i)
	}
	rules, err := textscan.ParseRules("bench", strings.NewReader(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		b.Fatal(err)
	}
	// Every kind of rule must be live, or the benchmark measures less
	// work than a real list costs.
	for _, live := range []string{"win 7 qoins", "see https://x.bad3.example/", rules[0].Pattern} {
		if s.Scan(live).Action == textscan.Allow {
			b.Fatalf("the benchmark's rules do not match %q", live)
		}
	}
	return s
}

var messages = []string{
	"hey, are we still on for dinner tonight? I can bring the wine",
	"Selamat pagi! Jangan lupa rapat jam 10 di kantor ya",
	"Привет! Как дела? Увидимся завтра на станции метро",
	"مرحبا، هل يمكنك إرسال الملف قبل الاجتماع غدا؟",
	"check out https://news.example.com/2026/11/29/story for the details",
	"ok 👍",
}

// BenchmarkScan scans typical chat messages against 100,000 terms (plus
// domains and regexps), one sub-benchmark per message, and reports bytes
// scanned per second.
//
//	go test -run '^$' -bench Scan -cpu 1 ./safety/textscan/
func BenchmarkScan(b *testing.B) {
	s := bigScanner(b, 100_000)
	for i, name := range []string{"english", "indonesian", "russian", "arabic", "link", "emoji"} {
		m := messages[i]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			b.ReportAllocs()
			for b.Loop() {
				s.Scan(m)
			}
		})
	}
}
