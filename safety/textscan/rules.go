package textscan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"
)

// Action is what a rule asks for when it matches, from mildest to
// strictest: the strictest of all matching rules wins.
type Action int

// The actions.
const (
	Allow Action = iota
	Flag         // deliver, and open a case for review
	Hold         // keep invisible until a moderator decides
	Block        // refuse, telling the sender why
)

var actionNames = [...]string{"allow", "flag", "hold", "block"}

func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "action(" + strconv.Itoa(int(a)) + ")"
	}
	return actionNames[a]
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// ParseAction parses an action's name.
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if strings.EqualFold(s, n) {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want allow, flag, hold or block)", s)
}

// Kind is how a rule's pattern matches.
type Kind int

// The kinds of pattern.
const (
	Term   Kind = iota // whole words, after normalisation
	Regexp             // a regular expression over the text's Light form
	Domain             // a link to this registrable domain or a subdomain of it
)

// Rule is one line of a rule file.
type Rule struct {
	Category string
	Action   Action
	Severity int // 1 (low) to 5 (high); 3 unless given
	Kind     Kind
	// Pattern is as written; for a Term, match is its normalised form.
	Pattern string
	// Leet also matches with digits and symbols for letters ("b4d");
	// Spacing, with the letters spaced out ("b a d"). Terms only.
	Leet, Spacing bool
	// Clitics also matches an Arabic term with a proclitic joined to it
	// (و, ب, ال and their combinations: "والكلمة" for "كلمة"). Arabic
	// terms only.
	Clitics bool
	// Scripts, if set, limit the rule to text with a letter in one of
	// these Unicode scripts (the option script=Cyrl|Latn), for a term that
	// is harmless in the languages written in other scripts.
	Scripts []string
	// Source names where the rule came from, as FILE:LINE.
	Source string

	match   string
	re      *regexp.Regexp
	scripts []*unicode.RangeTable // of Scripts
}

// Limits on rule files, so that a broken or hostile file fails clearly.
const (
	maxLine    = 4096
	maxPattern = 1024
)

// LineError is a rule file's line that could not be read.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ParseRules reads a rule file: one rule per line,
//
//	CATEGORY<TAB>ACTION<TAB>PATTERN[<TAB>OPTIONS]
//
// with '#' comments and blank lines ignored. PATTERN is a term matched as
// whole words after normalisation; "re:" makes it a regular expression
// over the text's Light form (case-folded, so it matches regardless of
// case; digits and every other ASCII character as written), and
// "domain:" a domain whose links (and its subdomains') match, however the
// host is spelt (punycode or Unicode, look-alike letters, "[.]" for a dot);
// a public suffix (co.uk) is refused. OPTIONS are comma-separated: "leet",
// "spacing", "clitics" (Arabic proclitics joined to the term),
// "script=CODE[|CODE...]" (only text with a letter in one of these
// scripts), "severity=N". name prefixes each rule's Source.
//
// It reads the whole file or nothing: any bad line fails it, and the error
// (an errors.Join of *LineError, at most 20) names every such line.
func ParseRules(name string, r io.Reader) ([]Rule, error) {
	var rules []Rule
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine+1)
	line := 0
	bad := func(err error) {
		if len(errs) < 20 {
			errs = append(errs, &LineError{line, err})
		}
	}
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if len(text) > maxLine {
			bad(fmt.Errorf("longer than %d bytes", maxLine))
			continue
		}
		if !utf8.ValidString(text) {
			bad(errors.New("not valid UTF-8"))
			continue
		}
		if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		rule, err := parseRule(text)
		if err != nil {
			bad(err)
			continue
		}
		rule.Source = name + ":" + strconv.Itoa(line)
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			bad(fmt.Errorf("longer than %d bytes", maxLine))
		} else {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

func parseRule(text string) (Rule, error) {
	f := strings.Split(text, "\t")
	if len(f) < 3 || len(f) > 4 {
		return Rule{}, fmt.Errorf("want CATEGORY<TAB>ACTION<TAB>PATTERN[<TAB>OPTIONS], got %d field(s)", len(f))
	}
	r := Rule{Category: strings.TrimSpace(f[0]), Severity: 3}
	if r.Category == "" || strings.ContainsAny(r.Category, " \"") {
		return Rule{}, fmt.Errorf("category %q: want a name without spaces, such as SPAM", f[0])
	}
	var err error
	if r.Action, err = ParseAction(strings.TrimSpace(f[1])); err != nil {
		return Rule{}, err
	}
	r.Pattern = strings.TrimSpace(f[2])
	if len(f) == 4 {
		for _, opt := range strings.Split(f[3], ",") {
			switch opt = strings.TrimSpace(opt); {
			case opt == "":
			case opt == "leet":
				r.Leet = true
			case opt == "spacing":
				r.Spacing = true
			case opt == "clitics":
				r.Clitics = true
			case strings.HasPrefix(opt, "script="):
				for _, name := range strings.Split(strings.TrimPrefix(opt, "script="), "|") {
					script, ok := scriptNamed(name)
					if !ok {
						return Rule{}, fmt.Errorf("option %q: unknown script %q (want an ISO 15924 code such as Latn, Cyrl, Arab, or a Unicode script name)", opt, name)
					}
					r.Scripts = append(r.Scripts, script)
				}
			case strings.HasPrefix(opt, "lang="):
				// Telling languages apart in a short message is guesswork,
				// and a guess must not decide what is blocked.
				return Rule{}, fmt.Errorf("option %q: rules cannot be limited to a language, which short messages do not reliably show; limit it to a script instead (script=Cyrl)", opt)
			case strings.HasPrefix(opt, "severity="):
				n, err := strconv.Atoi(strings.TrimPrefix(opt, "severity="))
				if err != nil || n < 1 || n > 5 {
					return Rule{}, fmt.Errorf("option %q: severity is 1 to 5", opt)
				}
				r.Severity = n
			default:
				return Rule{}, fmt.Errorf("unknown option %q (want leet, spacing, clitics, script=CODE or severity=N)", opt)
			}
		}
	}
	switch {
	case r.Pattern == "":
		return Rule{}, errors.New("empty pattern")
	case len(r.Pattern) > maxPattern:
		return Rule{}, fmt.Errorf("pattern longer than %d bytes", maxPattern)
	case strings.HasPrefix(r.Pattern, "re:"):
		r.Kind = Regexp
		if r.re, err = compileRegexp(r.Pattern); err != nil {
			return Rule{}, fmt.Errorf("regular expression: %w", err)
		}
	case strings.HasPrefix(r.Pattern, "domain:"):
		r.Kind = Domain
		d := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(r.Pattern, "domain:"), "."))
		if !validHost(d) {
			return Rule{}, fmt.Errorf("domain %q is not a host name", d)
		}
		ascii := asciiHost(d)
		if suffix, _ := publicsuffix.PublicSuffix(ascii); suffix == ascii {
			// Links are matched on the registrable domain and below it: a
			// rule on a suffix that anyone can register under (co.uk,
			// blogspot.com) would never match, and blocking all of it is
			// not what anyone means.
			return Rule{}, fmt.Errorf("domain %q is a public suffix, under which anyone can register names; name the registrable domain (such as example.%s)", d, d)
		}
		r.match = hostKey(ascii)
	default:
		r.Kind = Term
		r.match = strings.Join(strings.Fields(Normalize(r.Pattern)), " ")
		if r.match == "" {
			return Rule{}, fmt.Errorf("pattern %q is empty once normalised", r.Pattern)
		}
	}
	if (r.Leet || r.Spacing || r.Clitics) && r.Kind != Term {
		return Rule{}, errors.New("leet, spacing and clitics apply to terms only")
	}
	if r.Clitics && !strings.ContainsFunc(r.Pattern, func(c rune) bool { return unicode.Is(unicode.Arabic, c) && unicode.IsLetter(c) }) {
		return Rule{}, errors.New("clitics apply to terms in Arabic script")
	}
	return r, nil
}

// compileRegexp compiles a "re:" pattern. The text it reads is
// case-folded, so a pattern with capitals in it is made to match
// regardless of case (they would otherwise never match); one without is
// left as it is, as matching ignoring case costs time on every message.
func compileRegexp(pattern string) (*regexp.Regexp, error) {
	pattern = strings.TrimPrefix(pattern, "re:")
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if hasCapital(re) {
		pattern = "(?i)" + pattern
	}
	return regexp.Compile(pattern)
}

// hasCapital reports whether re matches a capital letter that its
// lower-case form does not: a literal or a class that names one.
func hasCapital(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if unicode.IsUpper(r) || unicode.IsTitle(r) {
				return true
			}
		}
	case syntax.OpCharClass:
		// A class of capitals only ([A-Z]); one that also has the lower
		// case ([A-Za-z], \w) matches folded text as it is.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1] && r-re.Rune[i] < 512; r++ {
				if (unicode.IsUpper(r) || unicode.IsTitle(r)) && !inClass(re.Rune, unicode.ToLower(r)) {
					return true
				}
			}
		}
	}
	for _, sub := range re.Sub {
		if hasCapital(sub) {
			return true
		}
	}
	return false
}

func inClass(ranges []rune, r rune) bool {
	for i := 0; i+1 < len(ranges); i += 2 {
		if r >= ranges[i] && r <= ranges[i+1] {
			return true
		}
	}
	return false
}

// validHost reports whether d looks like a host name: dot-separated
// labels of letters (in any script), digits and hyphens. Whether it is a
// public suffix is for the caller.
func validHost(d string) bool {
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf) {
				return false
			}
		}
	}
	return true
}

// scriptCodes are the ISO 15924 codes of the scripts most rules are
// written for, with the Unicode scripts each stands for.
var scriptCodes = map[string][]string{
	"latn": {"Latin"}, "cyrl": {"Cyrillic"}, "arab": {"Arabic"}, "hebr": {"Hebrew"}, "grek": {"Greek"},
	"deva": {"Devanagari"}, "beng": {"Bengali"}, "taml": {"Tamil"}, "telu": {"Telugu"}, "thai": {"Thai"},
	"hang": {"Hangul"}, "hani": {"Han"}, "hira": {"Hiragana"}, "kana": {"Katakana"},
	"jpan": {"Han", "Hiragana", "Katakana"}, "kore": {"Hangul", "Han"}, "geor": {"Georgian"},
	"armn": {"Armenian"}, "ethi": {"Ethiopic"}, "khmr": {"Khmer"}, "mymr": {"Myanmar"},
}

// scriptNamed returns the canonical name of a script option: an ISO 15924
// code from scriptCodes, or a Unicode script name, in any case.
func scriptNamed(name string) (string, bool) {
	if _, ok := scriptCodes[strings.ToLower(name)]; ok {
		return strings.ToLower(name), true
	}
	for n := range unicode.Scripts {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// scriptTables returns the Unicode tables of a name scriptNamed returned.
func scriptTables(name string) []*unicode.RangeTable {
	if names, ok := scriptCodes[name]; ok {
		var out []*unicode.RangeTable
		for _, n := range names {
			out = append(out, unicode.Scripts[n])
		}
		return out
	}
	return []*unicode.RangeTable{unicode.Scripts[name]}
}
