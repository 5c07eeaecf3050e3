// Package textscan matches text (messages, titles, descriptions,
// usernames) against operators' lists of terms, regular expressions and
// domains, after undoing the tricks people use to slip past such lists:
// look-alike letters from other scripts, fullwidth forms, invisible
// characters, added diacritics, digits for letters and spaced-out words.
package textscan

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form of s that rules are matched against, the same
// for a term and for every disguise of it:
//
//   - NFKC, which turns fullwidth and other compatibility forms into the
//     ordinary letters ("ｂａｄ" is "bad");
//   - without invisible characters: zero-width spaces and joiners,
//     bidirectional controls, soft hyphens, the Arabic tatweel;
//   - case-folded;
//   - without diacritics, including Arabic vowel marks ("bäd" is "bad");
//   - reduced to confusable skeletons (Unicode TS #39), so that letters of
//     one script that look like another's match it (Cyrillic "о" is "o").
//
// ASCII text takes a fast path with the same result.
func Normalize(s string) string {
	if isASCII(s) {
		return normalizeASCII(s)
	}
	return normalizeRunes(s)
}

// Normalisation maps each rune on its own: every step (compatibility
// decomposition, removing invisible characters and marks, case folding,
// skeletons) maps code points independently, and the only thing NFD does
// across runes, reordering combining marks, is undone by removing them.
// So text normalises as the concatenation of its runes' forms, and those
// are computed once: a table for the scripts most text is written in
// (everything below U+3000), filled on first use, and a bounded cache for
// the rest. FuzzNormalize checks this against the step-by-step path.
const (
	tableRunes   = 0x3000
	maxRareForms = 1 << 16
)

var (
	formTable     []string
	formTableOnce sync.Once
	rareForms     sync.Map // rune → string
	rareCount     atomic.Int64
)

func runeForm(r rune) string {
	if r < tableRunes {
		formTableOnce.Do(func() {
			t := make([]string, tableRunes)
			for c := range t {
				t[c] = normalize(string(rune(c)))
			}
			formTable = t
		})
		return formTable[r]
	}
	if f, ok := rareForms.Load(r); ok {
		return f.(string)
	}
	f := normalize(string(r))
	if rareCount.Load() < maxRareForms {
		if _, loaded := rareForms.LoadOrStore(r, f); !loaded {
			rareCount.Add(1)
		}
	}
	return f
}

func normalizeRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for _, r := range s {
		b.WriteString(runeForm(r))
	}
	return b.String()
}

func normalize(s string) string {
	fold := folders.Get().(cases.Caser)
	defer folders.Put(fold)
	// NFKD does NFKC's work and separates the marks in one pass.
	s = strings.Map(dropInvisible, norm.NFKD.String(s))
	s = fold.String(s)
	s = confusables.Skeleton(s)
	// A skeleton may bring back capitals or marks: fold and strip again.
	return strings.Map(dropInvisible, fold.String(s))
}

// folders holds case folders for reuse: a cases.Caser keeps state, so it
// serves one goroutine at a time.
var folders = sync.Pool{New: func() any { return cases.Fold() }}

// asciiForm is what normalize makes of each printable ASCII character, so
// that ASCII text takes a table lookup per byte yet normalises exactly as
// the general path would: skeletons map some ASCII too ("m" to "rn",
// "0" to "o"), and a term must read the same however it arrives.
var asciiForm = func() (t [128]string) {
	for c := range t {
		t[c] = normalize(string(rune(c)))
	}
	return t
}()

func normalizeASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if f := asciiForm[s[i]]; len(f) != 1 || f[0] != s[i] {
			var b strings.Builder
			b.Grow(len(s) + len(s)/4)
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				b.WriteString(asciiForm[s[i]])
			}
			return b.String()
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// dropInvisible removes characters that change nothing a reader sees.
func dropInvisible(r rune) rune {
	switch {
	case r == '\u00AD', r == '\u0640', r == '\u180E', r == '\u034F': // soft hyphen, tatweel, Mongolian vowel separator, grapheme joiner
		return -1
	case r >= '\u200B' && r <= '\u200F', r >= '\u202A' && r <= '\u202E', r >= '\u2060' && r <= '\u206F', r == '\uFEFF':
		return -1
	case unicode.Is(unicode.Variation_Selector, r), unicode.Is(unicode.Mn, r): // and marks: accents, harakat
		return -1
	case unicode.IsControl(r) && r != '\n' && r != '\t':
		return ' '
	}
	return r
}

// leet maps the digits and symbols written for letters to those letters.
var leet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b", "9", "g",
	"@", "a", "$", "s", "!", "i", "|", "l", "€", "e")

// despace joins runs of single letters separated by spaces or punctuation,
// so that "b a d", "b.a.d" and "b-a-d" read "bad"; longer words are left
// alone, so "a bad idea" stays as it is.
func despace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var run []rune // single letters of the current run
	flush := func() {
		for _, r := range run {
			b.WriteRune(r)
		}
		run = run[:0]
	}
	word := func(i int) (string, int) { // the word at i and its end
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		return s[i:j], j
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			if len(run) == 0 {
				b.WriteRune(r)
			}
			i += n
			continue
		}
		w, end := word(i)
		if utf8.RuneCountInString(w) == 1 {
			run = append(run, r)
		} else {
			if len(run) > 0 {
				flush()
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		i = end
		if len(run) > 0 && i < len(s) {
			// Only separators between single letters are dropped.
			continue
		}
	}
	flush()
	return b.String()
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
