package textscan_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kurir/safety/textscan"
)

// The terms are synthetic: made-up words in each script, so the tests
// carry no real abusive vocabulary.
const testRules = `# category	action	pattern	options
SPAM	flag	zorblax pills
SPAM	block	glimmerfraud	leet,spacing
DRUGS	hold	крамбуль
DRUGS	hold	narkoplik
TERROR	block	قنبلوز	severity=5
SCAM	block	re:free\s+qoins?\b
PHISH	block	domain:evil-login.example
`

func scanner(t *testing.T) *textscan.Scanner {
	t.Helper()
	rules, err := textscan.ParseRules("test.rules", strings.NewReader(testRules))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScanCatchesDisguises(t *testing.T) {
	s := scanner(t)
	for _, tt := range []struct {
		name, text string
		want       textscan.Action
		category   string
	}{
		// English: the term as written, and disguised.
		{"plain", "get your zorblax pills now", textscan.Flag, "SPAM"},
		{"capitals", "ZORBLAX PILLS", textscan.Flag, "SPAM"},
		{"fullwidth", "ｚｏｒｂｌａｘ ｐｉｌｌｓ", textscan.Flag, "SPAM"},
		{"Cyrillic look-alikes", "zоrblах pills", textscan.Flag, "SPAM"}, // о and х are Cyrillic
		{"Greek look-alikes", "zοrblax pills", textscan.Flag, "SPAM"},    // ο is Greek
		{"zero-width characters", "zor\u200bblax pi\u200dlls", textscan.Flag, "SPAM"},
		{"diacritics", "zörblåx píllš", textscan.Flag, "SPAM"},
		{"spaced words", "zorblax   \n pills", textscan.Flag, "SPAM"},
		{"leet", "gl1mm3rfr4ud", textscan.Block, "SPAM"},
		{"spaced letters", "g l i m m e r f r a u d", textscan.Block, "SPAM"},
		{"dotted letters", "g.l.i.m.m.e.r.f.r.a.u.d", textscan.Block, "SPAM"},
		// Indonesian sentence around a listed term.
		{"Indonesian", "Mau beli narkoplik murah? Hubungi kami", textscan.Hold, "DRUGS"},
		{"Indonesian, look-alikes", "jual nаrkоplik", textscan.Hold, "DRUGS"},
		// Russian: Cyrillic term, and written with Latin look-alikes.
		{"Russian", "продам крамбуль недорого", textscan.Hold, "DRUGS"},
		{"Russian, Latin look-alikes", "продам кpaмбyль", textscan.Hold, "DRUGS"},
		{"Russian, capitals and zero-width", "КРАМ\u200cБУЛЬ", textscan.Hold, "DRUGS"},
		// Arabic: with vowel marks and tatweel added.
		{"Arabic", "لدي قنبلوز للبيع", textscan.Block, "TERROR"},
		{"Arabic with harakat", "قُنْبُلُوز", textscan.Block, "TERROR"},
		{"Arabic with tatweel", "قنبـــلوز", textscan.Block, "TERROR"},
		// Regular expressions and domains.
		{"regexp", "FREE   qoins for everyone", textscan.Block, "SCAM"},
		{"link", "log in at https://evil-login.example/verify?u=1", textscan.Block, "PHISH"},
		{"subdomain", "see secure.evil-login.example.", textscan.Block, "PHISH"},
		// Not matches: inside longer words, or unrelated.
		{"inside a longer word", "zorblaxpillsy is a made-up brand", textscan.Allow, ""},
		{"prefix of a word", "superzorblax pills", textscan.Allow, ""},
		{"Russian inside a word", "крамбульчик", textscan.Allow, ""},
		{"Arabic inside a word", "والقنبلوزات", textscan.Allow, ""},
		{"other domain", "https://evil-login.example.org/", textscan.Allow, ""},
		{"harmless", "Selamat pagi! Доброе утро. صباح الخير", textscan.Allow, ""},
		{"empty", "", textscan.Allow, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Scan(tt.text)
			if got.Action != tt.want || (tt.category != "" && (len(got.Categories) != 1 || got.Categories[0] != tt.category)) {
				t.Errorf("Scan(%q) = %+v, want %s in %s", tt.text, got, tt.want, tt.category)
			}
		})
	}
}

func TestScanStrictestWins(t *testing.T) {
	got := scanner(t).Scan("zorblax pills and glimmerfraud")
	if got.Action != textscan.Block || len(got.Rules) != 2 || strings.Join(got.Categories, ",") != "SPAM" {
		t.Errorf("two rules: %+v, want block from both, one category", got)
	}
}

func TestParseRulesBadInput(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		lines      []int
	}{
		{"too few fields", "SPAM\tblock\n", []int{1}},
		{"unknown action", "SPAM\tdelete\tword\n", []int{1}},
		{"bad regexp", "x\n# ok\nSPAM\tblock\tre:(unclosed\n", []int{1, 3}},
		{"bad domain", "PHISH\tblock\tdomain:not a host\n", []int{1}},
		{"unknown script", "SPAM\tblock\tword\tscript=Klingon\n", []int{1}},
		{"a language", "SPAM\tblock\tword\tlang=ru\n", []int{1}},
		{"public suffix", "PHISH\tblock\tdomain:co.uk\n", []int{1}},
		{"private public suffix", "PHISH\tblock\tdomain:blogspot.com\n", []int{1}},
		{"top-level domain", "PHISH\tblock\tdomain:com\n", []int{1}},
		{"bad option", "SPAM\tblock\tword\tshout\n", []int{1}},
		{"leet on a regexp", "SPAM\tblock\tre:x\tleet\n", []int{1}},
		{"clitics on a Latin term", "SPAM\tblock\tword\tclitics\n", []int{1}},
		{"invalid UTF-8", "SPAM\tblock\tw\xffrd\n", []int{1}},
		{"gigantic line", "SPAM\tblock\t" + strings.Repeat("a", 5000) + "\n", []int{1}},
		{"binary junk", "\x00\x01\x02\x03\x89PNG\r\n\x1a\n", []int{1, 2}},
		{"pattern only invisible", "SPAM\tblock\t\u200b\u200b\n", []int{1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := textscan.ParseRules("bad.rules", strings.NewReader("SPAM\tflag\tgoodword\n"+tt.file))
			if err == nil || rules != nil {
				t.Fatalf("ParseRules = %d rules, %v; want an error and no rules", len(rules), err)
			}
			var lines []int
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var le *textscan.LineError
				if !errors.As(e, &le) {
					t.Fatalf("error %v is not a LineError", e)
				}
				lines = append(lines, le.Line-1) // the good first line shifts every number by one
			}
			if len(lines) != len(tt.lines) || lines[0] != tt.lines[0] {
				t.Errorf("errors on lines %v (%v), want %v", lines, err, tt.lines)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"hello world": "hello world",
		"Hello World": "hello world",
		"ＨＥＬＬＯ":       "hello",
		"he\u200bllo": "hello",
		"héllö":       "hello",
		"Straße":      "strasse",
		"ПРИВЕТ":      textscan.Normalize("привет"),
		"مَرْحَبًا":   textscan.Normalize("مرحبا"),
		"paypal":      textscan.Normalize("pаypаl"), // Cyrillic а
	} {
		if got := textscan.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRegexpReadsTextAsWritten: a "re:" rule sees the text case-folded
// and without invisible characters or fullwidth forms, but otherwise as
// written: "m" is not "rn", digits are digits, so patterns about money,
// numbers and phone numbers match.
func TestRegexpReadsTextAsWritten(t *testing.T) {
	rules, err := textscan.ParseRules("re.rules", strings.NewReader(`SCAM	block	re:free money
SCAM	block	re:casino\s*\d+
SCAM	flag	re:Win\s+BIG
CONTACT	flag	re:(^|\D)\d{10}(\D|$)
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want textscan.Action
	}{
		{"free money for all", textscan.Block},
		{"FREE MONEY!!", textscan.Block},
		{"ｆｒｅｅ　ｍｏｎｅｙ", textscan.Block},       // fullwidth, ideographic space
		{"free mo\u200bney", textscan.Block}, // zero-width space
		{"free honey", textscan.Allow},
		{"best casino 100 spins", textscan.Block},
		{"casino100", textscan.Block},
		{"the casino is closed", textscan.Allow},
		{"win big today", textscan.Flag},   // capitals in the pattern
		{"WIN   Big today", textscan.Flag}, // and in the text
		{"call 0811000111 now", textscan.Flag},
		{"call ０８１１０００１１１ now", textscan.Flag},        // fullwidth digits
		{"order 08110001112 shipped", textscan.Allow}, // eleven digits
	} {
		if got := s.Scan(tt.text); got.Action != tt.want {
			t.Errorf("Scan(%q) = %+v, want %s", tt.text, got, tt.want)
		}
	}
}

// TestDigitsForLettersOnlyWithLeet: reading digits and "|" as letters is
// the rule's choice. A term without the leet option does not match a
// number that looks like it ("101" is not "lol"); one with it matches
// the term spelled in digits, fullwidth digits included.
func TestDigitsForLettersOnlyWithLeet(t *testing.T) {
	rules, err := textscan.ParseRules("leet.rules", strings.NewReader("SPAM\tflag\tlolzorb\nSPAM\tflag\tbomblax\nSPAM\tblock\tglimmerfraud\tleet\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want textscan.Action
	}{
		{"lolzorb", textscan.Flag},
		{"LOLZORB", textscan.Flag},
		{"101zorb", textscan.Allow},
		{"|0|zorb", textscan.Allow},
		{"b0mblax", textscan.Allow},
		{"bomblax", textscan.Flag},
		{"bоmblах", textscan.Flag}, // Cyrillic о and х are still letters
		{"gl1mm3rfr4ud", textscan.Block},
		{"ｇｌ１ｍｍ３ｒｆｒ４ｕｄ", textscan.Block},
		{"glimmerfraud", textscan.Block},
	} {
		if got := s.Scan(tt.text); got.Action != tt.want {
			t.Errorf("Scan(%q) = %+v, want %s", tt.text, got, tt.want)
		}
	}
	if n := textscan.Normalize("Call 0811 |x|"); n != "call 0811 |x|" {
		t.Errorf("Normalize kept digits and bars as %q", n)
	}
}

// TestExampleRules: the example files shipped for operators in
// docs/examples parse, and each rule in them catches what it shows.
func TestExampleRules(t *testing.T) {
	for _, tt := range []struct {
		file string
		hits map[string]textscan.Action
	}{
		{"en.rules", map[string]textscan.Action{
			"get ZORBLAX pills now":             textscan.Flag,
			"g l i m m e r f r a u d":           textscan.Block,
			"Free qoins for all":                textscan.Block,
			"win 100 qoins":                     textscan.Flag,
			"https://secure.evil-login.example": textscan.Block,
			"a perfectly ordinary message":      textscan.Allow,
		}},
		{"id.rules", map[string]textscan.Action{
			"jual narkoplik murah":          textscan.Hold,
			"main judi sl0tvex yuk":         textscan.Flag,
			"Hadiah qoin gratis untuk anda": textscan.Block,
			"selamat pagi semuanya":         textscan.Allow,
		}},
		{"ru.rules", map[string]textscan.Action{
			"продам кpaмбyль":            textscan.Hold, // Latin look-alikes
			"ДЕШЁВЫЕ ФРЫЗЛЫ тут":         textscan.Flag,
			"бесплатные квоины для всех": textscan.Block,
			"доброе утро":                textscan.Allow,
			"есть krambul?":              textscan.Flag,
			"krambul is an English word": textscan.Allow,
		}},
		{"ar.rules", map[string]textscan.Action{
			"لدي قُنْبُلُوز": textscan.Block,
			"والقنبلوز":      textscan.Block,
			"زرقلوم رخيص":    textscan.Flag,
			"صباح الخير":     textscan.Allow,
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "..", "docs", "examples", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rules, err := textscan.ParseRules(tt.file, f)
			if err != nil || len(rules) == 0 {
				t.Fatalf("ParseRules: %d rules, %v", len(rules), err)
			}
			s, err := textscan.NewScanner(rules)
			if err != nil {
				t.Fatal(err)
			}
			matched := map[string]bool{}
			for text, want := range tt.hits {
				got := s.Scan(text)
				if got.Action != want {
					t.Errorf("Scan(%q) = %+v, want %s", text, got, want)
				}
				for _, r := range got.Rules {
					matched[r] = true
				}
			}
			for _, r := range rules {
				if !matched[r.Source] {
					t.Errorf("rule %s (%s) is shown by no example", r.Source, r.Pattern)
				}
			}
		})
	}
}

// TestDomainRules: a domain rule catches its links however the host is
// spelt (punycode or Unicode, look-alike letters from another script,
// dots defanged as "[.]" or "(dot)"), and only its own registrable domain.
func TestDomainRules(t *testing.T) {
	rules, err := textscan.ParseRules("d.rules", strings.NewReader("PHISH\tblock\tdomain:paypal.com\nPHISH\tblock\tdomain:bücher.de\nPHISH\tflag\tdomain:xn--80ak6aa92e.com\nPHISH\tblock\tdomain:evil.blogspot.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want textscan.Action
	}{
		{"log in at https://paypal.com/x", textscan.Block},
		{"log in at https://p\u0430ypal.com/x", textscan.Block},   // Cyrillic а
		{"log in at https://xn--pypal-4ve.com/x", textscan.Block}, // the same, in punycode
		{"log in at ＰＡＹＰＡＬ．ｃｏｍ", textscan.Block},
		{"visit paypal[.]com now", textscan.Block},
		{"visit paypal(dot)com now", textscan.Block},
		{"visit paypal [ . ] com now", textscan.Block},
		{"visit paypal{DOT}com now", textscan.Block},
		{"https://xn--bcher-kva.de/buch", textscan.Block}, // bücher.de in punycode
		{"bücher.de", textscan.Block},
		{"https://аррӏе.com", textscan.Flag}, // the rule was written in punycode
		{"https://evil.blogspot.com/post", textscan.Block},
		{"https://fine.blogspot.com/post", textscan.Allow},
		{"mypaypal.com and paypal.com.evil.example", textscan.Allow},
		{"buecher.de", textscan.Allow},
		{"a sentence (with brackets). And dots.", textscan.Allow},
	} {
		if got := s.Scan(tt.text); got.Action != tt.want {
			t.Errorf("Scan(%q) = %+v, want %s", tt.text, got, tt.want)
		}
	}
}

// TestMarksThatSpell: diacritics that disguise a word are ignored in the
// scripts where they do (Latin, Greek, Cyrillic, Arabic, Hebrew), but
// marks that spell a different word are kept: a Devanagari anusvara, a
// Japanese voicing mark. A term is not found inside a letter.
func TestMarksThatSpell(t *testing.T) {
	rules, err := textscan.ParseRules("m.rules", strings.NewReader("X\tflag\tहै\nY\tflag\tかき\nZ\tflag\tשלום\nW\tflag\tλογος\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text string
		want string // category, or "" for none
	}{
		{"यह अच्छा है", "X"},
		{"वे अच्छे हैं", ""}, // हैं, with an anusvara, is another word
		{"かきを食べる", "Y"},
		{"がきを食べる", ""}, // が is not か
		{"שָׁלוֹם עֲלֵיכֶם", "Z"},
		{"λόγος", "W"},
	} {
		got := s.Scan(tt.text)
		if cat := strings.Join(got.Categories, ","); cat != tt.want {
			t.Errorf("Scan(%q) = %+v, want category %q", tt.text, got, tt.want)
		}
	}
	if textscan.Normalize("हैं") == textscan.Normalize("है") || textscan.Normalize("が") == textscan.Normalize("か") {
		t.Error("distinct words normalise alike")
	}
}

// TestScriptOption: a rule limited to a script applies only to text with a
// letter in that script; without the option it applies to any text.
func TestScriptOption(t *testing.T) {
	rules, err := textscan.ParseRules("s.rules", strings.NewReader("RU\tflag\tkrambul\tscript=Cyrl\nAR\tflag\tzabadi\tscript=Arabic|Hebr\nANY\tflag\tzorblax\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"продам krambul", "RU"},
		{"krambul is a made-up word", ""},
		{"zabadi مرحبا", "AR"},
		{"zabadi שלום", "AR"},
		{"zabadi hello", ""},
		{"zorblax", "ANY"},
		{"zorblax привет", "ANY"},
	} {
		if got := strings.Join(s.Scan(tt.text).Categories, ","); got != tt.want {
			t.Errorf("Scan(%q) categories %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestArabicClitics: with the clitics option an Arabic term is caught with
// "and", "with" or the article joined to it, still as a whole word; without
// it, only the bare word is.
func TestArabicClitics(t *testing.T) {
	rules, err := textscan.ParseRules("c.rules", strings.NewReader("T\tblock\tقنبلوز\tclitics\nU\tflag\tزرباكس\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := textscan.NewScanner(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ text, want string }{
		{"لدي قنبلوز", "T"},
		{"لدي والقنبلوز", "T"},
		{"بقنبلوز", "T"},
		{"وبالقنبلوز", "T"},
		{"والقنبلوزات", ""}, // a longer word
		{"زرباكس", "U"},
		{"والزرباكس", ""}, // no clitics option
	} {
		if got := strings.Join(s.Scan(tt.text).Categories, ","); got != tt.want {
			t.Errorf("Scan(%q) categories %q, want %q", tt.text, got, tt.want)
		}
	}
}
