package textscan

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/coregx/ahocorasick"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// Scanner matches text against a set of rules. Build one with NewScanner;
// it is immutable and safe for concurrent use.
type Scanner struct {
	rules []Rule
	// One automaton per way of reading the text, each over the terms that
	// ask for it; termRules maps an automaton's pattern to its rules.
	plain, leet, spacing matcher
	regexps              []int
	// anyRegexp is every regexp in one alternation: one pass over the text
	// says whether any can match, and only then are they tried one by one.
	anyRegexp *regexp.Regexp
	domains   map[string][]int
}

type matcher struct {
	ac    *ahocorasick.Automaton
	rules [][]int
}

// NewScanner compiles rules.
func NewScanner(rules []Rule) (*Scanner, error) {
	s := &Scanner{rules: slices.Clone(rules), domains: map[string][]int{}}
	var plain, leetT, spacing []int
	for i, r := range s.rules {
		s.rules[i].scripts = nil
		for _, name := range r.Scripts {
			canon, ok := scriptNamed(name)
			if !ok {
				return nil, fmt.Errorf("rule %s: unknown script %q", r.Source, name)
			}
			s.rules[i].scripts = append(s.rules[i].scripts, scriptTables(canon)...)
		}
		switch r.Kind {
		case Term:
			plain = append(plain, i)
			if r.Leet {
				leetT = append(leetT, i)
			}
			if r.Spacing {
				spacing = append(spacing, i)
			}
		case Regexp:
			if r.re == nil {
				re, err := compileRegexp(r.Pattern)
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.Source, err)
				}
				s.rules[i].re = re
			}
			s.regexps = append(s.regexps, i)
		case Domain:
			s.domains[r.match] = append(s.domains[r.match], i)
		}
	}
	if len(s.regexps) > 0 {
		alts := make([]string, len(s.regexps))
		for j, i := range s.regexps {
			alts[j] = "(?:" + s.rules[i].re.String() + ")"
		}
		re, err := regexp.Compile(strings.Join(alts, "|"))
		if err != nil {
			return nil, fmt.Errorf("combine regular expressions: %w", err)
		}
		s.anyRegexp = re
	}
	var err error
	if s.plain, err = buildMatcher(s.rules, plain, withClitics); err != nil {
		return nil, err
	}
	if s.leet, err = buildMatcher(s.rules, leetT, func(r Rule) []string { return []string{Normalize(leet.Replace(Light(r.Pattern)))} }); err != nil {
		return nil, err
	}
	if s.spacing, err = buildMatcher(s.rules, spacing, func(r Rule) []string { return []string{r.match} }); err != nil {
		return nil, err
	}
	return s, nil
}

// arabicProclitics are the prefixes Arabic writes joined to a word: "and",
// "so", "with", "like", "for" and the article, alone and combined.
var arabicProclitics = []string{"و", "ف", "ب", "ك", "ل", "ال", "وال", "فال", "بال", "كال", "لل", "ولل", "فلل",
	"وب", "فب", "وك", "فك", "ول", "فل", "وبال", "فبال", "وكال", "فكال"}

// withClitics is what a term is matched as: itself and, with its clitics
// option, with each Arabic proclitic joined to it.
func withClitics(r Rule) []string {
	if !r.Clitics {
		return []string{r.match}
	}
	out := []string{r.match}
	for _, p := range arabicProclitics {
		out = append(out, Normalize(p+r.Pattern))
	}
	return out
}

func buildMatcher(rules []Rule, idx []int, patterns func(Rule) []string) (matcher, error) {
	if len(idx) == 0 {
		return matcher{}, nil
	}
	ids := map[string]int{}
	var m matcher
	var all []string
	for _, i := range idx {
		for _, p := range patterns(rules[i]) {
			id, ok := ids[p]
			if !ok {
				id = len(all)
				ids[p] = id
				all = append(all, p)
				m.rules = append(m.rules, nil)
			}
			if !slices.Contains(m.rules[id], i) {
				m.rules[id] = append(m.rules[id], i)
			}
		}
	}
	ac, err := ahocorasick.NewBuilder().SetMatchKind(ahocorasick.LeftmostLongest).AddStrings(all).Build()
	if err != nil {
		return matcher{}, fmt.Errorf("build term matcher: %w", err)
	}
	m.ac = ac
	return m, nil
}

// Result is what a scan found: the strictest action of the rules that
// matched (Allow when none did), their categories, and the rules.
type Result struct {
	Action     Action   `json:"action"`
	Categories []string `json:"categories"`
	Rules      []string `json:"rules"` // each rule's Source
	Severity   int      `json:"severity,omitempty"`
}

// Scan matches text against every rule.
func (s *Scanner) Scan(text string) Result {
	return s.ScanNormalized(text, Normalize(text))
}

// ScanNormalized is Scan for a caller that has normalised text already,
// for another purpose, and passes normalized, which must be
// Normalize(text): it saves doing it twice.
func (s *Scanner) ScanNormalized(text, normalized string) Result {
	var hits []int
	n := normalized
	if strings.ContainsAny(n, "\n\t") || strings.Contains(n, "  ") {
		n = strings.Join(strings.Fields(n), " ") // terms of several words match across any spacing
	}
	hits = s.plain.find(n, hits)
	// The light form, computed once if a reading needs it.
	var light string
	lightDone := false
	lightForm := func() string {
		if !lightDone {
			light, lightDone = Light(text), true
		}
		return light
	}
	// Digits for letters are undone on the light form (where a fullwidth
	// "１" is a "1"), before skeletons, which would read an "m" as "rn";
	// spaced-out letters likewise.
	if s.leet.ac != nil && mayBeLeet(text) {
		hits = s.leet.find(Normalize(leet.Replace(lightForm())), hits)
	}
	if s.spacing.ac != nil && hasLetterRun(text) {
		hits = s.spacing.find(Normalize(despace(text)), hits)
	}
	// Regexps read the text without skeletons, in which "m" would be
	// "rn" and a digit a letter: a pattern means the text as written.
	if s.anyRegexp != nil {
		if l := lightForm(); s.anyRegexp.MatchString(l) {
			for _, i := range s.regexps {
				if s.rules[i].re.MatchString(l) {
					hits = append(hits, i)
				}
			}
		}
	}
	if len(s.domains) > 0 && mayHaveDomain(text) {
		hits = s.findDomains(text, hits)
	}
	return s.result(text, hits)
}

func (m matcher) find(text string, hits []int) []int {
	if m.ac == nil {
		return hits
	}
	// The automaton only reads the bytes: no need to copy them.
	for _, match := range m.ac.FindAllOverlapping(unsafe.Slice(unsafe.StringData(text), len(text))) {
		if wholeWords(text, match.Start, match.End) {
			hits = append(hits, m.rules[match.PatternID]...)
		}
	}
	return hits
}

// wholeWords reports whether text[start:end] is bounded by non-word
// characters, in scripts that separate words. In scripts written without
// spaces (Chinese, Japanese, Thai...) any occurrence counts.
func wholeWords(text string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(text[start:])
	last, _ := utf8.DecodeLastRuneInString(text[:end])
	// In every script, a match neither starts nor ends inside a letter:
	// "か" is not in "が" (か and a voicing mark), nor "है" in "हैं".
	if unicode.Is(unicode.M, first) {
		return false
	}
	if end < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); r >= 0x300 && unicode.Is(unicode.M, r) {
			return false
		}
	}
	if start > 0 && !unspaced(first) {
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); isWordRune(r) {
			return false
		}
	}
	if end < len(text) && !unspaced(last) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); isWordRune(r) {
			return false
		}
	}
	return true
}

func unspaced(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// findDomains finds links and bare domain names in text and matches their
// hosts, and every parent down to the registrable domain, against the
// domain rules. A host is compared by its key (see hostKey), so that
// punycode and Unicode spellings, and look-alike letters, are the same
// host; defanged dots ("[.]", "(dot)") are read as dots.
func (s *Scanner) findDomains(text string, hits []int) []int {
	if !isASCII(text) {
		text = strings.ReplaceAll(norm.NFKC.String(text), "\u3002", ".")
	}
	if strings.ContainsAny(text, "[({") {
		text = undefang(text)
	}
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || r == '<' || r == '>' || r == '"' || r == '\'' || r == '(' || r == ')'
	}) {
		if strings.IndexByte(tok, '.') < 0 {
			continue
		}
		host := strings.ToLower(tok)
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			host = host[:i]
		}
		host = strings.Trim(host, ".,;!?")
		if !strings.Contains(host, ".") {
			continue
		}
		host = asciiHost(host)
		reg, err := publicsuffix.EffectiveTLDPlusOne(host)
		if err != nil {
			continue
		}
		for h := host; ; {
			hits = append(hits, s.domains[hostKey(h)]...)
			if h == reg {
				break
			}
			_, h, _ = strings.Cut(h, ".")
		}
	}
	return hits
}

// defanged is how people write a dot so that a link is not a link:
// "[.]", "(dot)", "{.}", with or without spaces around.
var defanged = regexp.MustCompile(`(?i)\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*`)

// undefang reads defanged dots as dots.
func undefang(text string) string { return defanged.ReplaceAllLiteralString(text, ".") }

// asciiHost returns the ASCII (punycode) form of host name h, or h if it
// has none (IDNA refuses it).
func asciiHost(h string) string {
	if isASCII(h) {
		return h
	}
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		return a
	}
	if a, err := idna.Punycode.ToASCII(h); err == nil {
		return strings.ToLower(a)
	}
	return h
}

// hostKey is what a host name is compared by: its Unicode form,
// normalised as text is (see Normalize), so that "xn--bcher-kva.de" and
// "bücher.de" are the same host, and so are "pаypal.com" with a Cyrillic
// "а" and "paypal.com".
func hostKey(ascii string) string {
	u := ascii
	if strings.Contains(ascii, "xn--") {
		if v, err := idna.Punycode.ToUnicode(ascii); err == nil {
			u = v
		}
	}
	return Normalize(u)
}

func (s *Scanner) result(text string, hits []int) Result {
	res := Result{Categories: []string{}, Rules: []string{}}
	if len(hits) == 0 {
		return res
	}
	slices.Sort(hits)
	hits = slices.Compact(hits)
	for _, i := range hits {
		r := &s.rules[i]
		if len(r.scripts) > 0 && !hasLetterIn(text, r.scripts) {
			continue
		}
		if r.Action > res.Action {
			res.Action = r.Action
		}
		res.Severity = max(res.Severity, r.Severity)
		if !slices.Contains(res.Categories, r.Category) {
			res.Categories = append(res.Categories, r.Category)
		}
		res.Rules = append(res.Rules, r.Source)
	}
	slices.Sort(res.Categories)
	return res
}

// hasLetterIn reports whether text has a letter in one of the scripts.
func hasLetterIn(text string, scripts []*unicode.RangeTable) bool {
	return strings.ContainsFunc(text, func(r rune) bool { return unicode.IsLetter(r) && unicode.In(r, scripts...) })
}

// leetChars trigger the leet reading, and so do "€" and the fullwidth
// forms of them all (see mayBeLeet). "!" and "|" are mapped too but do
// not trigger it alone: they are ordinary punctuation far more often.
// The set is ASCII, which strings.ContainsAny searches fastest.
const leetChars = "013457890@$"

// mayBeLeet reports whether text has a character the leet reading maps,
// as written or in fullwidth form (which Light turns into it).
func mayBeLeet(text string) bool {
	return strings.ContainsAny(text, leetChars) ||
		!isASCII(text) && (strings.Contains(text, "€") ||
			strings.ContainsFunc(text, func(r rune) bool { return r >= '\uFF04' && r <= '\uFF20' }))
}

// mayHaveDomain reports whether text has a dot, ASCII or not, which every
// domain name has, or a defanged one ("(dot)").
func mayHaveDomain(text string) bool {
	return strings.IndexByte(text, '.') >= 0 || strings.ContainsAny(text, "[({") && defanged.MatchString(text) ||
		!isASCII(text) && (strings.Contains(text, "\uff0e") || strings.Contains(text, "\u3002"))
}

// hasLetterRun reports whether s has two single-letter words in a row
// ("b a"), which is when despace changes anything.
func hasLetterRun(s string) bool {
	prevSingle := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i + n
		single := true
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			single = false
			j += n
		}
		if single && prevSingle {
			return true
		}
		prevSingle = single
		i = j
	}
	return false
}
