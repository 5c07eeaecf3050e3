package textscan_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"kurir/safety/textscan"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range append(messages, "ｚｏｒ\u200bblax", "КРАМ\u200cБУЛЬ", "قُنْبُلُوز", "\xff\xfe", "g l i m",
		"e\u0301\u0323x", "\u00e9\u1ea1", "한국어", "ﬁnal ßtraße", "λόγος", "a\u0316\u0300b", "0811 1|0 ｍ１", "İstanbul ǅ",
		"क\u094D\u093C", "हैं है", "がか", "שָׁלוֹם", "a\u0301\u093C\u094D") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := textscan.Normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q, not valid UTF-8", s, n)
		}
		if utf8.ValidString(s) {
			if want := textscan.NormalizeSteps(s); n != want {
				t.Fatalf("Normalize(%q) = %q, but step by step %q", s, n, want)
			}
		}
		if l := textscan.Light(s); utf8.ValidString(s) && l != textscan.LightSteps(s) {
			t.Fatalf("Light(%q) = %q, but step by step %q", s, l, textscan.LightSteps(s))
		}
		if len(n) > 32*len(s)+16 {
			t.Fatalf("Normalize(%q) grew to %d bytes", s, len(n))
		}
		// A term and the same term in capitals and fullwidth normalise alike.
		if w := strings.ToUpper(s); utf8.ValidString(s) && textscan.Normalize(toFullwidth(w)) != textscan.Normalize(w) {
			t.Fatalf("fullwidth %q normalises to %q, ordinary %q", toFullwidth(w), textscan.Normalize(toFullwidth(w)), textscan.Normalize(w))
		}
	})
}

func FuzzParseRules(f *testing.F) {
	f.Add(testRules)
	f.Add("SPAM\tblock\tre:(a|b)*\tleet\n\x00")
	f.Add("X\tflag\tdomain:a.b\n")
	f.Fuzz(func(t *testing.T, file string) {
		rules, err := textscan.ParseRules("fuzz", strings.NewReader(file))
		if err != nil {
			if rules != nil {
				t.Fatal("rules returned with an error")
			}
			return
		}
		s, err := textscan.NewScanner(rules)
		if err != nil {
			t.Fatalf("parsed rules do not compile: %v", err)
		}
		s.Scan(file)
	})
}

// toFullwidth turns ASCII letters and digits into their fullwidth forms.
func toFullwidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return r - '!' + '\uFF01'
		}
		return r
	}, s)
}
