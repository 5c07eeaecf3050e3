package account

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"kurir"
)

// Username length limits, in characters (runes) of the normalised name.
const (
	minUsernameLen = 4
	maxUsernameLen = 32
	// maxUsernameInput bounds the raw input before normalisation, so that a
	// huge request body is refused without normalising it. Decomposed input
	// (Hangul jamo, stacked accents) may be three times longer than the name
	// it composes to, so this is generous.
	maxUsernameInput = 512
	// maxMarkRun bounds combining marks after one letter: enough for an Indic
	// consonant with nukta, vowel sign and anusvara, too few for "Zalgo" text.
	maxMarkRun = 3
)

// Username is a validated username in its three forms.
type Username struct {
	// Display is the name as the user typed it, case kept, after NFKC
	// normalisation (so fullwidth "ｐａｖｅｌ" is stored as "pavel" and
	// decomposed accents are composed). Show this one.
	Display string
	// Key is the lookup key: NFKC plus Unicode case folding. It is unique in
	// the database, and two inputs that differ only in case or in Unicode
	// compatibility forms have the same Key.
	Key string
	// Skeleton is the UTS #39 confusable skeleton of Key (see UsernameSkeleton).
	// It is unique in the database too, so "pavel", "раvеl" written in
	// Cyrillic and "pave1" cannot coexist.
	Skeleton string
}

// ParseUsername validates s and returns its three forms, or a kurir.EInvalid
// error on field "username" whose Message says what is wrong.
//
// A username is valid UTF-8 of 4 to 32 characters after NFKC normalisation;
// it holds letters, digits and underscores only, starts with a letter, has
// no trailing underscore and no two underscores in a row. All its letters
// come from one script ("username_mixed_script"), and it does not look like a
// reserved name ("username_reserved"). The Reason of each error is one of:
// username_invalid_character, username_too_short, username_too_long,
// username_must_start_with_letter, username_misplaced_underscore,
// username_mixed_script, username_reserved.
//
// Combining marks (Unicode Mn and Mc) are accepted after a letter when they
// belong to the letter's script, because Devanagari, Bengali, Thai and most
// other scripts of South and Southeast Asia cannot write a word without vowel
// signs. Generic marks such as U+0301 COMBINING ACUTE ACCENT are refused:
// NFKC has already composed every accented letter that exists precomposed.
func ParseUsername(s string) (Username, error) {
	return parseUsername(s, false)
}

// ParseSystemUsername is ParseUsername for the accounts and channels kurir
// itself runs (such as @transparency): it allows the reserved words, which
// are kept for them. Never call it with a name from a request.
func ParseSystemUsername(s string) (Username, error) {
	return parseUsername(s, true)
}

func parseUsername(s string, system bool) (Username, error) {
	if len(s) > maxUsernameInput {
		return Username{}, errUsernameLength("username_too_long")
	}
	if !utf8.ValidString(s) {
		return Username{}, kurir.Invalid("username", "username_invalid_character",
			"Usernames must be valid UTF-8 text.")
	}
	display := norm.NFKC.String(s)
	if err := checkUsername(display); err != nil {
		return Username{}, err
	}
	key := nfkcCasefold(display)
	skel := skeleton(key)
	if word, exact, ok := reservedMatch(skel); ok && !system {
		if exact {
			return Username{}, kurir.Invalid("username", "username_reserved",
				"This username is reserved: it looks like %q.", word)
		}
		return Username{}, kurir.Invalid("username", "username_reserved",
			"This username is reserved: usernames with %q or a look-alike of it at the start, at the end or next to an underscore are kept for kurir's own accounts.", word)
	}
	return Username{Display: display, Key: key, Skeleton: skel}, nil
}

// UsernameKey returns the lookup key of s, as ParseUsername's Key, without
// validating s. Use it to find an account by the name a person typed at
// login: an account whose name later rules would refuse can still log in.
func UsernameKey(s string) string {
	return nfkcCasefold(s)
}

// UsernameSkeleton returns the confusable skeleton of s, the form that must
// be unique among usernames (and among channel @names). It accepts any
// string; for a valid username it equals ParseUsername's Skeleton.
//
// Two names have the same skeleton when they look alike in small letters or
// in capitals: "pavel", "PAVEL", "pave1" and "paveI" all become "pavel",
// and Cyrillic "расе" and "ВОТ" collide with Latin "pace" and "BOT". The
// skeleton is for comparison only: it mixes scripts and is not for display.
func UsernameSkeleton(s string) string {
	return skeleton(nfkcCasefold(s))
}

// nfkcCasefold returns s normalised to NFKC and case-folded, the form in
// which usernames and passwords are compared. Folding may undo normalisation
// ("ß" folds to "ss", "İ" to "i" plus a combining dot), so the result is
// normalised again.
func nfkcCasefold(s string) string {
	return norm.NFKC.String(foldCase(cases.Fold(), norm.NFKC.String(s)))
}

// foldCase applies Unicode full case folding with fold, a Caser from
// cases.Fold, correcting its one known error: it maps Cherokee capitals to
// small letters and small letters to capitals, so folding twice undoes it
// (golang.org/issue/46101). Unicode folds Cherokee to the capitals, which
// were encoded first; this maps the small letters U+AB70–U+ABBF and
// U+13F8–U+13FD back to them.
func foldCase(fold cases.Caser, s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xAB70 && r <= 0xABBF:
			return r - 0xAB70 + 0x13A0
		case r >= 0x13F8 && r <= 0x13FD:
			return r - 8
		}
		return r
	}, fold.String(s))
}

// skeleton maps a Key to its confusable skeleton.
//
// The UTS #39 data maps each character to a prototype of the same shape
// without regard to case, and Key has lost the case the user will display.
// A skeleton of the folded key alone misses look-alikes that exist only in
// capitals: lowercase Cyrillic "вот" maps to small-capital "ʙoᴛ", not "bot",
// yet "ВОТ" and "BOT" are indistinguishable; and "ivan" keeps its "i", yet
// "Ivan" reads as "lvan". So the key is first upper-cased and mapped (the
// capitals' look-alikes: В→B, І→l, Κ→K), folded, and then mapped again in
// small letters (the lowercase look-alikes: m→rn, 1→l, р→p), and folded once
// more because prototypes may be capitals (0→O).
//
// One key cannot hold both views exactly; the composition loses a few
// lowercase-only look-alikes whose capitals map elsewhere (Greek "ν" collides
// with "n" rather than "v", Cyrillic "г" with "y" rather than "r").
//
// Underscores stay significant: "pa_vel" and "pavel" are different names, as
// the underscore is plainly visible.
func skeleton(key string) string {
	fold := cases.Fold() // a Caser is stateful: one per call
	s := foldCase(fold, confusables.Skeleton(strings.ToUpper(key)))
	return foldCase(fold, confusables.Skeleton(s))
}

// checkUsername applies the character, length and script rules to an NFKC
// string.
func checkUsername(s string) error {
	n := utf8.RuneCountInString(s)
	if n < minUsernameLen {
		return errUsernameLength("username_too_short")
	}
	if n > maxUsernameLen {
		return errUsernameLength("username_too_long")
	}
	if first, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(first) {
		return kurir.Invalid("username", "username_must_start_with_letter", "Usernames must start with a letter.")
	}
	if strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return kurir.Invalid("username", "username_misplaced_underscore",
			"Usernames cannot end with an underscore or have two underscores in a row.")
	}
	var (
		scripts []string // distinct scripts of letters, marks and non-ASCII digits
		prev    rune     // the previous rune
		marks   int      // combining marks since the last letter
	)
	for _, r := range s {
		script := ""
		switch {
		case r == '_' || r >= '0' && r <= '9':
			// Script-neutral.
		case unicode.IsDigit(r):
			// Other digits belong to a script: Devanagari "३" in a Latin name
			// is a mixed-script name, and a look-alike of "3" besides.
			script = scriptOf(r)
		case unicode.IsLetter(r):
			// Letters of the Common script, such as the modifier-letter
			// apostrophes and the Arabic tatweel, belong to no writing system
			// and look like punctuation or nothing at all.
			if script = scriptOf(r); script == "" {
				return errUsernameChar(r)
			}
			marks = 0
		case unicode.In(r, unicode.Mn, unicode.Mc):
			marks++
			script = scriptOf(r)
			if script == "" {
				return errUsernameChar(r)
			}
			if marks == 1 && !unicode.IsLetter(prev) {
				return kurir.Invalid("username", "username_invalid_character",
					"In usernames, combining marks such as vowel signs must follow a letter.")
			}
			if r == prev || marks > maxMarkRun {
				return kurir.Invalid("username", "username_invalid_character",
					"Usernames cannot stack combining marks on one letter.")
			}
		default:
			return errUsernameChar(r)
		}
		if script != "" && !slices.Contains(scripts, script) {
			scripts = append(scripts, script)
		}
		prev = r
	}
	if !singleScript(scripts) {
		return kurir.Invalid("username", "username_mixed_script",
			"Usernames must use letters from one alphabet, but this one mixes %s.", joinAnd(scripts))
	}
	return nil
}

// commonScripts are tried first by scriptOf; the rest of unicode.Scripts is
// searched only for rarer letters.
var commonScripts = []string{"Latin", "Cyrillic", "Greek", "Arabic", "Han", "Hiragana", "Katakana", "Hangul", "Hebrew", "Devanagari", "Thai"}

// scriptOf returns the Unicode script of r, or "" for the Common and
// Inherited pseudo-scripts, which are not writing systems. The katakana
// prolonged sound mark "ー" is Common in Unicode but used only in Japanese,
// so it counts as Katakana.
func scriptOf(r rune) string {
	if r == 'ー' {
		return "Katakana"
	}
	for _, name := range commonScripts {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			if name == "Common" || name == "Inherited" {
				return ""
			}
			return name
		}
	}
	return ""
}

// cjkSets are the script combinations that UTS #39 treats as one writing
// system: Japanese, Korean and Chinese with Bopomofo all use Han ideographs
// beside their own letters.
var cjkSets = [][]string{
	{"Han", "Hiragana", "Katakana"},
	{"Han", "Hangul"},
	{"Han", "Bopomofo"},
}

// singleScript reports whether scripts, the distinct scripts of a name, form
// one writing system.
func singleScript(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range cjkSets {
		all := true
		for _, s := range scripts {
			all = all && slices.Contains(set, s)
		}
		if all {
			return true
		}
	}
	return false
}

// Reserved words, compared on skeletons so that look-alikes ("adm1n",
// Cyrillic "ѕupport", "SUPP0RT") are caught too.
//
// A strong word is refused wherever it touches a word boundary of the name:
// at its start, at its end, or next to an underscore. That stops
// "kurir_support", "support_team", "superadmin" and "my_kurir_news", yet
// allows "badminton", which contains "admin" only inside a word. Strong words
// are the ones nobody needs at the edge of a name except to look official.
//
// An exact word is refused only as the whole name. These are ordinary words
// or names at the edge of many honest usernames ("steam" ends with "team",
// "beetroot" with "root", "Staffan" starts with "staff", "paralegal" ends
// with "legal"), so only the bare word, which would pass for a kurir
// account or a mention keyword, is reserved.
var (
	strongReserved = []string{
		"kurir", "admin", "administrator", "moderator", "official", "support",
		"security", "abuse", "system", "telegram", "verify", "verified",
		"verification", "notification", "transparency",
	}
	exactReserved = []string{
		"root", "help", "helpdesk", "team", "staff", "legal", "service",
		"everyone", "here", "deleted", "postmaster", "webmaster", "hostmaster",
		"noreply",
	}
)

// reservedSkeleton pairs a reserved word with its skeleton.
type reservedSkeleton struct{ word, skeleton string }

// strongSkeletons and exactSkeletons are compiled from the lists above once.
var (
	strongSkeletons = skeletons(strongReserved)
	exactSkeletons  = skeletons(exactReserved)
)

func skeletons(words []string) []reservedSkeleton {
	out := make([]reservedSkeleton, len(words))
	for i, w := range words {
		out[i] = reservedSkeleton{w, UsernameSkeleton(w)}
	}
	return out
}

// reservedMatch reports whether the skeleton skel is reserved, which word it
// matches, and whether that word is reserved only as the whole name.
func reservedMatch(skel string) (word string, exact, ok bool) {
	for _, r := range exactSkeletons {
		if skel == r.skeleton {
			return r.word, true, true
		}
	}
	for _, r := range strongSkeletons {
		if touchesBoundary(skel, r.skeleton) {
			return r.word, false, true
		}
	}
	return "", false, false
}

// touchesBoundary reports whether w occurs in s at the start or end of s or
// next to an underscore.
func touchesBoundary(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		if start == 0 || s[start-1] == '_' || end == len(s) || s[end] == '_' {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		i = start + size
	}
}

func errUsernameLength(reason string) error {
	return kurir.Invalid("username", reason, "Usernames must be %d to %d characters long.", minUsernameLen, maxUsernameLen)
}

func errUsernameChar(r rune) error {
	return kurir.Invalid("username", "username_invalid_character",
		"Usernames may contain only letters, digits and underscores; %+q is not allowed.", r)
}

// joinAnd joins words as a person would: "A", "A and B", "A, B and C".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
