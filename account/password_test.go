package account

import (
	"bufio"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"kurir"
)

// referenceHash is argon2id of "password" with salt "somesalt", m=256 KiB,
// t=2, p=1, from the test suite of the reference implementation
// (phc-winner-argon2, src/test.c). It proves the algorithm and the string
// format are the ones every other argon2id implementation reads.
const referenceHash = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"

func TestVerifyPasswordReferenceVector(t *testing.T) {
	ok, err := VerifyPassword(referenceHash, "password")
	if err != nil || !ok {
		t.Fatalf("VerifyPassword(reference, %q) = %v, %v; want true, nil", "password", ok, err)
	}
	ok, err = VerifyPassword(referenceHash, "Password")
	if err != nil || ok {
		t.Fatalf("VerifyPassword(reference, %q) = %v, %v; want false, nil", "Password", ok, err)
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	const pw = "correct horse battery staple"
	h, err := HashPassword(pw, CheapArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !format.MatchString(h) {
		t.Errorf("HashPassword = %q, want the PHC format %s", h, format)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"same password", pw, true},
		{"wrong password", "correct horse battery stapler", false},
		{"case matters", "Correct horse battery staple", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyPassword(h, tt.password)
			if err != nil || got != tt.want {
				t.Errorf("VerifyPassword(h, %q) = %v, %v; want %v, nil", tt.password, got, err, tt.want)
			}
		})
	}
	h2, err := HashPassword(pw, CheapArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", h)
	}
}

func TestPasswordIsNormalised(t *testing.T) {
	composed, decomposed := "café au lait", "cafe\u0301 au lait"
	h, err := HashPassword(composed, CheapArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword(h, decomposed); err != nil || !ok {
		t.Errorf("VerifyPassword(hash of composed, decomposed) = %v, %v; want true, nil", ok, err)
	}
}

func TestDefaultArgon2Params(t *testing.T) {
	h, err := HashPassword("hunter2hunter2", DefaultArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPassword with defaults = %q, want OWASP's m=19456,t=2,p=1", h)
	}
	if ok, err := VerifyPassword(h, "hunter2hunter2"); err != nil || !ok {
		t.Errorf("VerifyPassword = %v, %v; want true, nil", ok, err)
	}
}

func TestVerifyPasswordTampered(t *testing.T) {
	const pw = "tamper-evident"
	h, err := HashPassword(pw, CheapArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(h, "$") // "", argon2id, v=19, params, salt, key
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name    string
		encoded string
	}{
		{"key changed", strings.Join([]string{"", f[1], f[2], f[3], f[4], flip(f[5], 10)}, "$")},
		{"salt changed", strings.Join([]string{"", f[1], f[2], f[3], flip(f[4], 3), f[5]}, "$")},
		{"time changed", strings.Join([]string{"", f[1], f[2], "m=64,t=2,p=1", f[4], f[5]}, "$")},
		{"memory changed", strings.Join([]string{"", f[1], f[2], "m=72,t=1,p=1", f[4], f[5]}, "$")},
		{"lanes changed", strings.Join([]string{"", f[1], f[2], "m=64,t=1,p=2", f[4], f[5]}, "$")},
		{"key cut short", strings.Join([]string{"", f[1], f[2], f[3], f[4], f[5][:24]}, "$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.encoded, pw)
			if err != nil || ok {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false, nil", tt.encoded, ok, err)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", "password"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=256,t=2,p=1$" + salt + "$" + key},
		{"missing key", "$argon2id$v=19$m=256,t=2,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key + "$"},
		{"no leading dollar", "argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"parameters reordered", "$argon2id$v=19$t=2,m=256,p=1$" + salt + "$" + key},
		{"extra parameter", "$argon2id$v=19$m=256,t=2,p=1,keyid=x$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=0256,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+256,t=2,p=1$" + salt + "$" + key},
		{"space", "$argon2id$v=19$m=256, t=2,p=1$" + salt + "$" + key},
		{"not a number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key},
		{"overflow", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key},
		{"memory over 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"memory below 8 KiB a lane", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=256,t=0,p=1$" + salt + "$" + key},
		{"too many passes", "$argon2id$v=19$m=256,t=65,p=1$" + salt + "$" + key},
		{"zero lanes", "$argon2id$v=19$m=256,t=2,p=0$" + salt + "$" + key},
		{"lanes wrap a byte", "$argon2id$v=19$m=4096,t=2,p=257$" + salt + "$" + key},
		{"salt too short", "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$" + key},
		{"key too short", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$nf65EOgLrQMR"},
		{"padded base64", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$" + key},
		{"URL base64", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$nf65EOgLrQMR_uIPnA4rEsF5h7TKyQwu9U1bMCHGi_4"},
		{"non-canonical base64", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$" + key},
		{"too long", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + strings.Repeat("A", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.encoded, "password")
			if err == nil || ok {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", tt.encoded, ok, err)
			}
			if kurir.ErrorCode(err) != kurir.EInternal {
				t.Errorf("VerifyPassword(%q) error code %s, want internal: a bad stored hash is not the client's fault", tt.encoded, kurir.ErrorCode(err))
			}
		})
	}
}

func TestHashPasswordRefusesBadParams(t *testing.T) {
	tests := []struct {
		name string
		p    Argon2Params
	}{
		{"zero", Argon2Params{}},
		{"no time", Argon2Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"no lanes", Argon2Params{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32}},
		{"too much memory", Argon2Params{Memory: 2 << 20, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"short salt", Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"short key", Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h, err := HashPassword("whatever123", tt.p); err == nil {
				t.Errorf("HashPassword(%+v) = %q, want an error", tt.p, h)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h, err := HashPassword("rehash me please", CheapArgon2Params)
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(*Argon2Params)) Argon2Params {
		p := CheapArgon2Params
		change(&p)
		return p
	}
	tests := []struct {
		name    string
		encoded string
		p       Argon2Params
		want    bool
	}{
		{"same parameters", h, CheapArgon2Params, false},
		{"stronger default", h, DefaultArgon2Params, true},
		{"more memory", h, with(func(p *Argon2Params) { p.Memory *= 2 }), true},
		{"more time", h, with(func(p *Argon2Params) { p.Time++ }), true},
		{"more lanes", h, with(func(p *Argon2Params) { p.Threads++ }), true},
		{"longer salt", h, with(func(p *Argon2Params) { p.SaltLen = 32 }), true},
		{"longer key", h, with(func(p *Argon2Params) { p.KeyLen = 64 }), true},
		{"weaker parameters", referenceHash, with(func(p *Argon2Params) { p.Memory = 128 }), true},
		{"reference vector", referenceHash, Argon2Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, false},
		{"malformed", "not a hash", CheapArgon2Params, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsRehash(tt.encoded, tt.p); got != tt.want {
				t.Errorf("NeedsRehash(%q, %+v) = %v, want %v", tt.encoded, tt.p, got, tt.want)
			}
		})
	}
}

func TestCheckPasswordStrength(t *testing.T) {
	long := strings.Repeat("correct horse battery staple ", 9) // 261 bytes
	tests := []struct {
		name     string
		password string
		username string
		reason   string // "" for acceptable
	}{
		{"passphrase", "correct horse battery staple", "pavel", ""},
		{"eight random characters", "x7#kQ!m2", "pavel", ""},
		{"non-Latin", "пароль-надёжный", "pavel", ""},
		{"all Han", "我的密码很长很长", "pavel", ""},
		{"exactly 256 bytes", long[:256], "pavel", ""},
		{"contains a short username", "bob-likes-trains", "bob", ""},
		{"invalid UTF-8", "pass\xffword1", "pavel", "password_invalid"},
		{"257 bytes", long[:257], "pavel", "password_too_long"},
		{"seven characters", "x7#kQ!m", "pavel", "weak_password"},
		{"eight bytes, four characters", "пари", "pavel", "weak_password"},
		{"decomposed accents count once", "e\u0301e\u0301e\u0301xyz", "pavel", "weak_password"},
		{"the username", "PavelPavel", "pavelpavel", "weak_password"},
		{"the username in another case", "PAVEL_1984", "Pavel_1984", "weak_password"},
		{"contains the username", "i-am-pavel-hi", "Pavel", "weak_password"},
		{"one character", "aaaaaaaa", "pavel", "weak_password"},
		{"one character, mixed case", "AaAaAaAaAa", "pavel", "weak_password"},
		{"pattern of two", "abababab", "pavel", "weak_password"},
		{"pattern of three, cut short", "xq9xq9xq9x", "pavel", "weak_password"},
		{"pattern of four", "k3y!k3y!", "pavel", "weak_password"},
		{"letter run", "abcdefgh", "pavel", "weak_password"},
		{"capital letter run", "MNOPQRSTU", "pavel", "weak_password"},
		{"digit run", "12345678", "pavel", "weak_password"},
		{"descending run", "98765432", "pavel", "weak_password"},
		{"common", "password", "pavel", "weak_password"},
		{"common, capitals", "PASSWORD", "pavel", "weak_password"},
		{"common keyboard walk", "qwertyuiop", "pavel", "weak_password"},
		{"common phrase", "iloveyou", "pavel", "weak_password"},
		{"common with suffix", "Password123!", "pavel", "weak_password"},
		{"common with year", "sunshine2024", "pavel", "weak_password"},
		{"common short word with digits", "dragon1987", "pavel", "weak_password"},
		{"common with prefix and suffix", "!!monkey!!", "pavel", "weak_password"},
		{"service name", "kurir2025", "pavel", "weak_password"},
		{"common non-ASCII", "Contraseña1", "pavel", "weak_password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPasswordStrength(tt.password, tt.username)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckPasswordStrength(%q, %q) = %v, want nil", tt.password, tt.username, err)
				}
				return
			}
			var e *kurir.Error
			if !errors.As(err, &e) {
				t.Fatalf("CheckPasswordStrength(%q, %q) = %v, want a *kurir.Error with reason %s", tt.password, tt.username, err, tt.reason)
			}
			if e.Code != kurir.EInvalid || e.Field != "password" || e.Reason != tt.reason {
				t.Errorf("CheckPasswordStrength(%q, %q) code, field, reason = %s, %s, %s; want invalid, password, %s (message %q)",
					tt.password, tt.username, e.Code, e.Field, e.Reason, tt.reason, e.Message)
			}
		})
	}
}

func TestCheckPasswordStrengthMessages(t *testing.T) {
	tests := []struct{ password, want string }{
		{"short1!", "Passwords must be at least 8 characters long."},
		{"pavel-rocks", "Your password must not contain your username."},
		{"zzzzzzzzzz", `Passwords must not be one character repeated, like "aaaaaaaa".`},
		{"abcdefgh", `Passwords must not be a run of consecutive characters, like "abcdefgh" or "12345678".`},
		{"football", "This password is one of the most common passwords, which attackers try first. Choose another."},
		{"Football99", "This password is a common password with digits or symbols added, which attackers try first. Choose another."},
	}
	for _, tt := range tests {
		if got := kurir.ErrorMessage(CheckPasswordStrength(tt.password, "pavel")); got != tt.want {
			t.Errorf("CheckPasswordStrength(%q) message\n got %q\nwant %q", tt.password, got, tt.want)
		}
	}
}

// TestCommonPasswordList checks the embedded list: big enough to matter, in
// the folded form lookups use, and every entry long enough to be refused by
// this list rather than by the length rule alone.
func TestCommonPasswordList(t *testing.T) {
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordList))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" || strings.TrimSpace(line) != line {
			t.Errorf("line %d %q: blank or padded", n, line)
		}
		if f := nfkcCasefold(line); f != line {
			t.Errorf("line %d %q: not folded (want %q)", n, line, f)
		}
		if utf8.RuneCountInString(line) < 4 {
			t.Errorf("line %d %q: shorter than 4 characters, so it can match nothing", n, line)
		}
		if seen[line] {
			t.Errorf("line %d %q: duplicate", n, line)
		}
		seen[line] = true
		if utf8.RuneCountInString(line) >= minPasswordLen && CheckPasswordStrength(line, "") == nil {
			t.Errorf("line %d %q: CheckPasswordStrength accepts it", n, line)
		}
	}
	if len(seen) < 2000 {
		t.Errorf("common-passwords.txt has %d entries, want a few thousand", len(seen))
	}
	if len(commonPasswords()) != len(seen) {
		t.Errorf("commonPasswords() has %d entries, the file %d", len(commonPasswords()), len(seen))
	}
}

func FuzzVerifyPassword(f *testing.F) {
	// The seed hash has a fixed salt: the fuzzing coordinator and its workers
	// each run this function, and must agree on which hashes are valid.
	const pw = "fuzzing is fun"
	p, salt := CheapArgon2Params, []byte("0123456789abcdef")
	h := phcHash{params: p, salt: salt, key: argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)}.String()
	if ok, err := VerifyPassword(h, pw); err != nil || !ok {
		f.Fatalf("VerifyPassword(%q, %q) = %v, %v; want true, nil", h, pw, ok, err)
	}
	valid := map[string]string{h: pw, referenceHash: "password"}
	for encoded, password := range valid {
		f.Add(encoded, password)
		f.Add(encoded, password+"!")
	}
	for _, s := range []string{
		"", "$", "$$$$$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=0064,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$c29tZXNhbHQ",
	} {
		f.Add(s, pw)
	}
	f.Fuzz(func(t *testing.T, encoded, password string) {
		parsed, perr := parsePHC(encoded)
		if perr == nil {
			// Parsing is strict: exactly one string encodes each hash.
			if s := parsed.String(); s != encoded {
				t.Fatalf("parsePHC(%q) re-encodes as %q", encoded, s)
			}
			if parsed.params.Memory > 4096 || parsed.params.Time > 4 || parsed.params.Threads > 4 {
				return // valid but too slow to hash on every fuzz input
			}
		}
		ok, err := VerifyPassword(encoded, password)
		if (err == nil) != (perr == nil) {
			t.Fatalf("VerifyPassword(%q) error %v, but parsePHC error %v", encoded, err, perr)
		}
		if err != nil && ok {
			t.Fatalf("VerifyPassword(%q, %q) = true with error %v", encoded, password, err)
		}
		if want, seed := valid[encoded]; ok && (!seed || norm.NFKC.String(password) != norm.NFKC.String(want)) {
			t.Fatalf("VerifyPassword(%q, %q) = true for a string that is not a seed hash with its password", encoded, password)
		}
		if NeedsRehash(encoded, parsed.params) != (perr != nil) {
			t.Fatalf("NeedsRehash(%q, its own params) = %v, parse error %v", encoded, !(perr != nil), perr)
		}
	})
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", DefaultArgon2Params); err != nil {
			b.Fatal(err)
		}
	}
}
