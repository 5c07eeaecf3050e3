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

// Normalize returns the form of s that terms are matched against, the
// same for a term and for every disguise of it:
//
//   - NFKC, which turns fullwidth and other compatibility forms into the
//     ordinary letters ("ｂａｄ" is "bad");
//   - without invisible characters: zero-width spaces and joiners,
//     bidirectional controls, soft hyphens, the Arabic tatweel;
//   - case-folded;
//   - without diacritics, including Arabic vowel marks ("bäd" is "bad"),
//     but with the marks that spell words in other scripts (see
//     strippedMark), in canonical order;
//   - reduced to confusable skeletons (Unicode TS #39), so that letters of
//     one script that look like another's match it (Cyrillic "о" is "o").
//
// ASCII digits and "|" are left as they are: reading "0" as "o" or "1"
// as "l" is the rule's choice (its leet option), not every term's, or a
// term "lol" would match "101".
//
// ASCII text takes a fast path with the same result.
func Normalize(s string) string {
	if isASCII(s) {
		return skeletonForms.ascii(s)
	}
	return skeletonForms.runes(s)
}

// Light returns the form of s that regular expressions are matched
// against: NFKC, case-folded, without invisible characters and
// diacritics, like Normalize, but without confusable skeletons, so ASCII
// stays as written but for case ("m" is not "rn", "0" is not "o") and a
// pattern such as \d{10} or "free money" reads the text as written.
func Light(s string) string {
	if isASCII(s) {
		return lightForms.ascii(s)
	}
	return lightForms.runes(s)
}

// Normalisation maps each rune on its own: every step (compatibility
// decomposition, removing invisible characters and marks, case folding,
// skeletons) maps code points independently. The only thing NFD does
// across runes, reordering combining marks, is undone by removing them,
// or redone (rarely: two kept marks out of canonical order) by runes.
// So text normalises as the concatenation of its runes' forms, and those
// are computed once: a table for the scripts most text is written in
// (everything below U+3000), filled on first use, and a bounded cache for
// the rest. FuzzNormalize checks this against the step-by-step path.
const (
	tableRunes   = 0x3000
	maxRareForms = 1 << 16
)

// forms caches one normalisation's per-rune results.
type forms struct {
	normalize func(string) string // step by step
	asciiForm [128]string         // what normalize makes of each ASCII character
	asciiByte [128]byte           // the same when it is one byte, else 0
	table     []runeForm
	tableOnce sync.Once
	rare      sync.Map // rune → runeForm
	rareCount atomic.Int64
}

// runeForm is what a rune normalises to, with the canonical combining
// classes of the form's first and last runes: a form that ends in a mark
// followed by one that starts with a mark of a lower class must be
// reordered, as NFD reorders marks across runes.
type runeForm struct {
	s           string
	first, last uint8
}

func newForms(normalize func(string) string) *forms {
	f := &forms{normalize: normalize}
	for c := range f.asciiForm {
		f.asciiForm[c] = normalize(string(rune(c)))
		if len(f.asciiForm[c]) == 1 {
			f.asciiByte[c] = f.asciiForm[c][0]
		}
	}
	return f
}

var (
	skeletonForms = newForms(normalize)
	lightForms    = newForms(normalizeLight)
)

func (f *forms) newRuneForm(r rune) runeForm {
	form := runeForm{s: f.normalize(string(r))}
	if form.s != "" {
		_, n := utf8.DecodeLastRuneInString(form.s)
		form.first = norm.NFD.PropertiesString(form.s).CCC()
		form.last = norm.NFD.PropertiesString(form.s[len(form.s)-n:]).CCC()
	}
	return form
}

func (f *forms) runeForm(r rune) runeForm {
	if r < tableRunes {
		f.tableOnce.Do(func() {
			t := make([]runeForm, tableRunes)
			for c := range t {
				t[c] = f.newRuneForm(rune(c))
			}
			f.table = t
		})
		return f.table[r]
	}
	if form, ok := f.rare.Load(r); ok {
		return form.(runeForm)
	}
	form := f.newRuneForm(r)
	if f.rareCount.Load() < maxRareForms {
		if _, loaded := f.rare.LoadOrStore(r, form); !loaded {
			f.rareCount.Add(1)
		}
	}
	return form
}

func (f *forms) runes(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	var prev uint8 // class of the last rune written
	reorder := false
	for _, r := range s {
		form := f.runeForm(r)
		if form.s == "" {
			continue
		}
		if form.first != 0 && prev > form.first {
			reorder = true
		}
		prev = form.last
		b.WriteString(form.s)
	}
	if reorder {
		// Marks that spell words are kept (see strippedMark), and kept
		// in canonical order, as the step-by-step path has them.
		return norm.NFD.String(b.String())
	}
	return b.String()
}

// ascii normalises ASCII text with a table lookup per byte, yet exactly as
// the general path would, and without copying text that is already in
// its normal form.
func (f *forms) ascii(s string) string {
	for i := 0; i < len(s); i++ {
		if form := f.asciiForm[s[i]]; len(form) != 1 || form[0] != s[i] {
			var b strings.Builder
			b.Grow(len(s) + len(s)/4)
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				if c := f.asciiByte[s[i]]; c != 0 {
					b.WriteByte(c)
				} else {
					b.WriteString(f.asciiForm[s[i]])
				}
			}
			return b.String()
		}
	}
	return s
}

func normalize(s string) string {
	fold := folders.Get().(cases.Caser)
	defer folders.Put(fold)
	s = normalizeLightWith(fold, s)
	s = skeleton(s)
	// A skeleton may bring back capitals or marks: fold and strip again,
	// and keep the marks that stay in canonical order.
	return norm.NFD.String(strings.Map(dropInvisible, fold.String(s)))
}

func normalizeLight(s string) string {
	fold := folders.Get().(cases.Caser)
	defer folders.Put(fold)
	return normalizeLightWith(fold, s)
}

func normalizeLightWith(fold cases.Caser, s string) string {
	// NFKD does NFKC's work and separates the marks in one pass.
	s = strings.Map(dropInvisible, norm.NFKD.String(s))
	// Folding may decompose again (U+0130 folds to "i" and a dot above).
	return norm.NFD.String(strings.Map(dropInvisible, fold.String(s)))
}

// skeleton is confusables.Skeleton, except that ASCII digits and "|" stay
// themselves (see Normalize), and so do the combining marks that spell
// words (see strippedMark), which Skeleton would make generic accents.
func skeleton(s string) string {
	if strings.IndexFunc(s, keepsItself) < 0 {
		return confusables.Skeleton(s)
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexFunc(s, keepsItself)
		if i < 0 {
			b.WriteString(confusables.Skeleton(s))
			break
		}
		if i > 0 {
			b.WriteString(confusables.Skeleton(s[:i]))
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		b.WriteString(s[i : i+n])
		s = s[i+n:]
	}
	return b.String()
}

func keepsItself(r rune) bool {
	return r >= '0' && r <= '9' || r == '|' || r >= 0x300 && unicode.Is(unicode.Mn, r) && !strippedMark(r)
}

// folders holds case folders for reuse: a cases.Caser keeps state, so it
// serves one goroutine at a time.
var folders = sync.Pool{New: func() any { return cases.Fold() }}

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
	case unicode.Is(unicode.Variation_Selector, r), unicode.Is(unicode.Mn, r) && strippedMark(r): // and marks: accents, harakat
		return -1
	case unicode.IsControl(r) && r != '\n' && r != '\t':
		return ' '
	}
	return r
}

// strippedMark reports whether combining mark r is a diacritic that
// disguises a word rather than spells it: the generic accents (script
// Inherited, such as U+0301) and the marks of Latin, Greek, Cyrillic,
// Arabic and Hebrew, where "bäd" is "bad" dressed up and harakat and niqqud
// are optional vowels. Elsewhere a mark is part of the spelling and stays:
// Devanagari's virama and anusvara (है is not हैं), the Japanese voicing
// marks (が is not か), Thai vowels. The mark's own script decides, not
// its base's, so that every character still normalises on its own (see
// forms); an accent put on a Devanagari letter is dropped.
func strippedMark(r rune) bool {
	if r == '\u3099' || r == '\u309A' { // kana voicing marks, script Inherited
		return false
	}
	return unicode.In(r, unicode.Inherited, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew)
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
