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
	if s.plain, err = buildMatcher(s.rules, plain, func(r Rule) string { return r.match }); err != nil {
		return nil, err
	}
	if s.leet, err = buildMatcher(s.rules, leetT, func(r Rule) string { return Normalize(leet.Replace(Light(r.Pattern))) }); err != nil {
		return nil, err
	}
	if s.spacing, err = buildMatcher(s.rules, spacing, func(r Rule) string { return r.match }); err != nil {
		return nil, err
	}
	return s, nil
}

func buildMatcher(rules []Rule, idx []int, pattern func(Rule) string) (matcher, error) {
	if len(idx) == 0 {
		return matcher{}, nil
	}
	ids := map[string]int{}
	var m matcher
	var patterns []string
	for _, i := range idx {
		p := pattern(rules[i])
		id, ok := ids[p]
		if !ok {
			id = len(patterns)
			ids[p] = id
			patterns = append(patterns, p)
			m.rules = append(m.rules, nil)
		}
		m.rules[id] = append(m.rules[id], i)
	}
	ac, err := ahocorasick.NewBuilder().SetMatchKind(ahocorasick.LeftmostLongest).AddStrings(patterns).Build()
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
	return s.result(hits)
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
// domain rules.
func (s *Scanner) findDomains(text string, hits []int) []int {
	if !isASCII(text) {
		text = strings.ReplaceAll(norm.NFKC.String(text), "\u3002", ".")
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
		reg, err := publicsuffix.EffectiveTLDPlusOne(host)
		if err != nil {
			continue
		}
		for h := host; ; {
			hits = append(hits, s.domains[h]...)
			if h == reg {
				break
			}
			_, h, _ = strings.Cut(h, ".")
		}
	}
	return hits
}

func (s *Scanner) result(hits []int) Result {
	res := Result{Categories: []string{}, Rules: []string{}}
	if len(hits) == 0 {
		return res
	}
	slices.Sort(hits)
	hits = slices.Compact(hits)
	for _, i := range hits {
		r := &s.rules[i]
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
// domain name has.
func mayHaveDomain(text string) bool {
	return strings.IndexByte(text, '.') >= 0 ||
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
