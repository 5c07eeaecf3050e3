package bus

import (
	"strings"
	"testing"

	"kurir"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "a.b", false},
		{"a.b", "a", false},
		{"a.b", "a.b", true},
		{"a.b", "a.bb", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"a.*", "a.b", true},
		{"a.*", "a", false},
		{"a.*", "a.b.c", false},
		{"*.b", "a.b", true},
		{"*.b", "a.c", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c", true},
		{"a.>", "b.c", false},
		{"*.>", "a", false},
		{"*.>", "a.b", true},
		{"a.*.>", "a.b", false},
		{"a.*.>", "a.b.c", true},
	}
	for _, tt := range tests {
		if got := match(tt.pattern, tt.subject); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		s       string
		subject string // error text after the quoted name for ValidateSubject; "" = valid
		pattern string // same for ValidatePattern
	}{
		{"plain", "chat.42.msg", "", ""},
		{"unicode", "čaj.☕", "", ""},
		{"punctuation", "a-b_c.$d", "", ""},
		{"empty", "", "is empty", "is empty"},
		{"empty token", "a..b", "token 2 is empty", "token 2 is empty"},
		{"leading dot", ".a", "token 1 is empty", "token 1 is empty"},
		{"trailing dot", "a.", "token 2 is empty", "token 2 is empty"},
		{"space", "a b", "token 1 contains whitespace", "token 1 contains whitespace"},
		{"nbsp", "a.b\u00a0", "token 2 contains whitespace", "token 2 contains whitespace"},
		{"control", "a\x01", "token 1 contains whitespace or a control", "token 1 contains whitespace or a control"},
		{"bad utf8", "a.\xff", "token 2 is not valid UTF-8", "token 2 is not valid UTF-8"},
		{"too long", strings.Repeat("a", MaxSubjectLen+1), "is 257 bytes long", "is 257 bytes long"},
		{"longest", strings.Repeat("a", MaxSubjectLen), "", ""},
		{"star", "a.*", "contains a wildcard", ""},
		{"gt", "a.>", "contains a wildcard", ""},
		{"only gt", ">", "contains a wildcard", ""},
		{"gt not last", "a.>.b", "contains a wildcard", "has '>' as token 2"},
		{"star in token", "a.b*", "contains a wildcard", "token 2 mixes a wildcard"},
		{"gt in token", "a>", "contains a wildcard", "token 1 mixes a wildcard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(fn string, err error, want string) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Errorf("%s(%q) = %v, want nil", fn, tt.s, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), want) || kurir.ErrorCode(err) != kurir.EInvalid || kurir.ErrorReason(err) != "invalid_subject" {
					t.Errorf("%s(%q) = %v, want an EInvalid invalid_subject error containing %q", fn, tt.s, err, want)
				}
			}
			check("ValidateSubject", ValidateSubject(tt.s), tt.subject)
			check("ValidatePattern", ValidatePattern(tt.s), tt.pattern)
		})
	}
}

func FuzzValidatePattern(f *testing.F) {
	for _, s := range []string{"a", "a.b", "a.*", "a.>", "*.>", "a..b", "a b", "\xff"} {
		f.Add(s, "a.b.c")
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		if ValidatePattern(pattern) != nil || ValidateSubject(subject) != nil {
			return
		}
		got := match(pattern, subject)
		// Reference: token by token.
		pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
		want := true
		for i, p := range pt {
			if p == ">" {
				want = len(st) > i
				break
			}
			if i >= len(st) || (p != "*" && p != st[i]) {
				want = false
				break
			}
			if i == len(pt)-1 && len(st) != len(pt) {
				want = false
			}
		}
		if got != want {
			t.Errorf("match(%q, %q) = %v, want %v", pattern, subject, got, want)
		}
		if isLiteral(pattern) && got != (pattern == subject) {
			t.Errorf("literal %q matches %q: %v", pattern, subject, got)
		}
	})
}
