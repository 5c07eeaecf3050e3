package account

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"

	"kurir"
)

// Cyrillic look-alikes of Latin letters, spelt out so that the tests say
// which script each string is in.
const (
	cyrPace   = "\u0440\u0430\u0441\u0435"       // "расе": er, a, es, ie
	cyrExpec  = "\u0435\u0445\u0440\u0435\u0441" // "ехрес"
	cyrKATE   = "\u041a\u0410\u0422\u0415"       // "КАТЕ", capitals
	cyrPavel  = "\u0440\u0430v\u0435l"           // "раvеl": Cyrillic р, а, е among Latin v, l
	cyrDze    = "\u0455"                         // "ѕ", looks like Latin s
	greekKATE = "\u039a\u0391\u03a4\u0395"       // "ΚΑΤΕ"
)

func TestParseUsername(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Username
	}{
		{"lowercase", "pavel", Username{"pavel", "pavel", "pavel"}},
		{"case kept in display", "Pavel_99", Username{"Pavel_99", "pavel_99", "pavel_99"}},
		{"digit one looks like l", "pave1", Username{"pave1", "pave1", "pavel"}},
		{"capital I looks like l", "Ivan", Username{"Ivan", "ivan", "lvan"}},
		{"zero looks like O", "b0bby", Username{"b0bby", "b0bby", "bobby"}},
		{"rn looks like m", "money", Username{"money", "money", "rnoney"}},
		{"fullwidth is NFKC-normalised", "ｐａｖｅｌ", Username{"pavel", "pavel", "pavel"}},
		{"decomposed accent composed", "pave\u0301l", Username{"pavél", "pavél", "pave\u0301l"}},
		{"sharp s folds to ss", "Straße", Username{"Straße", "strasse", "strasse"}},
		{"Cyrillic alone", cyrPace, Username{cyrPace, cyrPace, "pace"}},
		{"Cyrillic capitals", cyrKATE, Username{cyrKATE, "\u043a\u0430\u0442\u0435", "kate"}},
		{"Greek", "Ελληνικά", Username{"Ελληνικά", "ελληνικά", "eʌʌhnlka\u0301"}},
		{"Arabic", "محمد_1", Username{"محمد_1", "محمد_1", "محمد_l"}},
		{"Arabic with Arabic-Indic digits", "علي٣٤", Username{"علي٣٤", "علي٣٤", "عل\u0649٣٤"}}, // final yeh and alef maksura look alike
		{"Japanese mixes Han and Katakana", "東京タワー", Username{"東京タワー", "東京タワー", "東京夕ワー"}},
		{"Korean mixes Hangul and Han", "한국어漢字", Username{"한국어漢字", "한국어漢字", "\u1112\u1161\u1102\u1100\u116e\u1100\u110b\u1165漢字"}}, // skeletons are NFD: Hangul as jamo
		{"Devanagari needs vowel signs", "हिन्दी", Username{"हिन्दी", "हिन्दी", "हिन्दी"}},
		{"Thai needs vowel marks", "ภาษาไทย", Username{"ภาษาไทย", "ภาษาไทย", "ภาษาไฑย"}},
		{"admin inside a word", "badminton", Username{"badminton", "badminton", "badrnlnton"}},
		{"exact-only word at an edge", "steam", Username{"steam", "steam", "stearn"}},
		{"exact-only word as a prefix", "Staffan", Username{"Staffan", "staffan", "staffan"}},
		{"32 characters", strings.Repeat("a", 32), Username{strings.Repeat("a", 32), strings.Repeat("a", 32), strings.Repeat("a", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUsername(tt.in)
			if err != nil {
				t.Fatalf("ParseUsername(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseUsername(%q)\n got %+q\nwant %+q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseUsernameRefuses(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"empty", "", "username_too_short"},
		{"three letters", "bob", "username_too_short"},
		{"three after NFKC composes", "bo\u0308b", "username_too_short"}, // "böb"
		{"33 letters", strings.Repeat("a", 33), "username_too_long"},
		{"huge input", strings.Repeat("a", 1<<20), "username_too_long"},
		{"invalid UTF-8", "pave\xffl", "username_invalid_character"},
		{"space", "pa vel", "username_invalid_character"},
		{"hyphen", "pa-vel", "username_invalid_character"},
		{"dot", "pa.vel", "username_invalid_character"},
		{"emoji", "pavel😀", "username_invalid_character"},
		{"zero-width joiner", "pa\u200dvel", "username_invalid_character"},
		{"right-to-left override", "pa\u202evel", "username_invalid_character"},
		{"NFKC yields a space", "ﷺabc", "username_invalid_character"},
		{"generic combining accent", "q\u0301uiz", "username_invalid_character"},
		{"Zalgo", "zalgo\u0334\u0321", "username_invalid_character"},
		{"mark after a digit", "ह१\u093f\u093f", "username_invalid_character"},
		{"same mark twice", "क\u093f\u093fखग", "username_invalid_character"},
		{"four marks on a letter", "क\u093c\u093f\u0902\u0901ख", "username_invalid_character"},
		{"Arabic tatweel", "محـمد", "username_invalid_character"},
		{"modifier letter apostrophe", "Hawai\u02bbi", "username_invalid_character"},
		{"leading digit", "1pavel", "username_must_start_with_letter"},
		{"leading underscore", "_pavel", "username_must_start_with_letter"},
		{"leading mark", "\u093fकखग", "username_must_start_with_letter"},
		{"trailing underscore", "pavel_", "username_misplaced_underscore"},
		{"double underscore", "pa__vel", "username_misplaced_underscore"},
		{"Latin and Cyrillic", cyrPavel, "username_mixed_script"},
		{"one Cyrillic letter", cyrDze + "upport", "username_mixed_script"},
		{"Latin and Greek", "pav\u03b5l", "username_mixed_script"},
		{"Latin and Devanagari digit", "pavel३", "username_mixed_script"},
		{"Latin and Han", "pavel東京", "username_mixed_script"},
		{"Hangul and Hiragana", "한국어ひらがな", "username_mixed_script"},
		{"brand", "kurir", "username_reserved"},
		{"brand capitals", "KURIR", "username_reserved"},
		{"brand as prefix", "kurir_support", "username_reserved"},
		{"brand as suffix", "thekurir", "username_reserved"},
		{"brand between underscores", "my_kurir_news", "username_reserved"},
		{"brand look-alike", "kur1r", "username_reserved"},
		{"strong word first", "support_team", "username_reserved"},
		{"digit look-alike", "adm1n", "username_reserved"},
		{"rn look-alike", "adrnin", "username_reserved"},
		{"suffix", "superadmin", "username_reserved"},
		{"longer strong word", "Administrator", "username_reserved"},
		{"Cyrillic look-alike of a strong word", "\u0430dmin", "username_mixed_script"},
		{"exact word", "root", "username_reserved"},
		{"exact word look-alike", "R00T", "username_reserved"},
		{"mention keyword", "everyone", "username_reserved"},
		{"Cyrillic capitals look like an exact word", "\u0422\u0415\u0410\u041c", "username_reserved"}, // "ТЕАМ"
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUsername(tt.in)
			if err == nil {
				t.Fatalf("ParseUsername(%q) = %+q, want error with reason %s", tt.in, got, tt.reason)
			}
			var e *kurir.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseUsername(%q) error %v is not a *kurir.Error", tt.in, err)
			}
			if e.Code != kurir.EInvalid || e.Field != "username" || e.Reason != tt.reason {
				t.Errorf("ParseUsername(%q) error code, field, reason = %s, %s, %s; want invalid, username, %s (message %q)",
					tt.in, e.Code, e.Field, e.Reason, tt.reason, e.Message)
			}
			if !strings.HasSuffix(e.Message, ".") || len(e.Message) < 20 {
				t.Errorf("ParseUsername(%q) message %q is not a sentence for a person", tt.in, e.Message)
			}
		})
	}
}

func TestParseUsernameMessages(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"bob", "Usernames must be 4 to 32 characters long."},
		{"pa-vel", "Usernames may contain only letters, digits and underscores; '-' is not allowed."},
		{"pa\u200dvel", `Usernames may contain only letters, digits and underscores; '\u200d' is not allowed.`},
		{cyrPavel, "Usernames must use letters from one alphabet, but this one mixes Cyrillic and Latin."},
		{"r00t", `This username is reserved: it looks like "root".`},
		{"kurir_fan", `This username is reserved: usernames with "kurir" or a look-alike of it at the start, at the end or next to an underscore are kept for kurir's own accounts.`},
	}
	for _, tt := range tests {
		_, err := ParseUsername(tt.in)
		if got := kurir.ErrorMessage(err); got != tt.want {
			t.Errorf("ParseUsername(%q) message\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestUsernameSkeletonCollides(t *testing.T) {
	groups := []struct {
		name  string
		names []string
	}{
		{"case and digit look-alikes", []string{"pavel", "PAVEL", "Pavel", "pave1", "paveI", "PAVE1"}},
		{"Cyrillic lowercase", []string{"pace", "PACE", cyrPace}},
		{"Cyrillic lowercase, five letters", []string{"expec", cyrExpec}},
		{"Cyrillic capitals", []string{"kate", "KATE", cyrKATE, strings.ToLower(cyrKATE)}},
		{"Greek capitals", []string{"kate", greekKATE, strings.ToLower(greekKATE)}},
		{"capital I shown as l", []string{"ivan", "Ivan", "lvan", "1van"}},
		{"rn and m", []string{"money", "rnoney"}},
		{"zero and O", []string{"root", "r00t", "ROOT", "rO0t"}},
		{"mixed script look-alike", []string{"pavel", cyrPavel}},
		{"compatibility forms", []string{"pavel", "ｐａｖｅｌ", "𝐩𝐚𝐯𝐞𝐥"}},
		{"decomposed and composed", []string{"pavél", "pave\u0301l", "PAVÉL"}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			want := UsernameSkeleton(g.names[0])
			for _, n := range g.names[1:] {
				if got := UsernameSkeleton(n); got != want {
					t.Errorf("UsernameSkeleton(%+q) = %+q, want %+q like %+q", n, got, want, g.names[0])
				}
			}
		})
	}
}

func TestUsernameSkeletonDistinguishes(t *testing.T) {
	pairs := [][2]string{
		{"pavel", "pavél"},  // an accent is visible
		{"pavel", "pa_vel"}, // so is an underscore
		{"admin", "badminton"},
		{"nova", "vova"}, // Greek Ν/ν links n and v only through case; not merged
		{"ruby", "tuby"}, // chains of look-alikes across cases are not followed
		{"kate", "kale"},
		{"bob_1", "bob_2"},
	}
	for _, p := range pairs {
		if a, b := UsernameSkeleton(p[0]), UsernameSkeleton(p[1]); a == b {
			t.Errorf("UsernameSkeleton(%q) = UsernameSkeleton(%q) = %q, want different", p[0], p[1], a)
		}
	}
}

// TestReservedWordsAtBoundaries checks the reserved-word rule on skeletons
// directly, including look-alikes that ParseUsername refuses earlier for
// mixing scripts; channel @names share the rule.
func TestReservedWordsAtBoundaries(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{cyrDze + "upport", true},
		{"supp0rt_desk", true},
		{"the_official_one", true},
		{"adminton", true},
		{"badminton", false},
		{"roots", false},
		{"beetroot", false},
		{"dream_team", false},
		{"illegal", false},
		{"kuriram", true},
		{"bkurirb", false},
	}
	for _, tt := range tests {
		_, _, got := reservedMatch(UsernameSkeleton(tt.in))
		if got != tt.want {
			t.Errorf("reservedMatch(UsernameSkeleton(%q)) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUsernameKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Pavel", "pavel"},
		{"ＰＡＶＥＬ", "pavel"},
		{"STRASSE", "strasse"},
		{"Straße", "strasse"},
		{"ΟΔΟΣ", "οδοσ"},
		{"οδος", "οδοσ"},
		{"kurir", "kurir"}, // no validation: reserved names still have a key
	}
	for _, tt := range tests {
		if got := UsernameKey(tt.in); got != tt.want {
			t.Errorf("UsernameKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCaseFoldIsIdempotent checks the key of every letter, digit and mark
// against the key of that key. golang.org/x/text/cases alone fails this for
// Cherokee, whose capitals and small letters it swaps (golang.org/issue/46101),
// which would give "ᏣᎳᎩ" and "ꮳꮃꭹ" two accounts.
func TestCaseFoldIsIdempotent(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			continue
		}
		k := nfkcCasefold(string(r))
		if k2 := nfkcCasefold(k); k2 != k {
			t.Errorf("nfkcCasefold(%U) = %+q, but nfkcCasefold of that = %+q", r, k, k2)
		}
	}
	if a, b := UsernameKey("ᏣᎳᎩ"), UsernameKey("ꮳꮃꭹ"); a != b {
		t.Errorf("UsernameKey of Cherokee capitals %+q and small letters %+q differ", a, b)
	}
}

// TestConfusablesLibrary pins the behaviour of the confusables package that
// skeleton is built around, so that an upgrade changing it fails here first.
func TestConfusablesLibrary(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "O"}, // prototypes can be capitals, hence the final fold
		{"1", "l"}, // digit one and capital I both map to small l
		{"I", "l"},
		{"m", "rn"},          // one letter can map to two
		{"\u0432", "\u0299"}, // Cyrillic в maps to small capital ʙ, not b ...
		{"\u0412", "B"},      // ... while its capital В maps to B
		{"\u03bd", "v"},      // Greek ν looks like v ...
		{"\u039d", "N"},      // ... and its capital Ν like N
		{"é", "e\u0301"},     // output is NFD; accents are not dropped
		{"pavel", "pavel"},
		{"\u0440\u0430", "pa"}, // whole-script Cyrillic maps to Latin
	}
	for _, tt := range tests {
		if got := confusables.Skeleton(tt.in); got != tt.want {
			t.Errorf("confusables.Skeleton(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

func ExampleParseUsername() {
	u, err := ParseUsername("Pavel_99")
	fmt.Printf("%q %q %q %v\n", u.Display, u.Key, u.Skeleton, err)

	_, err = ParseUsername("adm1n")
	fmt.Println(kurir.ErrorReason(err))
	// Output:
	// "Pavel_99" "pavel_99" "pavel_99" <nil>
	// username_reserved
}

func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{
		"pavel", "Pavel_99", "pave1", cyrPavel, cyrPace, cyrKATE, "ｐａｖｅｌ", "Straße", "İstanbul",
		"ΟΔΟΣ", "東京タワー", "한국어漢字", "हिन्दी", "ภาษาไทย", "محمد_1", "علي٣٤", "kurir_support",
		"badminton", "pa__vel", "_x", "q\u0301uiz", "ﷺabc", "ǅemal", "\xff\xfe", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUsername(s)
		if err != nil {
			var e *kurir.Error
			if !errors.As(err, &e) || e.Code != kurir.EInvalid || e.Field != "username" || e.Reason == "" || e.Message == "" {
				t.Fatalf("ParseUsername(%+q) error %#v is not an invalid-username error", s, err)
			}
			if u != (Username{}) {
				t.Fatalf("ParseUsername(%+q) returned %+q with an error", s, u)
			}
			return
		}
		for _, form := range []string{u.Display, u.Key, u.Skeleton} {
			if !utf8.ValidString(form) || form == "" {
				t.Fatalf("ParseUsername(%+q) = %+q: a form is empty or invalid UTF-8", s, u)
			}
		}
		if n := utf8.RuneCountInString(u.Display); n < minUsernameLen || n > maxUsernameLen {
			t.Fatalf("ParseUsername(%+q).Display %+q has %d characters", s, u.Display, n)
		}
		if first, _ := utf8.DecodeRuneInString(u.Display); !unicode.IsLetter(first) {
			t.Fatalf("ParseUsername(%+q).Display %+q does not start with a letter", s, u.Display)
		}
		if strings.HasSuffix(u.Display, "_") || strings.Contains(u.Display, "__") {
			t.Fatalf("ParseUsername(%+q).Display %+q breaks the underscore rules", s, u.Display)
		}
		if !norm.NFKC.IsNormalString(u.Display) || !norm.NFKC.IsNormalString(u.Key) {
			t.Fatalf("ParseUsername(%+q) = %+q is not NFKC", s, u)
		}
		again, err := ParseUsername(u.Display)
		if err != nil || again != u {
			t.Fatalf("ParseUsername(%+q) = %+q, but ParseUsername of its Display = %+q, %v", s, u, again, err)
		}
		if k := UsernameKey(u.Key); k != u.Key {
			t.Fatalf("UsernameKey(%+q) = %+q, want the key itself", u.Key, k)
		}
		if k := UsernameKey(s); k != u.Key {
			t.Fatalf("UsernameKey(%+q) = %+q, want Key %+q", s, k, u.Key)
		}
		for _, form := range []string{s, u.Display, u.Key} {
			if sk := UsernameSkeleton(form); sk != u.Skeleton {
				t.Fatalf("UsernameSkeleton(%+q) = %+q, want Skeleton %+q", form, sk, u.Skeleton)
			}
		}
		// The same name in capitals collides with it, even where its Key
		// differs: Turkish dotless "ı" capitalises to "I", whose Key is "i".
		if v, err := ParseUsername(strings.ToUpper(u.Display)); err == nil && v.Skeleton != u.Skeleton {
			t.Fatalf("ParseUsername(%+q).Skeleton = %+q, but in capitals %+q it is %+q", s, u.Skeleton, v.Display, v.Skeleton)
		}
	})
}
