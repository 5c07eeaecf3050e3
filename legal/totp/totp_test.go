package totp

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcKey is the SHA-1 seed of RFC 6238 Appendix B and RFC 4226 Appendix D.
var rfcKey = Key{Secret: []byte("12345678901234567890")}

func TestRFC6238Vectors(t *testing.T) {
	// RFC 6238 Appendix B, the SHA-1 rows.
	for _, tt := range []struct {
		unix int64
		step int64
		want string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	} {
		at := time.Unix(tt.unix, 0)
		if got := Step(at); got != tt.step {
			t.Errorf("Step(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		if got := string(rfcKey.hotp(Step(at), 8)); got != tt.want {
			t.Errorf("8-digit TOTP at %d = %s, want %s", tt.unix, got, tt.want)
		}
		if got, want := rfcKey.Code(at), tt.want[2:]; got != want {
			t.Errorf("Code at %d = %s, want %s", tt.unix, got, want)
		}
	}
}

func TestRFC4226Vectors(t *testing.T) {
	// RFC 4226 Appendix D: HOTP for counters 0 to 9.
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for c, w := range want {
		if got := string(rfcKey.hotp(int64(c), 6)); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", c, got, w)
		}
	}
}

func TestCodeIsZeroPadded(t *testing.T) {
	// 1111111109 gives 07081804; the last six are 081804, a leading zero.
	if got := rfcKey.Code(time.Unix(1111111109, 0)); got != "081804" {
		t.Errorf("Code = %q, want %q", got, "081804")
	}
}

func TestStepBeforeEpoch(t *testing.T) {
	for _, tt := range []struct{ unix, want int64 }{
		{0, 0}, {29, 0}, {30, 1}, {-1, -1}, {-30, -1}, {-31, -2},
	} {
		if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
}

func TestVerifySkew(t *testing.T) {
	k := newKey(t)
	now := time.Date(2026, 5, 4, 12, 0, 10, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		steps int64 // the code's step, relative to now's
		ok    bool
	}{
		{"two steps behind", -2, false},
		{"one step behind", -1, true},
		{"current step", 0, true},
		{"one step ahead", 1, true},
		{"two steps ahead", 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code := k.Code(now.Add(time.Duration(tt.steps) * Period))
			step, ok := k.Verify(code, now, 0)
			if ok != tt.ok {
				t.Fatalf("Verify(code of step %+d) = %v, want %v", tt.steps, ok, tt.ok)
			}
			if ok && step != Step(now)+tt.steps {
				t.Errorf("step = %d, want %d", step, Step(now)+tt.steps)
			}
		})
	}
}

func TestVerifyRefusesReplay(t *testing.T) {
	k := newKey(t)
	now := time.Date(2026, 5, 4, 12, 0, 1, 0, time.UTC)
	code := k.Code(now)
	last, ok := k.Verify(code, now, 0)
	if !ok {
		t.Fatal("the current code was refused")
	}
	// The same code again, within its own 30 s window.
	if _, ok := k.Verify(code, now.Add(20*time.Second), last); ok {
		t.Error("the same code was accepted twice within its window")
	}
	// And in the next window, where it is still within the skew.
	if _, ok := k.Verify(code, now.Add(Period), last); ok {
		t.Error("the same code was accepted again one step later")
	}
	// An older code, still within the skew, after a newer one was used.
	if _, ok := k.Verify(k.Code(now.Add(-Period)), now, last); ok {
		t.Error("the previous step's code was accepted after the current one")
	}
	// The next code is fine.
	next, ok := k.Verify(k.Code(now.Add(Period)), now.Add(Period), last)
	if !ok || next != last+1 {
		t.Errorf("next step's code = %d, %v; want %d, true", next, ok, last+1)
	}
}

func TestVerifyAheadUsesUpTheCurrentStep(t *testing.T) {
	// A phone one step fast spends the next step; the current step's code,
	// being older, is then refused.
	k := newKey(t)
	now := time.Date(2026, 5, 4, 12, 0, 1, 0, time.UTC)
	last, ok := k.Verify(k.Code(now.Add(Period)), now, 0)
	if !ok || last != Step(now)+1 {
		t.Fatalf("code of the next step = %d, %v; want %d, true", last, ok, Step(now)+1)
	}
	if _, ok := k.Verify(k.Code(now), now, last); ok {
		t.Error("the current step's code was accepted after the next step's")
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	k := newKey(t)
	now := time.Date(2026, 5, 4, 12, 0, 1, 0, time.UTC)
	code := k.Code(now)
	if _, ok := k.Verify(code, now, 0); !ok {
		t.Fatal("the well-formed code was refused")
	}
	// Each is the valid code in a form that a lax parser (Atoi, TrimSpace,
	// unicode.IsDigit) would turn back into it.
	for _, tt := range []struct{ name, code string }{
		{"empty", ""},
		{"five digits", code[:5]},
		{"seven digits", code + "0"},
		{"leading zero", "0" + code},
		{"letters", "abcdef"},
		{"letter inside", code[:3] + "O" + code[4:]},
		{"leading space", " " + code},
		{"trailing space", code + " "},
		{"space inside", code[:3] + " " + code[3:]},
		{"newline", code + "\n"},
		{"plus sign", "+" + code},
		{"full-width digits", shiftDigits(code, '０')},
		{"Arabic-Indic digits", shiftDigits(code, '٠')},
		{"NUL", code + "\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := k.Verify(tt.code, now, 0); ok {
				t.Errorf("Verify(%q) accepted", tt.code)
			}
		})
	}
}

// shiftDigits writes the ASCII digits of s in another script whose zero is zero.
func shiftDigits(s string, zero rune) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(zero + c - '0')
	}
	return b.String()
}

func TestVerifyWrongKey(t *testing.T) {
	a, b := newKey(t), newKey(t)
	now := time.Now()
	if _, ok := b.Verify(a.Code(now), now, 0); ok {
		// One chance in about 333 000 (three steps); a repeat would be a bug.
		t.Error("another key's code was accepted")
	}
}

func TestNewKey(t *testing.T) {
	a, b := newKey(t), newKey(t)
	if len(a.Secret) != KeySize {
		t.Errorf("len(Secret) = %d, want %d", len(a.Secret), KeySize)
	}
	if bytes.Equal(a.Secret, b.Secret) {
		t.Error("two new keys are equal")
	}
	if got := a.Base32(); len(got) != 32 || strings.ContainsAny(got, "=abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("Base32() = %q, want 32 upper-case characters without padding", got)
	}
}

func TestParseKey(t *testing.T) {
	sixteen := Key{Secret: []byte("0123456789abcdef")} // 26 base32 characters, 6 of padding
	for _, tt := range []struct {
		name, in string
		want     Key
	}{
		{"as Base32 writes it", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", rfcKey},
		{"lower case in groups", "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", rfcKey},
		{"hyphens and tabs", "GEZD-GNBV-GY3T-QOJQ\tGEZD-GNBV-GY3T-QOJQ", rfcKey},
		{"unpadded", sixteen.Base32(), sixteen},
		{"padded", sixteen.Base32() + "======", sixteen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got.Secret, tt.want.Secret) {
				t.Errorf("ParseKey(%q) = %q, want %q", tt.in, got.Secret, tt.want.Secret)
			}
		})
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	for range 20 {
		k := newKey(t)
		got, err := ParseKey(k.Base32())
		if err != nil || !bytes.Equal(got.Secret, k.Secret) {
			t.Fatalf("ParseKey(%q) = %x, %v; want %x", k.Base32(), got.Secret, err, k.Secret)
		}
		got, err = ParseKey(strings.ToLower(k.Base32()))
		if err != nil || !bytes.Equal(got.Secret, k.Secret) {
			t.Fatalf("ParseKey(lower case) = %x, %v; want %x", got.Secret, err, k.Secret)
		}
	}
}

func TestParseKeyErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"only spaces and padding", "  ==", "empty"},
		{"digit one", "GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ", `"1" at byte 15, which is not base32`},
		{"digit zero", "0EZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", `"0" at byte 0`},
		{"dotless i", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJıQ", `"ı" at byte 31`},
		{"too short", "GEZDGNBV", "5 bytes; at least 16"},
		{"a character lost", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ", `last character "J" has bits past the last whole byte`},
		{"two characters lost", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQO", "not valid base32"},
		{"padding inside", "GEZDGNBV=GY3TQOJQGEZDGNBVGY3TQOJQ", "not valid base32"},
		{"too long", strings.Repeat("A", 120), "at most 64"},
		{"far too long", strings.Repeat("A", 10000), "10000 characters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey(tt.in)
			if err == nil {
				t.Fatalf("ParseKey(%q) = %x, want an error", tt.in, k.Secret)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseKey(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestURI(t *testing.T) {
	got := rfcKey.URI("Kurir Legal", "officer@police.example")
	want := "otpauth://totp/Kurir%20Legal:officer@police.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Kurir%20Legal&algorithm=SHA1&digits=6&period=30"
	if got != want {
		t.Errorf("URI =\n%s\nwant\n%s", got, want)
	}
	if got, want := rfcKey.URI("", "a b"), "otpauth://totp/a%20b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA1&digits=6&period=30"; got != want {
		t.Errorf("URI without issuer =\n%s\nwant\n%s", got, want)
	}
}

func TestURIEscapingRoundTrips(t *testing.T) {
	// Whatever the names hold, a URI parser gets them back whole, and a colon
	// inside either never looks like the separator.
	for _, tt := range []struct{ issuer, account string }{
		{"Kurir Legal", "officer@police.example"},
		{"A:B & C/D?E#F+G%H", "x:y@z/w?v#u"},
		{"Kurír Žaloba", "jürgen.müller@polizei.example"},
	} {
		u, err := url.Parse(rfcKey.URI(tt.issuer, tt.account))
		if err != nil {
			t.Fatalf("URI(%q, %q) does not parse: %v", tt.issuer, tt.account, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("URI(%q, %q): scheme %q host %q", tt.issuer, tt.account, u.Scheme, u.Host)
		}
		label := strings.TrimPrefix(u.EscapedPath(), "/")
		i, a, found := strings.Cut(label, ":")
		if !found || strings.Contains(a, ":") {
			t.Fatalf("label %q does not split into issuer and account at one colon", label)
		}
		if i, _ = url.PathUnescape(i); i != tt.issuer {
			t.Errorf("label issuer = %q, want %q", i, tt.issuer)
		}
		if a, _ = url.PathUnescape(a); a != tt.account {
			t.Errorf("label account = %q, want %q", a, tt.account)
		}
		q := u.Query()
		if q.Get("issuer") != tt.issuer || q.Get("secret") != rfcKey.Base32() {
			t.Errorf("query = %v", q)
		}
		if strings.Contains(u.RawQuery, "+") {
			t.Errorf("query %q has a +, which some apps show as a plus", u.RawQuery)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", "AAAAAAAAAAAAAAAAAAAAAAAAAA======", "A=A", "ı", "=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		if len(k.Secret) < minKeySize || len(k.Secret) > maxKeySize {
			t.Fatalf("ParseKey(%q) accepted a %d-byte secret", s, len(k.Secret))
		}
		again, err := ParseKey(k.Base32())
		if err != nil || !bytes.Equal(again.Secret, k.Secret) {
			t.Fatalf("ParseKey(%q).Base32() = %q does not parse back: %x, %v", s, k.Base32(), again.Secret, err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("287082", int64(59), int64(0))
	f.Add("094287", int64(1111111109), int64(-1))
	f.Add("１２３４５６", int64(0), int64(1<<62))
	f.Add("", int64(-1<<62), int64(-1<<63))
	f.Fuzz(func(t *testing.T, code string, unix, lastStep int64) {
		at := time.Unix(unix, 0)
		step, ok := rfcKey.Verify(code, at, lastStep)
		if !ok {
			return
		}
		if step <= lastStep {
			t.Fatalf("Verify(%q, %d, %d) accepted step %d, not after the last", code, unix, lastStep, step)
		}
		if d := step - Step(at); d < -1 || d > 1 {
			t.Fatalf("Verify(%q, %d, %d) accepted step %d, %d steps away", code, unix, lastStep, step, d)
		}
		if want := string(rfcKey.hotp(step, Digits)); code != want {
			t.Fatalf("Verify(%q) accepted it for step %d, whose code is %s", code, step, want)
		}
	})
}

func newKey(t *testing.T) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
